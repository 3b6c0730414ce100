"""Sync state per (kind, target), and the version 2 -> 3 migration that moves the project
scans' fingerprints out of DataHub's push state into it."""

from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from lineage.catalog import CURRENT_VERSION, PROJECT_SCAN, Catalog
from lineage.catalog import tables as cs

REPO = Path(__file__).resolve().parents[3]
DBT_ERP = REPO / "tests" / "parsers" / "dbt" / "dbt_projects" / "erp"
LITE = "lite:/srv/project/.lineage/datahub-lite.db"
DS = "urn:li:dataset:(urn:li:dataPlatform:redshift,silver.erp_customers,PROD)"
WHEN = datetime(2024, 6, 18, 1, 0, tzinfo=timezone.utc)


def test_record_and_read_sync_state(catalog_url: str) -> None:
    with Catalog(catalog_url) as catalog:
        assert catalog.sync_state(PROJECT_SCAN, "dbt:/srv/erp") is None
        catalog.record_sync_state(PROJECT_SCAN, "dbt:/srv/erp", "f1", updated_at=WHEN)
        catalog.record_sync_state(PROJECT_SCAN, "dbt:/srv/hr", "h1")
        catalog.record_sync_state("other_kind", "dbt:/srv/erp", "o1")
        catalog.record_sync_state(PROJECT_SCAN, "dbt:/srv/erp", "f2")  # replaces f1
        assert catalog.sync_state(PROJECT_SCAN, "dbt:/srv/erp") == "f2"
        assert catalog.sync_state(PROJECT_SCAN, "dbt:/srv/hr") == "h1"
        assert catalog.sync_state("other_kind", "dbt:/srv/erp") == "o1"
        # Sync state is not push state: no push target sees it.
        assert catalog.push_state("dbt:/srv/erp") == {}
        assert catalog.push_state("scan:dbt:/srv/erp") == {}


def _sync_rows(url: str) -> list[tuple[str, str, str]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            s = cs.sync_state
            query = select(s.c.kind, s.c.target, s.c.state).order_by(s.c.kind, s.c.target)
            return [tuple(row) for row in conn.execute(query)]
    finally:
        engine.dispose()


def _as_version_2(url: str, scans: dict[str, str]) -> None:
    """Make a catalog look like Silverline at schema version 2 left it: no sync_state, the
    fingerprint of each scanned project a fake ("project", "batch") aspect in push_state."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE sync_state"))
            conn.execute(text("UPDATE catalog_version SET version = 2"))
            for target, fingerprint in scans.items():
                conn.execute(
                    cs.push_state.insert(),
                    {"target": target, "urn": "project", "aspect": "batch",
                     "hash": fingerprint, "pushed_at": WHEN},
                )  # fmt: skip
    finally:
        engine.dispose()


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_a_version_2_catalog_moves_scan_fingerprints_to_sync_state(catalog_url: str) -> None:
    with Catalog(catalog_url) as catalog:
        catalog.record_push(LITE, {(DS, "status"): "a", (DS, "schemaMetadata"): "b"})
    _as_version_2(catalog_url, {"scan:dbt:/srv/erp": "f-erp", "scan:dbt:/srv/hr": "f-hr"})

    assert CURRENT_VERSION == 7  # 2 -> 3, 3 -> 4 (unique keys of metric points), ..., 6 -> 7
    with Catalog(catalog_url) as catalog:  # migrates
        assert catalog.sync_state(PROJECT_SCAN, "dbt:/srv/erp") == "f-erp"
        assert catalog.sync_state(PROJECT_SCAN, "dbt:/srv/hr") == "f-hr"
        assert catalog.push_state("scan:dbt:/srv/erp") == {}  # moved, not copied
        assert catalog.push_state("scan:dbt:/srv/hr") == {}
        # DataHub's own push state is untouched.
        assert catalog.push_state(LITE) == {(DS, "status"): "a", (DS, "schemaMetadata"): "b"}
    assert _sync_rows(catalog_url) == [
        (PROJECT_SCAN, "dbt:/srv/erp", "f-erp"),
        (PROJECT_SCAN, "dbt:/srv/hr", "f-hr"),
    ]
    engine = create_engine(catalog_url)
    try:
        with engine.connect() as conn:
            version = conn.execute(select(cs.catalog_version.c.version)).scalar_one()
            updated = conn.execute(select(cs.sync_state.c.updated_at)).scalars().all()
    finally:
        engine.dispose()
    assert version == CURRENT_VERSION
    assert updated == [WHEN, WHEN]  # the time of the scan, not of the migration


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_a_version_2_catalog_without_scans_migrates_to_an_empty_sync_state(
    catalog_url: str,
) -> None:
    Catalog(catalog_url).close()
    _as_version_2(catalog_url, {})
    with Catalog(catalog_url) as catalog:
        assert catalog.sync_state(PROJECT_SCAN, "dbt:/srv/erp") is None
    assert _sync_rows(catalog_url) == []


def test_a_project_scan_keeps_its_fingerprint_in_sync_state(tmp_path: Path) -> None:
    from lineage.workspace import Workspace

    project = tmp_path / "erp"
    shutil.copytree(DBT_ERP, project)
    url = f"sqlite:///{tmp_path / 'c.db'}"
    workspace = Workspace.open(tmp_path, catalog_url=url)
    try:
        assert workspace.scan([str(project)]).summaries[0].jobs_added > 0
    finally:
        workspace.close()
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            pushed = conn.execute(select(cs.push_state.c.target)).scalars().all()
    finally:
        engine.dispose()
    assert pushed == []  # no fake aspects of a fake push target
    [(kind, target, fingerprint)] = _sync_rows(url)
    assert (kind, target) == (PROJECT_SCAN, f"dbt:{project.resolve()}")
    assert len(fingerprint) >= 16
