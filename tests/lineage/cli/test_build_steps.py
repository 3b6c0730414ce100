"""``lineage build`` step selection, failure propagation and fingerprints on a tiny
project (no example pipeline): ``--only`` / ``--skip``, a failed introspect blocking only
the steps that need it, thresholds rejected before any step runs, and a pipeline that runs
again when its outputs are gone."""

from __future__ import annotations

import json
import textwrap
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from lineage.cli import app
from lineage.errors import InputError
from lineage.workspace import Workspace
from lineage.workspace.build import run_build

runner = CliRunner()

_SQL = "CREATE TABLE silver.customers AS SELECT cid AS customer_id FROM bronze.cust;\n"
# A pipeline that writes what lineage.yml points at: a bronze folder and a DuckDB file.
_PIPELINE = """\
from pathlib import Path
import duckdb

Path("bronze").mkdir(exist_ok=True)
(Path("bronze") / "cust.csv").write_text("cid\\nCUST0001\\n")
duckdb.connect("wh.duckdb").close()
with open("runs.log", "a") as log:
    log.write("ran\\n")
print("pipeline: landed")
"""


def _project(root: Path, *, pipeline: bool = False) -> Path:
    (root / "sql").mkdir(parents=True)
    (root / "sql" / "customers.sql").write_text(_SQL)
    config = """\
        dialect: duckdb
        sql: {paths: [sql/]}
        warehouse: {url: "duckdb:///wh.duckdb"}
        files: [bronze]
        docs: {output: site/}
        datahub: {lite: .lineage/datahub-lite.db}
    """
    if pipeline:
        (root / "pipeline.py").write_text(_PIPELINE)
        config += "    pipeline: {script: pipeline.py}\n"
    (root / "lineage.yml").write_text(textwrap.dedent(config))
    return root


def _build(monkeypatch: pytest.MonkeyPatch, root: Path, *args: str) -> tuple[int, Any]:
    monkeypatch.chdir(root)
    monkeypatch.delenv("LINEAGE_CATALOG_URL", raising=False)
    result = runner.invoke(app, ["build", "--format", "json", *args])
    return result.exit_code, json.loads(result.stdout) if result.stdout.strip() else None


def test_only_runs_the_steps_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, report = _build(monkeypatch, _project(tmp_path), "--only", "scan")
    assert code == 0, report
    assert [(s["step"], s["status"]) for s in report["steps"]] == [("scan", "ok")]
    assert "1 jobs" in report["steps"][0]["summary"]
    assert not (tmp_path / "site").exists()  # docs did not run


def test_a_failed_introspect_blocks_only_what_needs_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Neither the DuckDB file nor the bronze folder exist: every source errors.
    code, report = _build(monkeypatch, _project(tmp_path), "--skip", "push,docs")
    status = {s["step"]: s["status"] for s in report["steps"]}
    assert code == 1
    assert status == {
        "pipeline": "skipped", "scan": "ok", "introspect": "failed",
        "profile": "blocked", "check": "blocked", "drift": "blocked",
    }  # fmt: skip
    assert report["failed_steps"] == ["introspect", "profile", "check", "drift"]
    introspect = next(s for s in report["steps"] if s["step"] == "introspect")
    assert "wh.duckdb" in introspect["summary"] and "bronze" in introspect["summary"]
    # The steps that do not need introspect still run, and a failure is still exit 1.
    code, report = _build(monkeypatch, tmp_path, "--only", "introspect,push,docs")
    status = {s["step"]: s["status"] for s in report["steps"]}
    assert code == 1
    assert status == {"introspect": "failed", "push": "ok", "docs": "ok"}
    assert (tmp_path / "site" / "index.html").is_file()
    assert (tmp_path / ".lineage" / "datahub-lite.db").is_file()


@pytest.mark.parametrize("flag", ["--fail-on", "--fail-on-drift"])
def test_an_unknown_drift_threshold_stops_before_any_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flag: str
) -> None:
    _project(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["build", flag, "bogus"])
    assert result.exit_code == 2
    assert "bogus" in result.stderr
    assert not (tmp_path / ".lineage").exists()  # not even the catalog was opened
    with closing(Workspace.open(tmp_path)) as workspace, pytest.raises(InputError, match="bogus"):
        run_build(workspace, fail_on_drift="bogus")
    with closing(Workspace.open(tmp_path)) as workspace, pytest.raises(InputError, match="nope"):
        run_build(workspace, only=["scan", "nope"])
    assert not (tmp_path / "site").exists()


def test_the_pipeline_runs_again_when_its_outputs_are_gone(tmp_path: Path) -> None:
    root = _project(tmp_path, pipeline=True)
    log = root / "runs.log"

    def pipeline_step() -> str:
        catalog = f"sqlite:///{root / 'catalog.db'}"
        with closing(Workspace.open(root, catalog_url=catalog)) as workspace:
            [step] = run_build(workspace, only=["pipeline"]).steps
        return step.status

    assert pipeline_step() == "ok"
    assert pipeline_step() == "skipped"  # inputs unchanged, outputs present
    for output in (root / "bronze" / "cust.csv", root / "wh.duckdb"):
        output.unlink()  # an empty bronze folder counts as gone, as a missing file does
        assert pipeline_step() == "ok"
        assert output.exists()
        assert pipeline_step() == "skipped"
    assert log.read_text().count("ran") == 3
    (root / "pipeline.py").write_text(_PIPELINE + "# changed\n")
    assert pipeline_step() == "ok"


def test_demo_rejects_an_unknown_threshold_before_copying(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["demo", "erp", "--simulate-drift", "--fail-on", "bogus"])
    assert result.exit_code == 2 and "bogus" in result.stderr
    assert not (tmp_path / "erp").exists()


def test_an_unreadable_contract_fails_the_check_step_on_every_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project(tmp_path, pipeline=True)
    (root / "contracts").mkdir()
    (root / "contracts" / "customers.yaml").write_text("schema: {fields: [\n")  # broken YAML
    for _ in range(2):  # the second build carries the results forward, not the verdict
        code, report = _build(monkeypatch, root, "--skip", "push,docs,drift")
        check = next(s for s in report["steps"] if s["step"] == "check")
        assert code == 1
        assert check["status"] == "failed"
        assert "1 contract issues" in check["summary"]
        assert any("customers.yaml" in i for i in check["details"]["issues"])
