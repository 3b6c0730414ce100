"""What one build of DataHub MCPs shares: the catalog snapshot, its indexes and the URNs.

``CatalogSnapshot`` is what a push reads from the catalog (``read_catalog``) and
``BuildResult`` what a build makes of it. ``BuildContext`` indexes the snapshot (jobs by
name, writers and column edges by dataset), names every entity once (dataset, field, flow,
job and query URNs, memoized: a column is named by every lineage that touches it) and
collects the MCPs; the aspect builders of ``connectors.datahub.upstreams``,
``connectors.datahub.datasets`` and ``connectors.datahub.jobs`` extend it.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from datahub.emitter.mce_builder import (
    make_data_flow_urn,
    make_data_job_urn_with_flow,
    make_group_urn,
    make_schema_field_urn,
    make_user_urn,
)
from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.metadata import schema_classes as sc
from datahub.metadata.urns import DatasetUrn
from datahub.utilities.urn_encoder import UrnEncoder

from connectors.datahub.errors import translate
from connectors.datahub.events import millis
from connectors.datahub.naming import (
    KNOWN_PLATFORMS,
    OwnerKind,
    dataset_name,
    field_path,
    job_ids,
    owner_kind,
    platform_for,
)
from connectors.datahub.settings import DataHubSettings
from lineage.catalog.drift import StoredDrift
from lineage.catalog.read import CurrentSchema, RecordedTimes
from lineage.catalog.store import Catalog
from lineage.model import ColumnEdge, Dataset, DatasetId, DatasetProfile, Job
from lineage.views import CheckResult, ObservedSchema, RunRecord

__all__ = ["MCP", "BuildContext", "BuildResult", "CatalogSnapshot", "ownership", "read_catalog"]

MCP = MetadataChangeProposalWrapper


@dataclass(frozen=True)
class CatalogSnapshot:
    """What a push reads from the catalog, in one place (tests build it by hand).

    ``live`` holds the newest live schema of each introspected dataset and ``profiles``
    the latest profile of each of them; ``times`` when the catalog recorded each dataset,
    job and current schema (the audit stamps; None: a snapshot built by hand, whose
    stamps say time 0) and ``drift`` every stored drift finding, resolved ones included.
    """

    datasets: Sequence[Dataset] = ()
    jobs: Sequence[Job] = ()
    edges: Sequence[ColumnEdge] = ()
    runs: Sequence[RunRecord] = ()
    checks: Sequence[CheckResult] = ()
    live: Mapping[DatasetId, ObservedSchema] = field(default_factory=dict)
    profiles: Sequence[DatasetProfile] = ()
    times: RecordedTimes | None = None
    drift: Sequence[StoredDrift] = ()


@dataclass
class BuildResult:
    """The MCPs of a snapshot and what could not be mapped exactly."""

    mcps: list[MCP] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def read_catalog(catalog: Catalog, max_runs: int = 1000) -> CatalogSnapshot:
    """Everything a push needs from the catalog (the newest ``max_runs`` runs).

    Profiles are read for the introspected datasets only (profiling reads a live table),
    one query each: the catalog has no bulk read of latest profiles yet.
    """
    live = catalog.live_schemas()
    profiles = [catalog.latest_profile(dataset) for dataset in sorted(live)]
    times = catalog.recorded_times()
    return CatalogSnapshot(
        datasets=catalog.datasets(),
        jobs=catalog.jobs(),
        edges=catalog.column_edges(),
        runs=catalog.runs(limit=max_runs) if max_runs else [],
        checks=catalog.check_results(),
        live=live,
        profiles=[p for p in profiles if p is not None],
        times=times,
        drift=catalog.drift_findings(open_only=False),
    )


class BuildContext:
    """The snapshot's indexes, the names made so far and the MCPs built (one per build)."""

    def __init__(self, snapshot: CatalogSnapshot, settings: DataHubSettings) -> None:
        self.snapshot = snapshot
        self.settings = settings
        self.result = BuildResult()
        self.datasets = {d.id: d for d in snapshot.datasets}
        self.jobs_by_name: dict[str, list[Job]] = defaultdict(list)
        self.writers: dict[DatasetId, list[Job]] = defaultdict(list)
        for job in snapshot.jobs:
            self.jobs_by_name[job.name].append(job)
            for output in job.outputs:
                self.writers[output].append(job)
        self.edges_by_target: dict[DatasetId, list[ColumnEdge]] = defaultdict(list)
        self.edges_by_job: dict[str, list[ColumnEdge]] = defaultdict(list)
        for edge in snapshot.edges:
            self.edges_by_target[edge.target].append(edge)
            if edge.job is not None:
                self.edges_by_job[edge.job].append(edge)
        self._urns: dict[DatasetId, str] = {}
        self._field_urns: dict[tuple[DatasetId, str], str] = {}
        self._target_lineage: dict[DatasetId, list[sc.FineGrainedLineageClass]] = {}
        self._query_urns: dict[tuple[str, str], str] = {}
        self._platforms: dict[DatasetId, str] = {}
        self._unknown_platforms: set[str] = set()
        self.flows: dict[str, tuple[str, str, str]] = {}  # urn -> orchestrator, flow, namespace
        self.assertions: dict[tuple[DatasetId, str, str | None], str] = {}
        self.event_only_jobs: set[str] = set()

    # -- naming --------------------------------------------------------------------------

    def platform(self, dataset: DatasetId) -> str:
        found = self._platforms.get(dataset)
        if found is None:
            found = platform_for(dataset.namespace, self.settings.platforms)
            self._platforms[dataset] = found
            mapped = set(self.settings.platforms.values())
            if found not in KNOWN_PLATFORMS and found not in mapped:  # a mapping is on purpose
                self._unknown_platforms.add(found)
        return found

    def urn(self, dataset: DatasetId) -> str:
        found = self._urns.get(dataset)
        if found is None:
            platform = self.platform(dataset)
            name = dataset_name(dataset, platform, self.settings.case)
            try:
                found = DatasetUrn.create_from_ids(
                    platform_id=platform,
                    table_name=name,
                    env=self.settings.env,
                    platform_instance=self.settings.platform_instance,
                ).urn()
            except Exception as exc:  # the SDK raises InvalidUrnError, AssertionError...
                what = f"cannot name dataset {dataset} in DataHub"
                raise translate(exc, what, obj=str(dataset)) from exc
            self._urns[dataset] = found
        return found

    def field_urn(self, dataset: DatasetId, column: str) -> str:
        key = (dataset, column)
        found = self._field_urns.get(key)
        if found is None:  # memoized: a column is named by every lineage that touches it
            path = field_path(column, self.platform(dataset), self.settings.case)
            found = self._field_urns[key] = make_schema_field_urn(self.urn(dataset), path)
        return found

    def job_urns(self, namespace: str, name: str, kind: str) -> tuple[str, str]:
        """(flow urn, job urn); records the flow for its dataFlowInfo."""
        orchestrator, flow_id, job_id = job_ids(namespace, name, kind)
        flow_urn = make_data_flow_urn(
            orchestrator,
            UrnEncoder.encode_string(flow_id),
            cluster=self.settings.env.lower(),
            platform_instance=self.settings.platform_instance,
        )
        self.flows.setdefault(flow_urn, (orchestrator, flow_id, namespace))
        return flow_urn, make_data_job_urn_with_flow(flow_urn, UrnEncoder.encode_string(job_id))

    def job_of(self, name: str | None) -> Job | None:
        found = self.jobs_by_name.get(name or "", [])
        return found[0] if len(found) == 1 else None

    def query_urn(self, job: Job | None) -> str | None:
        if job is None or not job.sql:
            return None
        key = (job.namespace, job.name)
        found = self._query_urns.get(key)
        if found is None:  # named by the job, not the SQL: an edited query stays one entity
            digest = hashlib.sha256(f"{job.namespace}\x1f{job.name}".encode()).hexdigest()
            found = self._query_urns[key] = f"urn:li:query:silverline-{digest[:32]}"
        return found

    # -- audit stamps ----------------------------------------------------------------------

    def stamp(self, moment: datetime | None) -> sc.AuditStampClass:
        """An audit stamp at ``moment`` (time 0 when unknown) by the configured actor."""
        time = 0 if moment is None else millis(moment)
        return sc.AuditStampClass(time=time, actor=self.settings.actor)

    def dataset_time(self, dataset: DatasetId) -> datetime | None:
        """When the catalog last recorded ``dataset``'s row (``datasets.updated_at``)."""
        times = self.snapshot.times
        return None if times is None else times.datasets.get(dataset)

    def job_time(self, job: Job) -> datetime | None:
        """When the catalog last recorded ``job`` (``jobs.updated_at``: it changes with the
        job's SQL, IO or edges)."""
        times = self.snapshot.times
        return None if times is None else times.jobs.get((job.namespace, job.name))

    def jobs_time(self, names: Iterable[str]) -> datetime | None:
        """The newest recording of the jobs named ``names`` (any namespace)."""
        moments = [
            moment
            for name in names
            for job in self.jobs_by_name.get(name, ())
            if (moment := self.job_time(job)) is not None
        ]
        return max(moments, default=None)

    def current_schema(self, dataset: DatasetId) -> CurrentSchema | None:
        """The catalog's version of ``dataset``'s current columns, or None."""
        times = self.snapshot.times
        return None if times is None else times.schemas.get(dataset)

    def _emit(self, urn: str, *aspects: sc._Aspect | None) -> None:
        self.result.mcps.extend(MCP(entityUrn=urn, aspect=a) for a in aspects if a is not None)


def ownership(
    owners: Sequence[str], stamp: sc.AuditStampClass | None = None
) -> sc.OwnershipClass | None:
    """The ``ownership`` aspect of a dataset's or a job's owners (technical owners),
    ``stamp`` saying when the catalog recorded them and by whom."""
    if not owners:
        return None
    found: dict[str, None] = {}
    for owner in owners:
        kind, ident = owner_kind(owner)
        if ident:
            found[make_group_urn(ident) if kind is OwnerKind.GROUP else make_user_urn(ident)] = None
    return sc.OwnershipClass(
        owners=[
            sc.OwnerClass(owner=urn, type=sc.OwnershipTypeClass.TECHNICAL_OWNER) for urn in found
        ],
        lastModified=stamp,
    )
