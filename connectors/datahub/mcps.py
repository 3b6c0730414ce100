"""Catalog objects -> DataHub MCPs: datasets, lineage, flows, jobs, queries, runs, assertions.

Every aspect is a pure function of the catalog and the settings, so the same catalog
builds byte-identical aspects and the push state can tell what changed. Audit stamps
carry the time the catalog recorded what they describe (a job's or dataset's
``updated_at``, the schema version's time, a run's start, a finding's first sighting) and
the configured actor (``DataHubSettings.actor``, default ``urn:li:corpuser:silverline``);
the push state hashes aspects without their stamps, so a stamp never resends alone.

What each catalog object becomes::

    Dataset     dataset: status, datasetProperties, subTypes, schemaMetadata (version =
                the catalog's schema version of its columns), ownership, globalTags,
                dataPlatformInstance (with a platform instance)
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
    check       assertionRunEvent (SUCCESS / FAILURE / ERROR / INIT) on the matching
                assertion; a check no test declares is an assertion of its own
                (assertionInfo from its label and threshold, dataPlatformInstance
                silverline, status)
    profile     the dataset's datasetProfile (timeseries, the latest profile)
    live schema schemaMetadata nullability and keys where the columns are live;
                viewProperties of a live view
    drift       incident (incidentInfo) per breaking finding: ACTIVE while open, RESOLVED
                once resolved or acknowledged

The aspects are built in ``connectors.datahub.datasets`` (datasets, tests),
``connectors.datahub.assertions`` (check results), ``connectors.datahub.profiles``
(profiles, live schemas), ``connectors.datahub.upstreams`` (lineage) and
``connectors.datahub.jobs`` (flows, jobs, queries, runs) and
``connectors.datahub.incidents`` (drift findings), over the snapshot and URNs of
``connectors.datahub.context``. Runs and declared tests are mapped in
``connectors.datahub.events``; the naming rules (platforms, dataset names, types, owners,
flows) live in ``connectors.datahub.naming``.
"""

from __future__ import annotations

from datahub.metadata import schema_classes as sc

from connectors.datahub.assertions import AssertionAspects
from connectors.datahub.context import MCP, BuildResult, CatalogSnapshot, read_catalog
from connectors.datahub.datasets import DatasetAspects
from connectors.datahub.incidents import IncidentAspects
from connectors.datahub.jobs import JobAspects
from connectors.datahub.settings import DataHubSettings

__all__ = ["BuildResult", "CatalogSnapshot", "build", "read_catalog", "retraction"]

# Entities only Silverline creates: soft-deleted when they leave the catalog.
_SOFT_DELETED = frozenset({"dataFlow", "dataJob", "query", "assertion"})


def build(snapshot: CatalogSnapshot, settings: DataHubSettings) -> BuildResult:
    """The MCPs of a catalog snapshot, datasets first, in a stable order.

    Raises:
        PermanentConnectorError: a name cannot become a DataHub URN (the message names it).
    """
    return _Builder(snapshot, settings).run()


def retraction(
    urn: str, aspect: str, *, entity_gone: bool, stamp: sc.AuditStampClass | None = None
) -> MCP | None:
    """The MCP undoing an aspect an earlier push sent, or None if it is left alone.

    A whole flow, job, query or assertion that is gone is soft-deleted
    (``status.removed``); lineage, owners, tags and job IO that are gone are sent empty
    (emptied owners stamped with ``stamp``). Datasets are never soft-deleted: DataHub's
    own ingestion may own them; nor are incidents (DataHub keeps no ``status`` on them).
    """
    entity = urn.split(":", 3)[2] if urn.count(":") >= 3 else ""
    if entity_gone and entity in _SOFT_DELETED:
        return MCP(entityUrn=urn, aspect=sc.StatusClass(removed=True))
    empty: sc._Aspect | None = None
    if aspect == "upstreamLineage":
        empty = sc.UpstreamLineageClass(upstreams=[])
    elif aspect == "ownership":
        empty = sc.OwnershipClass(owners=[], lastModified=stamp)
    elif aspect == "globalTags":
        empty = sc.GlobalTagsClass(tags=[])
    elif aspect == "dataJobInputOutput":
        empty = sc.DataJobInputOutputClass(inputDatasets=[], outputDatasets=[])
    return MCP(entityUrn=urn, aspect=empty) if empty is not None else None


class _Builder(DatasetAspects, JobAspects, AssertionAspects, IncidentAspects):
    """One build: datasets and profiles first, then jobs, runs, checks, incidents and
    flows, in a stable order."""

    def run(self) -> BuildResult:
        all_datasets = sorted(
            set(self.datasets)
            | {e.target for e in self.snapshot.edges}
            | {e.source.dataset for e in self.snapshot.edges}
            | {d for job in self.snapshot.jobs for d in (*job.inputs, *job.outputs)}
        )
        for dataset_id in all_datasets:
            self._dataset(dataset_id)
        for profile in sorted(self.snapshot.profiles, key=lambda p: (p.dataset, p.observed_at)):
            self._profile(profile)
        for job in self.snapshot.jobs:
            self._job(job)
        for run in sorted(self.snapshot.runs, key=lambda r: (r.first_event_at, r.run_id)):
            self._run(run)
        self._checks(self.snapshot.checks)
        self._incidents(self.snapshot.drift)
        self._flow_infos()
        for platform in sorted(self._unknown_platforms):
            self.result.warnings.append(
                f"platform {platform!r} is not one DataHub ships; set datahub.platforms "
                "to map its namespace if DataHub's own ingestion names it differently"
            )
        return self.result
