"""``lineage ingest`` and ``lineage events replay|status``, on an app built the way
``lineage.cli.app`` builds it (``register(app)``)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from connectors.openlineage.spool import EventSpool
from lineage.catalog import Catalog
from lineage.cli.events import register
from lineage.errors import ConfigError

PRODUCERS = Path(__file__).resolve().parents[2] / "golden" / "events" / "producers"
runner = CliRunner()


@pytest.fixture
def app() -> typer.Typer:
    found = typer.Typer()

    @found.callback()
    def _root() -> None:  # a group, as the real `lineage` app is
        return None

    register(found)
    return found


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for key in list(os.environ):
        if key.startswith("OPENLINEAGE"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LINEAGE_CATALOG_URL", f"sqlite:///{tmp_path / 'catalog.db'}")
    monkeypatch.chdir(tmp_path)
    yield tmp_path


def _event(n: int) -> dict[str, object]:
    return {
        "eventType": "COMPLETE",
        "eventTime": "2024-06-18T01:00:00+00:00",
        "producer": "https://example.com",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": f"01900000-0000-7000-8000-{n:012d}"},
        "job": {"namespace": "default", "name": f"job-{n}"},
        "inputs": [],
        "outputs": [{"namespace": "sql", "name": "silver.x"}],
    }


def test_ingest_reports_bad_lines_and_loads_the_rest(app: typer.Typer, project: Path) -> None:
    result = runner.invoke(app, ["ingest", str(PRODUCERS), "--format", "json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["events"] == 12 and summary["runs"] == 6
    assert [(i["file"].endswith("airflow.jsonl"), i["line"]) for i in summary["issues"]] == [
        (True, 3),
        (True, 5),
    ]
    assert "airflow.jsonl:3:40: not JSON" in result.stderr
    strict = runner.invoke(app, ["ingest", str(PRODUCERS / "airflow.jsonl"), "--strict"])
    assert strict.exit_code == 1
    with Catalog(f"sqlite:///{project / 'catalog.db'}") as catalog:
        assert len(catalog.runs()) == 6


def test_ingest_into_an_explicit_catalog(app: typer.Typer, project: Path) -> None:
    url = f"sqlite:///{project / 'other.db'}"
    result = runner.invoke(app, ["ingest", str(PRODUCERS / "dbt.jsonl"), "--catalog", url])
    assert result.exit_code == 0, result.output
    assert "ingested" in result.stdout
    with Catalog(url) as catalog:
        assert {r.job_name for r in catalog.runs()} == {
            "dev.erp.silver.erp_customers",
            "dev.erp.silver.erp_customers.test",
        }


def test_ingest_a_missing_file_is_an_error(app: typer.Typer, project: Path) -> None:
    result = runner.invoke(app, ["ingest", str(project / "nope.jsonl")])
    assert result.exit_code != 0
    assert "no such file" in str(result.exception)


def test_events_status_and_replay(app: typer.Typer, project: Path) -> None:
    spool = EventSpool(project / ".lineage" / "spool")
    spool.append([(_event(1), ["catalog", "events_file"]), (_event(2), ["catalog"])])
    status = runner.invoke(app, ["events", "status", "--format", "json"])
    assert status.exit_code == 0, status.output
    found = json.loads(status.stdout)
    assert found["pending"] == 2 and found["by_sink"] == {"catalog": 2, "events_file": 1}
    replay = runner.invoke(app, ["events", "replay", "--format", "json"])
    assert replay.exit_code == 0, replay.output
    assert json.loads(replay.stdout)["delivered"] == 2
    with Catalog(f"sqlite:///{project / 'catalog.db'}") as catalog:
        assert sorted(r.job_name for r in catalog.runs()) == ["job-1", "job-2"]
    files = list((project / ".lineage" / "events").glob("*.jsonl"))
    assert [len(f.read_text().splitlines()) for f in files] == [1]
    again = runner.invoke(app, ["events", "replay"])
    assert again.exit_code == 0 and "delivered" in again.stdout
    assert json.loads(runner.invoke(app, ["events", "status", "-f", "json"]).stdout)["pending"] == 0


def test_replay_stops_with_exit_1_when_a_sink_is_missing(app: typer.Typer, project: Path) -> None:
    EventSpool(project / ".lineage" / "spool").append([(_event(1), ["openlineage"])])
    result = runner.invoke(app, ["events", "replay"])
    assert result.exit_code == 1
    assert "not configured" in result.stderr


def test_a_bad_openlineage_section_is_an_error_for_the_cli(app: typer.Typer, project: Path) -> None:
    (project / "lineage.yml").write_text("openlineage:\n  queue_sise: 10\n")
    result = runner.invoke(app, ["events", "status"])
    assert isinstance(result.exception, ConfigError)


def test_replay_include_rejected_resends_what_a_sink_refused(
    app: typer.Typer, project: Path
) -> None:
    from connectors.openlineage.sinks import MemorySink
    from lineage.errors import PermanentConnectorError

    spool = EventSpool(project / ".lineage" / "spool")
    spool.append([(_event(1), ["catalog"]), (_event(2), ["catalog"])])
    refusing = MemorySink("catalog", fail=lambda event: True, error=PermanentConnectorError)
    assert spool.replay({"catalog": refusing}).rejected == 2  # e.g. a catalog it may not write
    status = json.loads(runner.invoke(app, ["events", "status", "-f", "json"]).stdout)
    assert status["rejected"] == 2 and status["pending"] == 0
    plain = runner.invoke(app, ["events", "replay", "--format", "json"])
    assert plain.exit_code == 0 and json.loads(plain.stdout)["delivered"] == 0
    fixed = runner.invoke(app, ["events", "replay", "--include-rejected", "--format", "json"])
    assert fixed.exit_code == 0, fixed.output
    assert json.loads(fixed.stdout)["resent"] == 2
    with Catalog(f"sqlite:///{project / 'catalog.db'}") as catalog:
        assert sorted(r.job_name for r in catalog.runs()) == ["job-1", "job-2"]
    status = json.loads(runner.invoke(app, ["events", "status", "-f", "json"]).stdout)
    assert status["rejected"] == 0
