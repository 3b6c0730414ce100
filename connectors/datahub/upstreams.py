"""A dataset's ``upstreamLineage``: its upstream datasets and fine-grained column lineage.

One ``Upstream`` per source dataset (TRANSFORMED; VIEW for views), and one
``FineGrainedLineage`` per output column, job and transformation (FIELD_SET -> FIELD);
dataset-level edges (WHERE, JOIN keys, GROUP BY) become FIELD_SET -> FIELD_SET lineages onto
every column of the target. A job's ``dataJobInputOutput`` reuses the same records.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from datahub.metadata import schema_classes as sc

from connectors.datahub.context import BuildContext
from connectors.datahub.naming import transform_operation
from lineage.model import ColumnEdge, DatasetId, DatasetKind

__all__ = ["UpstreamAspects"]

_VIEW_KINDS = frozenset({DatasetKind.VIEW, DatasetKind.MATERIALIZED_VIEW})


class UpstreamAspects(BuildContext):
    """Builds the lineage aspects; the records of each target are kept for its jobs."""

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
            # Recorded when the jobs carrying it were; lineage of no job, with the target.
            when = self.jobs_time(jobs) if jobs else None
            stamp = self.stamp(when or self.dataset_time(target))
            upstreams.append(
                sc.UpstreamClass(
                    dataset=self.urn(source), type=lineage_type, query=query, auditStamp=stamp
                )
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
