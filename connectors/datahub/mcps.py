"""Catalog objects -> DataHub MCPs: datasets, lineage, flows, jobs, queries, runs, assertions.

Every aspect is a pure function of the catalog and the settings, so the same catalog
builds byte-identical aspects and the push state can tell what changed. Audit stamps
therefore carry time 0 (DataHub's "unknown") except on runs and check results, whose
times are real events.

What each catalog object becomes::

    Dataset     dataset: status, datasetProperties, subTypes, schemaMetadata, ownership,
                globalTags, dataPlatformInstance (with a platform instance)
    ColumnEdge  the target dataset's upstreamLineage: one Upstream per source dataset
                (TRANSFORMED; VIEW for views) and one FineGrainedLineage per output column,
                job and transformation (FIELD_SET -> FIELD, transformOperation
                "DIRECT:IDENTITY", confidenceScore 1.0, query = the job's query).
                Dataset-level edges (WHERE, JOIN keys, GROUP BY) become FIELD_SET ->
                FIELD_SET lineages onto every column of the target, as in our graph.
    Job         dataFlow (dataFlowInfo, status) + dataJob (dataJobInfo, dataJobInputOutput
                with field lists and fine-grained lineage, dataTransformLogic, ownership,
                status) + query (queryProperties, querySubjects) when it has SQL
    run         dataProcessInstance: properties, relationships (parentTemplate = the job),
                input/output, run events STARTED and COMPLETE (SUCCESS / FAILURE)
    DataTest    assertion: assertionInfo (DATASET, column scope, nativeType = test name)
    check       assertionRunEvent (SUCCESS / FAILURE / ERROR) on the matching assertion

Runs and checks are mapped in ``connectors.datahub.events``; the naming rules (platforms,
dataset names, types, owners, flows) live in ``connectors.datahub.naming``.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from datahub.emitter.mce_builder import (
    UNKNOWN_USER,
    make_data_flow_urn,
    make_data_job_urn_with_flow,
    make_data_platform_urn,
    make_dataplatform_instance_urn,
    make_group_urn,
    make_schema_field_urn,
    make_tag_urn,
    make_user_urn,
)
from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.metadata import schema_classes as sc
from datahub.metadata.urns import DatasetUrn
from datahub.utilities.urn_encoder import UrnEncoder

from connectors.datahub import events
from connectors.datahub.errors import translate
from connectors.datahub.naming import (
    KNOWN_PLATFORMS,
    FieldTypeName,
    OwnerKind,
    dataset_name,
    field_path,
    field_type,
    job_ids,
    owner_kind,
    platform_for,
    short_name,
    transform_operation,
)
from connectors.datahub.settings import DataHubSettings
from lineage.catalog.store import Catalog
from lineage.model import ColumnEdge, Dataset, DatasetId, DatasetKind, DataTest, Job
from lineage.views import CheckResult, RunRecord

__all__ = ["BuildResult", "CatalogSnapshot", "build", "read_catalog", "retraction"]

MCP = MetadataChangeProposalWrapper
_ZERO_STAMP = sc.AuditStampClass(time=0, actor=UNKNOWN_USER)

_SUBTYPES = {
    DatasetKind.TABLE: "Table",
    DatasetKind.VIEW: "View",
    DatasetKind.MATERIALIZED_VIEW: "Materialized View",
    DatasetKind.SOURCE: "Source",
    DatasetKind.SEED: "Seed",
    DatasetKind.SNAPSHOT: "Snapshot",
    DatasetKind.LOCATION: "Location",
}
_VIEW_KINDS = frozenset({DatasetKind.VIEW, DatasetKind.MATERIALIZED_VIEW})
_TYPE_CLASSES: dict[FieldTypeName, Any] = {
    FieldTypeName.STRING: sc.StringTypeClass,
    FieldTypeName.NUMBER: sc.NumberTypeClass,
    FieldTypeName.BOOLEAN: sc.BooleanTypeClass,
    FieldTypeName.DATE: sc.DateTypeClass,
    FieldTypeName.TIME: sc.TimeTypeClass,
    FieldTypeName.BYTES: sc.BytesTypeClass,
    FieldTypeName.ARRAY: sc.ArrayTypeClass,
    FieldTypeName.MAP: sc.MapTypeClass,
    FieldTypeName.RECORD: sc.RecordTypeClass,
    FieldTypeName.ENUM: sc.EnumTypeClass,
    FieldTypeName.NULL: sc.NullTypeClass,
}
# Entities only Silverline creates: soft-deleted when they leave the catalog.
_SOFT_DELETED = frozenset({"dataFlow", "dataJob", "query", "assertion"})


@dataclass(frozen=True)
class CatalogSnapshot:
    """What a push reads from the catalog, in one place (tests build it by hand)."""

    datasets: Sequence[Dataset] = ()
    jobs: Sequence[Job] = ()
    edges: Sequence[ColumnEdge] = ()
    runs: Sequence[RunRecord] = ()
    checks: Sequence[CheckResult] = ()


@dataclass
class BuildResult:
    """The MCPs of a snapshot and what could not be mapped exactly."""

    mcps: list[MCP] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def read_catalog(catalog: Catalog, max_runs: int = 1000) -> CatalogSnapshot:
    """Everything a push needs from the catalog (the newest ``max_runs`` runs)."""
    return CatalogSnapshot(
        datasets=catalog.datasets(),
        jobs=catalog.jobs(),
        edges=catalog.column_edges(),
        runs=catalog.runs(limit=max_runs) if max_runs else [],
        checks=catalog.check_results(),
    )


def build(snapshot: CatalogSnapshot, settings: DataHubSettings) -> BuildResult:
    """The MCPs of a catalog snapshot, datasets first, in a stable order.

    Raises:
        PermanentConnectorError: a name cannot become a DataHub URN (the message names it).
    """
    return _Builder(snapshot, settings).run()


def retraction(urn: str, aspect: str, *, entity_gone: bool) -> MCP | None:
    """The MCP undoing an aspect an earlier push sent, or None if it is left alone.

    A whole flow, job, query or assertion that is gone is soft-deleted
    (``status.removed``); lineage, owners, tags and job IO that are gone are sent empty.
    Datasets are never soft-deleted: DataHub's own ingestion may own them.
    """
    entity = urn.split(":", 3)[2] if urn.count(":") >= 3 else ""
    if entity_gone and entity in _SOFT_DELETED:
        return MCP(entityUrn=urn, aspect=sc.StatusClass(removed=True))
    empty: sc._Aspect | None = None
    if aspect == "upstreamLineage":
        empty = sc.UpstreamLineageClass(upstreams=[])
    elif aspect == "ownership":
        empty = sc.OwnershipClass(owners=[])
    elif aspect == "globalTags":
        empty = sc.GlobalTagsClass(tags=[])
    elif aspect == "dataJobInputOutput":
        empty = sc.DataJobInputOutputClass(inputDatasets=[], outputDatasets=[])
    return MCP(entityUrn=urn, aspect=empty) if empty is not None else None


class _Builder:
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

    def run(self) -> BuildResult:
        all_datasets = sorted(
            set(self.datasets)
            | {e.target for e in self.snapshot.edges}
            | {e.source.dataset for e in self.snapshot.edges}
            | {d for job in self.snapshot.jobs for d in (*job.inputs, *job.outputs)}
        )
        for dataset_id in all_datasets:
            self._dataset(dataset_id)
        for job in self.snapshot.jobs:
            self._job(job)
        for run in sorted(self.snapshot.runs, key=lambda r: (r.first_event_at, r.run_id)):
            self._run(run)
        for check in self.snapshot.checks:
            self._check(check)
        for flow_urn, (orchestrator, flow_id, namespace) in sorted(self.flows.items()):
            self._emit(
                flow_urn,
                sc.DataFlowInfoClass(
                    name=flow_id,
                    customProperties={"namespace": namespace, "orchestrator": orchestrator},
                    env=self.settings.env,
                ),
                sc.StatusClass(removed=False),
            )
        for platform in sorted(self._unknown_platforms):
            self.result.warnings.append(
                f"platform {platform!r} is not one DataHub ships; set datahub.platforms "
                "to map its namespace if DataHub's own ingestion names it differently"
            )
        return self.result

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

    def _emit(self, urn: str, *aspects: sc._Aspect | None) -> None:
        self.result.mcps.extend(MCP(entityUrn=urn, aspect=a) for a in aspects if a is not None)

    # -- datasets ------------------------------------------------------------------------

    def _dataset(self, dataset_id: DatasetId) -> None:
        urn = self.urn(dataset_id)
        dataset = self.datasets.get(dataset_id)
        aspects: list[sc._Aspect | None] = [sc.StatusClass(removed=False)]
        if dataset is not None and _is_described(dataset):
            aspects += [
                self._properties(dataset),
                self._subtypes(dataset),
                self._schema(dataset),
                _ownership(dataset.owners),
                _tags(dataset.tags),
            ]
        if self.settings.platform_instance:
            aspects.append(
                sc.DataPlatformInstanceClass(
                    platform=make_data_platform_urn(self.platform(dataset_id)),
                    instance=make_dataplatform_instance_urn(
                        self.platform(dataset_id), self.settings.platform_instance
                    ),
                )
            )
        aspects.append(self._upstream_lineage(dataset_id))
        self._emit(urn, *aspects)
        if dataset is not None:
            for test in sorted(dataset.tests):
                self._assertion(dataset_id, test)

    def _properties(self, dataset: Dataset) -> sc.DatasetPropertiesClass:
        platform = self.platform(dataset.id)
        name = dataset_name(dataset.id, platform, self.settings.case)
        try:
            meta = json.loads(dataset.meta or "{}")
        except ValueError:
            meta = {"meta": dataset.meta}
        custom = events.text_map(meta if isinstance(meta, dict) else {"meta": meta})
        # Our own keys win over same-named meta keys: they describe where this came from.
        custom.update(
            events.text_map(
                {
                    "namespace": dataset.id.namespace,
                    "kind": dataset.kind.value,
                    "source_file": dataset.source_file,
                    "contract_enforced": "true" if dataset.contract_enforced else None,
                }
            )
        )
        if dataset.freshness is not None:
            custom.update(
                events.text_map(
                    {
                        "freshness.loaded_at_field": dataset.freshness.loaded_at_field,
                        "freshness.warn_after": dataset.freshness.warn_after,
                        "freshness.error_after": dataset.freshness.error_after,
                    }
                )
            )
        return sc.DatasetPropertiesClass(
            name=short_name(name, platform),
            qualifiedName=name,
            description=dataset.description,
            customProperties=custom,
        )

    def _subtypes(self, dataset: Dataset) -> sc.SubTypesClass | None:
        names = []
        if any(j.kind == "dbt_model" for j in self.writers.get(dataset.id, ())):
            names.append("Model")
        if dataset.kind in _SUBTYPES:
            names.append(_SUBTYPES[dataset.kind])
        return sc.SubTypesClass(typeNames=names) if names else None

    def _schema(self, dataset: Dataset) -> sc.SchemaMetadataClass | None:
        if dataset.schema is None or not dataset.schema.fields:
            return None
        platform = self.platform(dataset.id)
        not_null = {t.column for t in dataset.tests if t.name == "not_null" and t.column}
        fields = []
        for column in dataset.schema.fields:
            kind = field_type(column.type)
            native = column.type or "unknown"
            fields.append(
                sc.SchemaFieldClass(
                    fieldPath=field_path(column.name, platform, self.settings.case),
                    type=sc.SchemaFieldDataTypeClass(type=_TYPE_CLASSES[kind]()),
                    nativeDataType=native,
                    # Nullable unless a not_null test or the type itself says otherwise.
                    nullable=column.name not in not_null and "not null" not in native.lower(),
                    description=column.description,
                )
            )
        doc = [[f.name, f.type, f.description] for f in dataset.schema.fields]
        return sc.SchemaMetadataClass(
            schemaName=dataset_name(dataset.id, platform, self.settings.case),
            platform=make_data_platform_urn(platform),
            version=0,
            hash=hashlib.sha256(json.dumps(doc).encode()).hexdigest(),
            platformSchema=sc.OtherSchemaClass(rawSchema=""),
            fields=fields,
        )

    # -- lineage -------------------------------------------------------------------------

    def _upstream_lineage(self, target: DatasetId) -> sc.UpstreamLineageClass | None:
        edges = self.edges_by_target.get(target, [])
        sources: dict[DatasetId, set[str]] = defaultdict(set)
        for edge in edges:
            sources[edge.source.dataset].add(edge.job or "")
        # A job writing only this dataset reads its inputs for it (dbt models); a
        # multi-output script's inputs are not attributed to every output.
        for job in self.writers.get(target, ()):
            if len(set(job.outputs)) == 1:
                for source in job.inputs:
                    sources[source].add(job.name)
        sources.pop(target, None)
        if not sources:
            return None
        lineage_type = (
            sc.DatasetLineageTypeClass.VIEW
            if target in self.datasets and self.datasets[target].kind in _VIEW_KINDS
            else sc.DatasetLineageTypeClass.TRANSFORMED
        )
        upstreams = []
        for source in sorted(sources):
            jobs = sources[source] - {""}
            query = self.query_urn(self.job_of(next(iter(jobs)))) if len(jobs) == 1 else None
            upstreams.append(
                sc.UpstreamClass(dataset=self.urn(source), type=lineage_type, query=query)
            )
        fine = self._target_lineage[target] = self._fine_grained(target, edges)
        return sc.UpstreamLineageClass(upstreams=upstreams, fineGrainedLineages=fine or None)

    def _target_columns(self, target: DatasetId, edges: Iterable[ColumnEdge]) -> list[str]:
        dataset = self.datasets.get(target)
        if dataset is not None and dataset.schema is not None and dataset.schema.fields:
            return list(dataset.schema.names)
        # No schema: the columns lineage names are the columns we know.
        return sorted({e.target_field for e in edges if e.target_field})

    def _fine_grained(
        self, target: DatasetId, edges: Sequence[ColumnEdge]
    ) -> list[sc.FineGrainedLineageClass]:
        groups: dict[tuple[str, str, str], set[str]] = defaultdict(set)
        for edge in edges:
            operation = transform_operation(edge.transformations)
            groups[(edge.target_field or "", edge.job or "", operation)].add(
                self.field_urn(edge.source.dataset, edge.source.name)
            )
        columns = self._target_columns(target, edges)
        position = {name: i for i, name in enumerate(columns)}
        every_column = [self.field_urn(target, c) for c in columns]
        out = []
        # Output columns in schema order, then what shapes every row (WHERE, JOIN, ...).
        for (column, job_name, operation), upstreams in sorted(
            groups.items(),
            key=lambda item: (not item[0][0], position.get(item[0][0], len(position)), item[0]),
        ):
            if column:
                downstream_type = sc.FineGrainedLineageDownstreamTypeClass.FIELD
                downstreams = [self.field_urn(target, column)]
            else:
                if not every_column:
                    continue  # kept as the dataset-level upstream only
                downstream_type = sc.FineGrainedLineageDownstreamTypeClass.FIELD_SET
                downstreams = every_column
            out.append(
                sc.FineGrainedLineageClass(
                    upstreamType=sc.FineGrainedLineageUpstreamTypeClass.FIELD_SET,
                    upstreams=sorted(upstreams),
                    downstreamType=downstream_type,
                    downstreams=downstreams,
                    transformOperation=operation,
                    # The catalog keeps no per-edge confidence: what it stores was resolved.
                    confidenceScore=1.0,
                    query=self.query_urn(self.job_of(job_name)),
                )
            )
        return out

    # -- jobs, flows, queries --------------------------------------------------------------

    def _job(self, job: Job) -> None:
        flow_urn, job_urn = self.job_urns(job.namespace, job.name, job.kind)
        edges = self.edges_by_job.get(job.name, [])
        if len(self.jobs_by_name[job.name]) > 1:
            edges = [e for e in edges if e.target in job.outputs]
        query = self.query_urn(job)
        by_target: dict[DatasetId, list[ColumnEdge]] = defaultdict(list)
        for edge in edges:
            by_target[edge.target].append(edge)
        fine: list[sc.FineGrainedLineageClass] = []
        for target in sorted(by_target):
            if len(by_target[target]) == len(self.edges_by_target[target]):
                # This job writes all the target's lineage (the usual case): the same
                # records as the dataset's upstreamLineage, built once.
                fine.extend(self._target_lineage.get(target, ()))
            else:
                fine.extend(self._fine_grained(target, by_target[target]))
        self._emit(
            job_urn,
            sc.DataJobInfoClass(
                name=job.name,
                type="SQL" if job.sql or job.kind.startswith(("sql", "dbt")) else "COMMAND",
                description=job.description,
                flowUrn=flow_urn,
                customProperties=events.text_map(
                    {"kind": job.kind, "namespace": job.namespace, "source_file": job.source_file}
                ),
                env=self.settings.env,
            ),
            sc.DataJobInputOutputClass(
                inputDatasets=[self.urn(d) for d in job.inputs],
                outputDatasets=[self.urn(d) for d in job.outputs],
                inputDatasetFields=sorted(
                    {self.field_urn(e.source.dataset, e.source.name) for e in edges}
                )
                or None,
                outputDatasetFields=sorted(
                    {self.field_urn(e.target, e.target_field) for e in edges if e.target_field}
                )
                or None,
                fineGrainedLineages=fine or None,
            ),
            sc.DataTransformLogicClass(
                transforms=[
                    sc.DataTransformClass(
                        queryStatement=sc.QueryStatementClass(
                            value=job.sql, language=sc.QueryLanguageClass.SQL
                        )
                    )
                ]
            )
            if job.sql
            else None,
            _ownership(job.owners),
            sc.StatusClass(removed=False),
        )
        if query is not None and job.sql:
            subjects = sorted({self.urn(d) for d in (*job.inputs, *job.outputs)})
            first = next(iter(job.outputs or job.inputs), None)
            self._emit(
                query,
                sc.QueryPropertiesClass(
                    statement=sc.QueryStatementClass(
                        value=job.sql, language=sc.QueryLanguageClass.SQL
                    ),
                    source=sc.QuerySourceClass.SYSTEM,
                    created=_ZERO_STAMP,
                    lastModified=_ZERO_STAMP,
                    name=job.name,
                    customProperties=events.text_map(
                        {"job": job.name, "source_file": job.source_file}
                    ),
                ),
                sc.QuerySubjectsClass(subjects=[sc.QuerySubjectClass(entity=u) for u in subjects]),
                sc.DataPlatformInstanceClass(platform=make_data_platform_urn(self.platform(first)))
                if first is not None
                else None,
                sc.StatusClass(removed=False),
            )

    # -- runs and checks -----------------------------------------------------------------

    def _run(self, run: RunRecord) -> None:
        job = self.job_of(run.job_name)
        candidates = self.jobs_by_name.get(run.job_name, [])
        if job is None and candidates:  # the same name in several namespaces: say which
            job = candidates[0]
            self.result.warnings.append(
                f"run {run.run_id}: job {run.job_name!r} is in several namespaces; "
                f"attached to {job.namespace}"
            )
        if job is not None:
            _, job_urn = self.job_urns(job.namespace, job.name, job.kind)
        else:
            # A run of a job the catalog only knows from its events: give it a home.
            namespace = str(run.facets.get("jobNamespace") or "default")
            flow_urn, job_urn = self.job_urns(namespace, run.job_name, "run")
            if job_urn not in self.event_only_jobs:
                self.event_only_jobs.add(job_urn)
                info = sc.DataJobInfoClass(
                    name=run.job_name, type="COMMAND", flowUrn=flow_urn, env=self.settings.env
                )
                self._emit(job_urn, info, sc.StatusClass(removed=False))
        self.result.mcps.extend(events.run_mcps(run, job_urn, job, self.urn))

    def _assertion(self, dataset_id: DatasetId, test: DataTest) -> str:
        dataset_urn = self.urn(dataset_id)
        urn = events.assertion_urn(dataset_urn, test)
        # A check result names (dataset, test, column): the first such test takes it.
        self.assertions.setdefault((dataset_id, test.name, test.column), urn)
        field = self.field_urn(dataset_id, test.column) if test.column else None
        self.result.mcps.extend(events.assertion_mcps(urn, dataset_urn, field, test))
        return urn

    def _check(self, check: CheckResult) -> None:
        dataset_id = check.dataset
        urn = self.assertions.get((dataset_id, check.check, check.column))
        if urn is None:  # a check no declared test describes becomes its own assertion
            urn = self._assertion(dataset_id, DataTest(check.check, check.column))
        self.result.mcps.append(events.check_mcp(urn, self.urn(dataset_id), check))


def _is_described(dataset: Dataset) -> bool:
    """Whether we know anything about a dataset beyond its name (else we only reference
    it, and leave its properties to whoever ingests it)."""
    return bool(
        dataset.kind is not DatasetKind.UNKNOWN
        or dataset.description
        or dataset.owners
        or dataset.tags
        or dataset.meta not in ("", "{}")
        or dataset.source_file
        or (dataset.schema is not None and dataset.schema.fields)
    )


def _ownership(owners: Sequence[str]) -> sc.OwnershipClass | None:
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
        ]
    )


def _tags(tags: Sequence[str]) -> sc.GlobalTagsClass | None:
    if not tags:
        return None
    urns = dict.fromkeys(make_tag_urn(t) for t in tags if t)
    return sc.GlobalTagsClass(tags=[sc.TagAssociationClass(tag=u) for u in urns])
