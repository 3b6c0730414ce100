"""Run-time drift of ingested events: an output whose ``schema`` facet differs from the
dataset's documented schema gives findings with that event's run id; ingesting the same
file again changes nothing. Real SQLite catalog, real event files."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from connectors.openlineage import ingest_events
from connectors.openlineage.drift import drift_policy, on_drift_facet
from lineage.catalog import Catalog
from lineage.model import Dataset, DatasetId, Field, LineageBatch, Schema

NAMESPACE = "postgres://dwh:5432"
CUSTOMERS = DatasetId(NAMESPACE, "dwh.silver.erp_customers")
RUN_1 = "01930000-0000-7000-8000-000000000001"
RUN_2 = "01930000-0000-7000-8000-000000000002"


@pytest.fixture
def catalog(tmp_path: Path) -> Any:
    with Catalog(f"sqlite:///{tmp_path / 'catalog.db'}") as found:
        found.write(LineageBatch(datasets=(Dataset(CUSTOMERS, schema=Schema((
            Field("cid", "character varying(50)"), Field("birth_date", "date"),
            Field("gen", "character varying(10)"),
        ))),), observed_by="parser"))  # fmt: skip
        yield found


def _event(run_id: str, kind: str, when: str, fields: list[tuple[str, str]],
           job: dict[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
    return {
        "eventType": kind,
        "eventTime": when,
        "producer": "https://github.com/apache/airflow/tree/providers-openlineage/2.0.0",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": run_id},
        "job": job or {"namespace": "airflow", "name": "erp_dag.silver_customers"},
        "inputs": [],
        "outputs": [{
            "namespace": NAMESPACE, "name": CUSTOMERS.name,
            "facets": {"schema": {
                "_producer": "https://github.com/apache/airflow",
                "_schemaURL": "https://openlineage.io/spec/facets/1-2-0/SchemaDatasetFacet.json",
                "fields": [{"name": n, "type": t} for n, t in fields],
            }},
        }],
    }  # fmt: skip


def _write(path: Path, events: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    return path


CHANGED = [("cid", "varchar(20)"), ("birth_date", "text"), ("email", "text")]


def test_changed_output_schema_gives_findings_with_the_run_id_once(
    catalog: Catalog, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = _write(tmp_path / "events.jsonl", [
        _event(RUN_1, "START", "2024-06-18T02:00:00Z", []),
        _event(RUN_1, "COMPLETE", "2024-06-18T02:05:00Z", CHANGED),
    ])  # fmt: skip
    caplog.set_level(logging.INFO)
    report = ingest_events(path, catalog)
    assert report.issues == [] and report.drift_findings == 3
    first = {(f.kind, f.column): f for f in catalog.drift_findings()}
    assert set(first) == {("column_removed", "gen"), ("type_changed", "birth_date"),
                          ("column_added", "email")}  # fmt: skip
    assert {f.run_id for f in first.values()} == {RUN_1}
    assert {f.observed_by for f in first.values()} == {"run:erp_dag.silver_customers"}
    assert first[("column_removed", "gen")].severity == "breaking"
    # Run-time types compare by family: varchar(50) -> varchar(20) is left to
    # `lineage drift --against warehouse`, which reads the declared types.
    assert ("type_narrowed", "cid") not in first
    lines = [r.getMessage() for r in caplog.records if "drift:" in r.getMessage()]
    assert len(lines) == 1 and lines[0].startswith(
        "job erp_dag.silver_customers: drift: dwh.silver.erp_customers: column ")
    assert caplog.records[-1].name == "connectors.openlineage.drift"  # another producer's

    again = ingest_events(path, catalog)
    assert again.issues == []
    after = catalog.drift_findings(open_only=False)
    assert sorted((f.id, f.kind, f.column, f.run_id) for f in after) == sorted(
        (f.id, f.kind, f.column, f.run_id) for f in first.values()
    )


def test_a_later_run_resolves_and_a_second_ingest_adds_nothing(
    catalog: Catalog, tmp_path: Path
) -> None:
    fixed = [("cid", "varchar(50)"), ("birth_date", "date"), ("gen", "varchar(10)")]
    path = _write(tmp_path / "two-runs.jsonl", [
        _event(RUN_1, "COMPLETE", "2024-06-18T02:05:00Z", CHANGED),
        _event(RUN_2, "COMPLETE", "2024-06-19T02:05:00Z", fixed),
    ])  # fmt: skip
    ingest_events(path, catalog)
    assert catalog.drift_findings() == []
    stored = catalog.drift_findings(open_only=False)
    assert len(stored) == 3 and all(f.resolved_at is not None for f in stored)
    ingest_events(path, catalog)  # run 1 is older than what the scope saw: not replayed
    assert len(catalog.drift_findings(open_only=False)) == 3
    assert catalog.drift_findings() == []


def test_no_documented_schema_or_no_complete_gives_nothing(
    catalog: Catalog, tmp_path: Path
) -> None:
    other = _event(RUN_1, "COMPLETE", "2024-06-18T02:05:00Z", CHANGED)
    other["outputs"][0]["name"] = "dwh.silver.undocumented"
    running = _event(RUN_2, "RUNNING", "2024-06-18T02:05:00Z", CHANGED)
    report = ingest_events(_write(tmp_path / "e.jsonl", [other, running]), catalog)
    assert report.issues == [] and report.drift_findings == 0
    assert catalog.drift_findings(open_only=False) == []


def test_a_job_tagged_ignore_is_not_compared(catalog: Catalog, tmp_path: Path) -> None:
    job = {"namespace": "silverline", "name": "erp.quiet",
           "facets": {"tags": on_drift_facet("ignore")}}  # fmt: skip
    assert drift_policy(job) == "ignore" and drift_policy({"name": "x"}) == "warn"
    event = _event(RUN_1, "COMPLETE", "2024-06-18T02:05:00Z", CHANGED, job=job)
    ingest_events(_write(tmp_path / "e.jsonl", [event]), catalog)
    assert catalog.drift_findings(open_only=False) == []
    assert [r.job_name for r in catalog.runs()] == ["erp.quiet"]  # the run itself loads


def test_lineage_ingest_says_how_many_drift_findings_it_recorded(
    catalog: Catalog, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from lineage.cli import app

    path = _write(tmp_path / "events.jsonl", [
        _event(RUN_1, "START", "2024-06-18T02:00:00Z", []),
        _event(RUN_1, "COMPLETE", "2024-06-18T02:05:00Z", CHANGED),
    ])  # fmt: skip
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    done = CliRunner().invoke(app, ["ingest", str(path), "--catalog", url, "--format", "json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["drift_findings"] == 3
    # A file with no drifting run says nothing of drift.
    plain = _write(tmp_path / "plain.jsonl", [_event(RUN_2, "START", "2024-06-19T02:00:00Z", [])])
    again = CliRunner().invoke(app, ["ingest", str(plain), "--catalog", url, "--format", "json"])
    assert "drift_findings" not in json.loads(again.stdout)
