"""Breaking drift findings -> DataHub incidents: ACTIVE, then RESOLVED, each pushed once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from datahub.metadata import schema_classes as sc

from connectors.datahub import DataHubSettings, PushTarget, build_mcps, push
from connectors.datahub.incidents import incident_urn
from lineage.catalog import Catalog
from lineage.drift import Change, ChangeKind, DriftFinding, DriftImpact, DriftSeverity, Reached
from tests.connectors.datahub.conftest import BRONZE, GOLD, SILVER, T0, dbt_batch, seed_batch
from tests.connectors.datahub.test_assertions import check_metadata_file, stored

BRONZE_URN = "urn:li:dataset:(urn:li:dataPlatform:redshift,bronze.erp_cust_az12,PROD)"
SCOPE = {"baseline": "site/schema.json", "observed_by": "warehouse"}
SEEN = T0 + timedelta(days=1)

RENAME = DriftFinding(
    Change(ChangeKind.COLUMN_RENAMED, BRONZE, "column bdate renamed to birth_dt",
           column="bdate", old="bdate", new="birth_dt", confidence=0.9),
    DriftSeverity.BREAKING,
    DriftImpact(
        columns=(Reached(SILVER, "birth_date", 1, True, ("ana@example.com",)),),
        datasets=(Reached(GOLD, None, 2, False),),
        jobs=("sql/silver/erp_customers.sql",),
        owners=("ana@example.com",),
    ),
)  # fmt: skip
NARROWED = DriftFinding(
    Change(ChangeKind.TYPE_NARROWED, BRONZE, "cid narrowed from varchar(50) to varchar(20)",
           column="cid", old="varchar(50)", new="varchar(20)"),
    DriftSeverity.BREAKING,
)  # fmt: skip
ADDED = DriftFinding(
    Change(ChangeKind.COLUMN_ADDED, BRONZE, "column email added", column="email"),
    DriftSeverity.WARNING,
)


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[Catalog]:
    """The seed pipeline with one drift comparison: two breaking findings, one warning."""
    with Catalog(f"sqlite:///{tmp_path / 'catalog.db'}") as found:
        found.write(seed_batch(), observed_at=T0)
        found.write(dbt_batch(), observed_at=T0)
        found.record_drift([RENAME, NARROWED, ADDED], observed_at=SEEN, **SCOPE)
        yield found


def urn_of(catalog: Catalog, message: str) -> str:
    [finding] = [f for f in catalog.drift_findings(open_only=False) if f.message == message]
    return incident_urn(finding)


def incident(lite: Path, urn: str) -> list[dict[str, Any]]:
    return stored(lite, urn, "incidentInfo")


def test_breaking_findings_are_active_incidents_on_their_dataset(catalog: Catalog) -> None:
    infos = {
        m.entityUrn: m.aspect
        for m in build_mcps(catalog, DataHubSettings(actor="drift-bot"))
        if isinstance(m.aspect, sc.IncidentInfoClass)
    }
    rename = urn_of(catalog, RENAME.message)
    assert set(infos) == {rename, urn_of(catalog, NARROWED.message)}  # not the warning
    assert rename.startswith("urn:li:incident:silverline-")
    info = infos[rename]
    assert info.validate()
    assert (info.type, info.entities, info.priority) == ("DATA_SCHEMA", [BRONZE_URN], 1)
    assert info.title == "Breaking schema change: column bdate renamed to birth_dt"
    assert info.source is not None and info.source.type == "MANUAL"
    assert info.status.state == "ACTIVE"
    assert (info.created.time, info.created.actor) == (
        int(SEEN.timestamp() * 1000), "urn:li:corpuser:drift-bot"
    )  # fmt: skip
    assert info.startedAt == info.created.time
    description = info.description or ""
    assert "site/schema.json against warehouse" in description
    assert "Breaks downstream: silver.erp_customers.birth_date (DIRECT, 1 hop), " \
        "gold.customer_age_groups (INDIRECT, 2 hops)." in description  # fmt: skip
    assert "Owners to tell: ana@example.com." in description


def test_resolved_then_acknowledged_incidents_are_pushed_once_each(
    catalog: Catalog, tmp_path: Path
) -> None:
    lite = tmp_path / "lite.db"
    target = PushTarget.lite(lite)
    rename, narrowed = urn_of(catalog, RENAME.message), urn_of(catalog, NARROWED.message)

    dry = push(catalog, target, dry_run=True)
    assert dry.by_aspect["incidentInfo"] == 2
    push(catalog, target)
    assert [i["status"]["state"] for i in incident(lite, rename)] == ["ACTIVE"]
    assert push(catalog, target).sent == 0  # seen again: nothing to send

    # The same comparison again: the rename is still there, the narrowing is gone.
    catalog.record_drift([RENAME, ADDED], observed_at=SEEN + timedelta(days=1), **SCOPE)
    report = push(catalog, target)
    assert report.keys == ((narrowed, "incidentInfo"),)
    [active, resolved] = incident(lite, narrowed)
    assert active["status"]["state"] == "ACTIVE"
    assert resolved["status"] == {
        "state": "RESOLVED", "stage": "FIXED", "message": "No longer observed by the drift check.",
        "lastUpdated": {"time": int((SEEN + timedelta(days=1)).timestamp() * 1000),
                        "actor": "urn:li:corpuser:silverline"},
    }  # fmt: skip
    assert push(catalog, target).sent == 0

    # Somebody says the rename is fine: RESOLVED, no action required, stamped by them.
    [finding] = [f for f in catalog.drift_findings() if f.message == RENAME.message]
    assert catalog.acknowledge_drift(finding.id, by="ana", at=SEEN + timedelta(days=2))
    report = push(catalog, target)
    assert report.keys == ((rename, "incidentInfo"),)
    status = incident(lite, rename)[-1]["status"]
    assert status["state"] == "RESOLVED" and status["stage"] == "NO_ACTION_REQUIRED"
    assert status["lastUpdated"]["actor"] == "urn:li:corpuser:ana"
    assert push(catalog, target).sent == 0


def test_a_change_seen_again_after_it_was_fixed_reopens_its_incident(
    catalog: Catalog, tmp_path: Path
) -> None:
    target = PushTarget.lite(tmp_path / "lite.db")
    narrowed = urn_of(catalog, NARROWED.message)
    push(catalog, target)
    catalog.record_drift([RENAME], observed_at=SEEN + timedelta(days=1), **SCOPE)
    push(catalog, target)
    catalog.record_drift([RENAME, NARROWED], observed_at=SEEN + timedelta(days=3), **SCOPE)
    report = push(catalog, target)
    assert report.keys == ((narrowed, "incidentInfo"),)  # the same incident, not a new one
    states = [i["status"]["state"] for i in incident(tmp_path / "lite.db", narrowed)]
    assert states == ["ACTIVE", "RESOLVED", "ACTIVE"]


def test_mcp_file_with_incidents_and_stamps_passes_datahubs_check(
    catalog: Catalog, tmp_path: Path
) -> None:
    out = tmp_path / "mcps.json"
    report = push(catalog, PushTarget.file(out), DataHubSettings(actor="etl-bot"))
    records = json.loads(out.read_text())
    assert sum(r["aspectName"] == "incidentInfo" for r in records) == 2
    check_metadata_file(out, report.sent)
