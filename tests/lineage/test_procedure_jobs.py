"""A stored procedure scanned from SQL is a job of its own in the catalog."""

from __future__ import annotations

from lineage.model import DatasetId
from lineage.workspace import sql_batch
from parsers.sql import parse_sql
from tests.parsers.sql.test_procedures import PLPGSQL


def test_a_procedure_is_the_job_of_its_body_in_the_catalog() -> None:
    batch = sql_batch(parse_sql(PLPGSQL, dialect="postgres", file="load.sql"))
    jobs = {job.name: job for job in batch.jobs}
    assert sorted(jobs) == ["load.sql", "silver.load"]
    procedure = jobs["silver.load"]
    assert procedure.kind == "sql_procedure" and procedure.source_file == "load.sql"
    assert procedure.inputs == (DatasetId("postgres", "bronze.s"),)
    assert procedure.outputs == (DatasetId("postgres", "silver.t"),)
    assert {e.job for e in batch.edges} == {"silver.load"}  # SELECT 1 has no edges
