"""Catalog.record_drift / drift_findings / acknowledge_drift on SQLite and PostgreSQL, and
the version 5 -> 6 migration that adds the drift_findings table."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import create_engine, inspect, select, text

from lineage.catalog import CURRENT_VERSION, Catalog
from lineage.catalog import tables as cs
from lineage.drift import Change, ChangeKind, DriftFinding
from lineage.model import DatasetId

CUST = DatasetId("postgres://db:5432", "dwh.bronze.erp_cust_az12")
T0 = datetime(2026, 12, 1, 6, 0, tzinfo=timezone.utc)
T1 = datetime(2026, 12, 2, 6, 0, tzinfo=timezone.utc)
SITE = "site/schema.json"


def _finding(kind: ChangeKind, column: str, message: str = "") -> DriftFinding:
    change = Change(kind, CUST, message or f"{column} {kind.value}", column=column)
    return DriftFinding(change, change.severity)


def test_findings_are_recorded_seen_again_resolved_and_acknowledged(catalog_url: str) -> None:
    dropped = _finding(ChangeKind.COLUMN_REMOVED, "gen")
    narrowed = _finding(ChangeKind.TYPE_NARROWED, "cid")
    with Catalog(catalog_url) as catalog:
        first = catalog.record_drift([dropped, narrowed], baseline=SITE, observed_by="warehouse",
                                     run_id="scan-1", observed_at=T0)  # fmt: skip
        assert (first.added, first.seen_again, first.resolved) == (2, 0, 0)
        # the same comparison the next day: gen still gone, cid fixed
        again = catalog.record_drift([dropped], baseline=SITE, observed_by="warehouse",
                                     observed_at=T1)  # fmt: skip
        assert (again.added, again.seen_again, again.resolved) == (0, 1, 1)
        [open_one] = catalog.drift_findings()
        assert (open_one.kind, open_one.column, open_one.severity) == ("column_removed", "gen",
                                                                       "breaking")  # fmt: skip
        assert open_one.first_seen_at == T0 and open_one.last_seen_at == T1
        assert open_one.details["impact"]["jobs"] == []
        everything = catalog.drift_findings(open_only=False)
        resolved = next(f for f in everything if f.column == "cid")
        assert resolved.resolved_at == T1 and resolved.run_id == "scan-1"
        # another comparison (events) does not resolve the warehouse's findings
        catalog.record_drift([], baseline=SITE, observed_by="events", observed_at=T1)
        assert [f.id for f in catalog.drift_findings()] == [open_one.id]
        assert catalog.acknowledge_drift(open_one.id, by="ops@erp")
        assert catalog.drift_findings() == []
        assert catalog.acknowledge_drift(open_one.id)  # already acknowledged: still known
        assert not catalog.acknowledge_drift(10_000)
        # still observed after acknowledgement: it stays acknowledged, not reopened
        catalog.record_drift([dropped], baseline=SITE, observed_by="warehouse", observed_at=T1)
        assert catalog.drift_findings() == []
        [kept] = catalog.drift_findings(open_only=False, dataset=CUST)[:1]
        assert kept.acknowledged_by == "ops@erp"


def test_a_version_5_catalog_gains_drift_findings(catalog_url: str) -> None:
    with Catalog(catalog_url):
        pass
    engine = create_engine(catalog_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE drift_findings"))
            conn.execute(text("UPDATE catalog_version SET version = 5"))
    finally:
        engine.dispose()
    with Catalog(catalog_url) as catalog:  # migrates
        catalog.record_drift([_finding(ChangeKind.COLUMN_ADDED, "email")], baseline=SITE,
                             observed_by="warehouse", observed_at=T0)  # fmt: skip
        assert [f.kind for f in catalog.drift_findings()] == ["column_added"]
    engine = create_engine(catalog_url)
    try:
        with engine.connect() as conn:
            version = conn.execute(select(cs.catalog_version.c.version)).scalar_one()
            assert version == CURRENT_VERSION
            assert "drift_findings" in inspect(conn).get_table_names()
    finally:
        engine.dispose()
