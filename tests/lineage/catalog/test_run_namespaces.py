"""A run knows its job's namespace: a decorated task and a dbt model may share a name."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import create_engine, select, text

from lineage.catalog import CURRENT_VERSION, Catalog
from lineage.catalog import tables as cs

T0 = datetime(2026, 11, 30, 6, 0, tzinfo=timezone.utc)


def test_the_first_namespace_a_run_names_is_kept(catalog_url: str) -> None:
    with Catalog(catalog_url) as catalog:
        catalog.record_run("r1", "erp.erp_customers", "START", T0)  # not said yet
        catalog.record_run("r1", "erp.erp_customers", "RUNNING", T0, job_namespace="default")
        catalog.record_run("r1", "erp.erp_customers", "COMPLETE", T0, job_namespace="other")
        catalog.record_run("r2", "erp.erp_customers", "COMPLETE", T0)
        runs = {r.run_id: r.job_namespace for r in catalog.runs()}
    assert runs == {"r1": "default", "r2": None}


def test_a_version_6_catalog_gains_run_namespaces_and_the_run_index(catalog_url: str) -> None:
    with Catalog(catalog_url) as catalog:
        catalog.record_run("old", "erp.load", "COMPLETE", T0, job_namespace="default")
    engine = create_engine(catalog_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP INDEX ix_check_results_run"))
            conn.execute(text("ALTER TABLE runs DROP COLUMN job_namespace"))
            conn.execute(text("UPDATE catalog_version SET version = 6"))
    finally:
        engine.dispose()
    with Catalog(catalog_url) as catalog:  # migrates
        catalog.record_run("new", "erp.load", "COMPLETE", T0, job_namespace="default")
        runs = {r.run_id: r.job_namespace for r in catalog.runs()}
    assert runs == {"old": None, "new": "default"}  # what version 6 never kept stays unknown
    engine = create_engine(catalog_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(select(cs.catalog_version.c.version)).scalar_one() == 7
            # Asked of the database's own catalog: reflection skips the expression index.
            listed = (
                "SELECT name FROM sqlite_master WHERE type = 'index' AND name = :name"
                if conn.dialect.name == "sqlite"
                else "SELECT indexname FROM pg_indexes WHERE indexname = :name"
            )
            assert conn.execute(text(listed), {"name": "ix_check_results_run"}).all()
    finally:
        engine.dispose()
    assert CURRENT_VERSION == 7
