"""Job aspects: dataFlow, dataJob and query, and the runs of each job.

A job becomes a dataJob (dataJobInfo, dataJobInputOutput with field lists and fine-grained
lineage, dataTransformLogic, ownership, status) in its flow's dataFlow, and a query
(queryProperties, querySubjects) when it has SQL. A run becomes a dataProcessInstance of
its job (``connectors.datahub.events``); a run of a job the catalog knows only from its
events gets a job of its own.
"""

from __future__ import annotations

from collections import defaultdict

from datahub.emitter.mce_builder import make_data_platform_urn
from datahub.metadata import schema_classes as sc

from connectors.datahub import events
from connectors.datahub.context import ownership
from connectors.datahub.upstreams import UpstreamAspects
from lineage.model import ColumnEdge, DatasetId, Job
from lineage.views import RunRecord

__all__ = ["JobAspects"]


class JobAspects(UpstreamAspects):
    """Builds the MCPs of flows, jobs, queries and runs."""

    def _job(self, job: Job) -> None:
        flow_urn, job_urn = self.job_urns(job.namespace, job.name, job.kind)
        edges = self.edges_by_job.get(job.name, [])
        if len(self.jobs_by_name[job.name]) > 1:
            edges = [e for e in edges if e.target in job.outputs]
        query = self.query_urn(job)
        # The catalog keeps when a job last changed, not when it first appeared: the
        # query's created and lastModified stamps, and its owners', both say that time.
        stamp = self.stamp(self.job_time(job))
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
            ownership(job.owners, stamp),
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
                    created=stamp,
                    lastModified=stamp,
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

    def _run(self, run: RunRecord) -> None:
        job = self.job_of(run.job_name)
        candidates = self.jobs_by_name.get(run.job_name, [])
        if job is None and candidates:  # the same name in several namespaces
            job = next((c for c in candidates if c.namespace == run.job_namespace), None)
            if job is None:  # a run recorded without its job's namespace: say which
                job = candidates[0]
                self.result.warnings.append(
                    f"run {run.run_id}: job {run.job_name!r} is in several namespaces; "
                    f"attached to {job.namespace}"
                )
        if job is not None:
            _, job_urn = self.job_urns(job.namespace, job.name, job.kind)
        else:
            # A run of a job the catalog only knows from its events: give it a home.
            namespace = run.job_namespace or str(run.facets.get("jobNamespace") or "default")
            flow_urn, job_urn = self.job_urns(namespace, run.job_name, "run")
            if job_urn not in self.event_only_jobs:
                self.event_only_jobs.add(job_urn)
                info = sc.DataJobInfoClass(
                    name=run.job_name, type="COMMAND", flowUrn=flow_urn, env=self.settings.env
                )
                self._emit(job_urn, info, sc.StatusClass(removed=False))
        self.result.mcps.extend(
            events.run_mcps(run, job_urn, job, self.urn, actor=self.settings.actor)
        )

    def _flow_infos(self) -> None:
        """The dataFlowInfo of every flow a job or run was named in."""
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
