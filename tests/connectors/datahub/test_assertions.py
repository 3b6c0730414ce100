"""Check results -> DataHub assertions and run events: mapped, golden, valid, idempotent.

The catalog holds contract check results as ``lineage check`` writes them (labels,
thresholds, sources, samples) in every status. ``UPDATE_GOLDEN=1`` rewrites
``tests/golden/datahub/*.json``; review the diff.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.metadata import schema_classes as sc

from connectors.datahub import PushTarget, aspect_key, build_mcps, push
from connectors.datahub.assertions import PLATFORM_URN, check_assertion_urn
from lineage.catalog import Catalog
from lineage.model import DatasetId

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "datahub"
UPDATE = bool(os.environ.get("UPDATE_GOLDEN"))
DATAHUB_CLI = Path(sys.executable).with_name("datahub")

NS = "postgres://db.example.com:5432"
CUSTOMERS = DatasetId(NS, "dwh.silver.erp_customers")
URN = "urn:li:dataset:(urn:li:dataPlatform:postgres,dwh.silver.erp_customers,PROD)"
T0 = datetime(2024, 6, 18, 6, 0, tzinfo=timezone.utc)
CONTRACT = "contracts/erp_customers.yaml"

#: (label, column, status, details) as ``lineage check`` records them.
CHECKS: list[tuple[str, str | None, str, dict[str, Any]]] = [
    ("not_null(customer_id)", "customer_id", "passed",
     {"threshold": "<= 0 nulls", "observed": 0, "message": "holds on every row", "line": 8}),
    ("unique(customer_id)", "customer_id", "failed",
     {"threshold": "<= 0 duplicates", "observed": 2, "message": "2 duplicate rows", "line": 9,
      "sample": [{"customer_id": "AW-1", "email": "ana@example.com"}]}),
    ("max_length(customer_id)", "customer_id", "passed",
     {"threshold": "length <= 50", "observed": 0, "message": "holds", "line": 10}),
    ("min(birth_date)", "birth_date", "warning",
     {"threshold": ">= 1900-01-01", "observed": 1, "message": "1 row before", "line": 14,
      "severity": "warning", "sample": [{"birth_date": "1899-12-31"}]}),
    ("max(age)", "age", "passed",
     {"threshold": "<= 130", "observed": 0, "message": "holds", "line": 15}),
    ("accepted_values(gender)", "gender", "failed",
     {"threshold": "in ('Male', 'Female', 'O''Neil')", "observed": 3, "message": "3 rows",
      "line": 18}),
    ("pattern(customer_id)", "customer_id", "error",
     {"threshold": "matches AW-[0-9]+ (whole value)", "line": 11,
      "message": "the query failed: function regexp_like does not exist"}),
    ("null_rate(birth_date)", "birth_date", "failed",
     {"threshold": "<= 5% nulls", "observed": 0.12, "message": "null rate 12%", "line": 21}),
    ("row_count_min", None, "passed",
     {"threshold": ">= 1,000 rows", "observed": "1,250", "message": "1,250 rows", "line": 24}),
    ("row_count_vs_average(7d)", None, "insufficient_history",
     {"message": "2 of the 3 days of row counts needed before 2024-06-18", "line": 25}),
    ("freshness", "dwh_loaded_at", "failed",
     {"threshold": "<= 24h", "observed": "26h", "message": "last loaded 26h ago", "line": 27}),
]  # fmt: skip


def record_checks(catalog: Catalog, when: datetime = T0, run_id: str = "check-run-1") -> None:
    for label, column, status, raw in CHECKS:
        details = {k: v for k, v in raw.items() if k != "line"}
        details.setdefault("severity", "error")
        details["source"] = f"{CONTRACT}:{raw['line']}"
        if "observed" in details:
            details["sql"] = 'SELECT COUNT(*) FROM "dwh"."silver"."erp_customers"'
        catalog.record_check_result(CUSTOMERS, label, status, when, column, run_id, details)


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[Catalog]:
    with Catalog(f"sqlite:///{tmp_path / 'catalog.db'}") as found:
        record_checks(found)
        yield found


def assertion_mcps(
    mcps: Sequence[MetadataChangeProposalWrapper],
) -> list[MetadataChangeProposalWrapper]:
    return [m for m in mcps if m.entityUrn.startswith(("urn:li:assertion:", PLATFORM_URN))]


def assert_golden(name: str, mcps: Sequence[MetadataChangeProposalWrapper]) -> None:
    """Compare with ``tests/golden/datahub/<name>.json`` (``UPDATE_GOLDEN=1`` rewrites)."""
    path = GOLDEN / f"{name}.json"
    records = [m.to_obj() for m in mcps]
    for record in records:  # the aspect as JSON, not a string of it: diffs stay readable
        record["aspect"] = json.loads(record["aspect"]["value"])
    actual = json.dumps(records, indent=2, sort_keys=True) + "\n"
    if UPDATE or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"{path} created: review it, then rerun")
    assert json.loads(path.read_text(encoding="utf-8")) == json.loads(actual), (
        f"{path} differs; rerun with UPDATE_GOLDEN=1 and review the diff"
    )


def infos(mcps: Sequence[MetadataChangeProposalWrapper]) -> dict[str, Any]:
    """assertionInfo by check label."""
    found: dict[str, Any] = {}
    for mcp in mcps:
        if isinstance(mcp.aspect, sc.AssertionInfoClass):
            found[mcp.aspect.customProperties["check"]] = mcp.aspect
    return found


def test_each_check_is_one_assertion_with_its_operator(catalog: Catalog) -> None:
    found = infos(build_mcps(catalog))
    assert sorted(found) == sorted(label for label, *_ in CHECKS)
    dataset = {
        label: (a.datasetAssertion.scope, a.datasetAssertion.operator,
                a.datasetAssertion.aggregation,
                a.datasetAssertion.parameters.value.value
                if a.datasetAssertion.parameters else None)
        for label, a in found.items() if a.datasetAssertion is not None
    }  # fmt: skip
    assert dataset == {
        "not_null(customer_id)": ("DATASET_COLUMN", "NOT_NULL", "IDENTITY", None),
        "unique(customer_id)": ("DATASET_COLUMN", "EQUAL_TO", "UNIQUE_PROPORTION", "1.0"),
        "max_length(customer_id)": ("DATASET_COLUMN", "LESS_THAN_OR_EQUAL_TO", "_NATIVE_", "50"),
        "min(birth_date)": ("DATASET_COLUMN", "GREATER_THAN_OR_EQUAL_TO", "IDENTITY",
                            "1900-01-01"),
        "max(age)": ("DATASET_COLUMN", "LESS_THAN_OR_EQUAL_TO", "IDENTITY", "130"),
        "accepted_values(gender)": ("DATASET_COLUMN", "IN", "IDENTITY",
                                    '["Male", "Female", "O\'Neil"]'),
        "pattern(customer_id)": ("DATASET_COLUMN", "REGEX_MATCH", "IDENTITY", "AW-[0-9]+"),
        "null_rate(birth_date)": ("DATASET_COLUMN", "LESS_THAN_OR_EQUAL_TO", "NULL_PROPORTION",
                                  "0.05"),
        "row_count_min": ("DATASET_ROWS", "GREATER_THAN_OR_EQUAL_TO", "ROW_COUNT", "1000"),
        "row_count_vs_average(7d)": ("DATASET_ROWS", "_NATIVE_", "ROW_COUNT", None),
    }  # fmt: skip
    assert found["min(birth_date)"].datasetAssertion.parameters.value.type == "STRING"
    assert found["max(age)"].datasetAssertion.parameters.value.type == "NUMBER"
    assert found["not_null(customer_id)"].datasetAssertion.fields == [
        f"urn:li:schemaField:({URN},customer_id)"
    ]
    freshness = found["freshness"]
    assert freshness.type == "FRESHNESS" and freshness.datasetAssertion is None
    schedule = freshness.freshnessAssertion.schedule
    assert (schedule.type, schedule.fixedInterval.unit, schedule.fixedInterval.multiple) == (
        "FIXED_INTERVAL", "DAY", 1)  # fmt: skip
    assert freshness.freshnessAssertion.entity == URN
    # The threshold and where the contract says it; evaluated outside DataHub.
    assert found["max_length(customer_id)"].description == f"length <= 50 ({CONTRACT}:10)"
    assert {a.source.type for a in found.values()} == {"EXTERNAL"}


def test_urns_are_stable_and_each_assertion_names_its_platform(catalog: Catalog) -> None:
    mcps = build_mcps(catalog)
    urn = check_assertion_urn(URN, "not_null(customer_id)", "customer_id")
    by_key: dict[tuple[str, str], Any] = {aspect_key(m): m.aspect for m in mcps}
    assert by_key[(urn, "assertionInfo")].datasetAssertion.nativeType == "not_null(customer_id)"
    assert by_key[(urn, "dataPlatformInstance")].platform == "urn:li:dataPlatform:silverline"
    assert by_key[(urn, "status")].removed is False
    assert by_key[(PLATFORM_URN, "dataPlatformInfo")].displayName == "Silverline"
    assert check_assertion_urn(URN, "not_null(customer_id)", None) != urn  # column counts
    assert [aspect_key(m) for m in build_mcps(catalog)] == [aspect_key(m) for m in mcps]


def test_run_events_per_status_without_samples(catalog: Catalog) -> None:
    events: dict[str, Any] = {
        m.aspect.result.nativeResults["status"] + ":" + m.entityUrn: m.aspect
        for m in build_mcps(catalog)
        if isinstance(m.aspect, sc.AssertionRunEventClass)
    }
    assert len(events) == len(CHECKS)
    outcome = {
        key.split(":", 1)[0]: (e.result.type, e.result.severity) for key, e in events.items()
    }
    assert outcome == {
        "passed": ("SUCCESS", None),
        "warning": ("FAILURE", "LOW"),
        "failed": ("FAILURE", "HIGH"),
        "error": ("ERROR", None),
        "insufficient_history": ("INIT", None),
    }
    for event in events.values():
        assert event.status == "COMPLETE" and event.asserteeUrn == URN
        assert event.timestampMillis == int(T0.timestamp() * 1000)
        assert event.runId == "check-run-1"
        native = event.result.nativeResults
        assert "sample" not in native and "sql" not in native
        assert "ana@example.com" not in json.dumps(event.to_obj())
    by_check: dict[str, Any] = {e.assertionUrn: e for e in events.values()}
    unique = by_check[check_assertion_urn(URN, "unique(customer_id)", "customer_id")].result
    assert unique.unexpectedCount == 2
    assert unique.nativeResults == {
        "status": "failed",
        "threshold": "<= 0 duplicates",
        "observed": "2",
        "message": "2 duplicate rows",
        "severity": "error",
        "source": f"{CONTRACT}:9",
    }
    warned = by_check[check_assertion_urn(URN, "min(birth_date)", "birth_date")].result
    assert warned.nativeResults["severity"] == "warning"
    error = by_check[check_assertion_urn(URN, "pattern(customer_id)", "customer_id")].result
    assert error.error.type == "UNKNOWN_ERROR"
    assert "regexp_like" in error.error.properties["message"]
    nulls = by_check[check_assertion_urn(URN, "null_rate(birth_date)", "birth_date")].result
    assert nulls.actualAggValue == pytest.approx(0.12)
    rows = by_check[check_assertion_urn(URN, "row_count_min", None)].result
    assert rows.actualAggValue == 1250.0


def test_golden_assertions(catalog: Catalog) -> None:
    assert_golden("assertions", assertion_mcps(build_mcps(catalog)))


def test_file_push_passes_datahubs_check(catalog: Catalog, tmp_path: Path) -> None:
    out = tmp_path / "mcps.json"
    report = push(catalog, PushTarget.file(out))
    assert report.by_aspect["assertionRunEvent"] == len(CHECKS)
    check_metadata_file(out, report.sent)


def check_metadata_file(path: Path, count: int) -> None:
    """DataHub's own CLI validates every MCP of the file."""
    checked = subprocess.run(
        [str(DATAHUB_CLI), "check", "metadata-file", str(path)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr[-2000:]
    assert f"{count} MCEs found - all valid" in checked.stdout


def stored(path: Path, urn: str, aspect: str) -> list[dict[str, Any]]:
    """Every stored version of one aspect in a DataHub Lite file, oldest first."""
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT version, metadata FROM metadata_aspect_v2 WHERE urn = ? AND aspect_name = ?",
            (urn, aspect),
        ).fetchall()
    # Version 0 is the latest copy of the highest version: history is 1, 2, ...
    return [json.loads(m) for v, m in sorted(rows) if v > 0]


def test_lite_holds_assertions_and_their_history(catalog: Catalog, tmp_path: Path) -> None:
    lite = tmp_path / "lite.db"
    target = PushTarget.lite(lite)
    first = push(catalog, target)
    urn = check_assertion_urn(URN, "unique(customer_id)", "customer_id")
    info = stored(lite, urn, "assertionInfo")
    assert len(info) == 1 and info[0]["datasetAssertion"]["operator"] == "EQUAL_TO"
    [event] = stored(lite, urn, "assertionRunEvent")
    assert event["result"]["type"] == "FAILURE" and event["asserteeUrn"] == URN

    again = push(catalog, target)
    assert (again.sent, again.unchanged) == (0, first.built)

    # The next day's run: one new event per check, no assertionInfo resent.
    record_checks(catalog, T0 + timedelta(days=1), "check-run-2")
    third = push(catalog, target)
    assert third.by_aspect == {"assertionRunEvent": len(CHECKS)}
    history = stored(lite, urn, "assertionRunEvent")
    assert [e["runId"] for e in history] == ["check-run-1", "check-run-2"]
    assert len(stored(lite, urn, "assertionInfo")) == 1
    assert push(catalog, target).sent == 0


def test_a_changed_threshold_resends_only_that_assertion_info(catalog: Catalog) -> None:
    catalog.record_check_result(
        CUSTOMERS, "max_length(customer_id)", "passed", T0 + timedelta(days=1), "customer_id",
        "check-run-2", {"threshold": "length <= 64", "source": f"{CONTRACT}:10", "observed": 0},
    )  # fmt: skip
    catalog.record_check_result(
        CUSTOMERS, "row_count_vs_average(7d)", "passed", T0 + timedelta(days=1), None,
        "check-run-2", {"threshold": "±15% of 7-day average 1,180", "observed": "1,250"},
    )  # fmt: skip
    before = infos(build_mcps(catalog))
    catalog.record_check_result(
        CUSTOMERS, "row_count_vs_average(7d)", "passed", T0 + timedelta(days=2), None,
        "check-run-3", {"threshold": "±15% of 7-day average 1,215", "observed": "1,300"},
    )  # fmt: skip
    after = infos(build_mcps(catalog))
    assert after["max_length(customer_id)"].datasetAssertion.parameters.value.value == "64"
    # The moving baseline stays in the run events: the assertion itself is unchanged.
    rule = after["row_count_vs_average(7d)"]
    assert rule == before["row_count_vs_average(7d)"]
    assert rule.description == "±15% of 7-day average"
