"""A run goes to the job of its own namespace when two jobs share a name (a decorated task
running a dbt model, and the model as the dbt reader names it)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from datahub.metadata import schema_classes as sc

from connectors.datahub import mcps as datahub_mcps
from connectors.datahub.settings import DataHubSettings
from lineage.catalog import Catalog
from lineage.model import DatasetId, Job, LineageBatch

T0 = datetime(2026, 11, 30, 6, 0, tzinfo=timezone.utc)
WAREHOUSE = "duckdb:///data/erp.duckdb"
GOLD = DatasetId(WAREHOUSE, "erp.gold.customer_age_groups")


def test_runs_attach_to_the_job_of_their_namespace(tmp_path: Path) -> None:
    settings = DataHubSettings()
    with Catalog(f"sqlite:///{tmp_path / 'c.db'}") as catalog:
        catalog.write(LineageBatch(jobs=(
            Job(WAREHOUSE, "erp.customer_age_groups", kind="dbt_model", outputs=(GOLD,)),
            Job("default", "erp.customer_age_groups", kind="python", outputs=(GOLD,)),
        )))  # fmt: skip
        for run_id, namespace in (("py", "default"), ("dbt", WAREHOUSE), ("old", None)):
            catalog.record_run(run_id, "erp.customer_age_groups", "COMPLETE", T0,
                               job_namespace=namespace)  # fmt: skip
        result = datahub_mcps.build(datahub_mcps.read_catalog(catalog, 10), settings)
    names = {
        m.entityUrn: m.aspect.name
        for m in result.mcps
        if isinstance(m.aspect, sc.DataProcessInstancePropertiesClass)
    }
    parent_of = {
        names[m.entityUrn]: m.aspect.parentTemplate
        for m in result.mcps
        if isinstance(m.aspect, sc.DataProcessInstanceRelationshipsClass)
    }
    job_in = {
        m.aspect.customProperties["namespace"]: m.entityUrn
        for m in result.mcps
        if isinstance(m.aspect, sc.DataJobInfoClass)
    }
    assert parent_of["py"] == job_in["default"] != parent_of["dbt"] == job_in[WAREHOUSE]
    # Only the run recorded without its namespace (before catalog version 7) is a guess.
    guesses = [w for w in result.warnings if "several namespaces" in w]
    assert len(guesses) == 1 and guesses[0].startswith("run old: ")
