"""`lineage push datahub` on an app built here (lineage/cli.py wires the same register())."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from lineage.catalog import Catalog
from lineage.cli.push import register
from lineage.errors import ConfigError
from tests.connectors.datahub.conftest import dbt_batch, seed_batch

runner = CliRunner()


def make_app() -> typer.Typer:
    app = typer.Typer(pretty_exceptions_enable=False)

    @app.callback()
    def _root() -> None:
        """The lineage command, reduced to what these tests need."""

    register(app)
    return app


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder with a catalog holding the seed and a dbt model; cwd is there."""
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    with Catalog(url) as catalog:
        catalog.write(seed_batch())
        catalog.write(dbt_batch())
    monkeypatch.setenv("LINEAGE_CATALOG_URL", url)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_default_target_is_lite_under_dot_lineage(project: Path) -> None:
    app = make_app()
    result = runner.invoke(app, ["push", "datahub"])
    assert result.exit_code == 0, result.output
    lite = project / ".lineage" / "datahub-lite.db"
    assert lite.exists()
    assert f"lite:{lite}: sent" in result.stdout and "upstreamLineage" in result.stdout

    again = runner.invoke(app, ["push", "datahub", "--format", "json"])
    assert again.exit_code == 0, again.output
    report = json.loads(again.stdout)
    assert report["sent"] == 0 and report["unchanged"] == report["built"] > 0


def test_file_target_with_options_and_dry_run(project: Path) -> None:
    app = make_app()
    out = project / "mcps.json"
    args = ["push", "datahub", "--file", str(out), "--env", "dev", "--platform-instance", "eu1"]
    dry = runner.invoke(app, [*args, "--dry-run", "-f", "json"])
    assert dry.exit_code == 0, dry.output
    planned = json.loads(dry.stdout)
    assert planned["dry_run"] and planned["sent"] == planned["built"] and not out.exists()
    assert ["urn:li:dataset:(urn:li:dataPlatform:redshift,eu1.silver.erp_customers,DEV)",
            "upstreamLineage"] in planned["aspects"]  # fmt: skip

    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "would send" not in result.stdout
    assert len(json.loads(out.read_text())) == planned["sent"]
    full = runner.invoke(app, [*args, "--full", "-f", "json"])
    assert json.loads(full.stdout)["sent"] == planned["sent"]


def test_lineage_yml_datahub_section(project: Path) -> None:
    (project / "lineage.yml").write_text(
        "datahub:\n  file: out/mcps.json\n  env: QA\n  case: preserve\n"
        "  platforms: {redshift: redshift}\n"
    )
    result = runner.invoke(make_app(), ["push", "datahub"])
    assert result.exit_code == 0, result.output
    records = json.loads((project / "out" / "mcps.json").read_text())
    urns = {r["entityUrn"] for r in records}
    assert "urn:li:dataset:(urn:li:dataPlatform:redshift,silver.erp_customers,QA)" in urns
    # The command line wins over lineage.yml.
    lite = project / "other.db"
    result = runner.invoke(make_app(), ["push", "datahub", "--lite", str(lite), "--env", "PROD"])
    assert result.exit_code == 0, result.output
    assert lite.exists()


@pytest.mark.parametrize(
    ("args", "config", "message"),
    [
        (["--file", "a.json", "--lite", "b.db"], None, "give only one of --server, --file"),
        ([], "datahub:\n  file: a.json\n  lite: b.db\n", "set only one of datahub.server"),
        ([], "datahub:\n  sever: http://x\n", "unknown setting.*datahub.sever"),
        (["--env", "MARS"], None, "unknown DataHub env 'MARS'"),
        ([], "datahub:\n  retries: many\n", "datahub.retries/timeout must be numbers"),
        (["--server", "http://127.0.0.1:9", "--token-env", "NO_SUCH_VAR"], None,
         r"\$NO_SUCH_VAR is not set"),
        (["--actor", "urn:li:corpGroup:data-team"], None, r"^--actor must be a DataHub user"),
        ([], "datahub:\n  actor: ana lopez\n", r"yml: datahub\.actor must be a"),
        ([], "datahub:\n  actor: [ana]\n", r"datahub\.actor must be text"),
    ],
)  # fmt: skip
def test_bad_settings_are_config_errors(
    project: Path, args: list[str], config: str | None, message: str
) -> None:
    if config is not None:
        (project / "lineage.yml").write_text(config)
    result = runner.invoke(make_app(), ["push", "datahub", *args])
    assert result.exit_code != 0
    assert isinstance(result.exception, ConfigError), result.output
    assert re.search(message, str(result.exception)), str(result.exception)


def stamp_actors(records: list[dict[str, Any]]) -> set[str]:
    """The actors of every audit stamp in an MCP file's records."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if "actor" in value and "time" in value:
                found.add(value["actor"])
            for inner in value.values():
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    for record in records:
        walk(record["aspect"]["json"])
    return found


def test_actor_from_lineage_yml_and_the_command_line(project: Path) -> None:
    (project / "lineage.yml").write_text("datahub:\n  actor: etl-bot\n")
    out = project / "a.json"
    result = runner.invoke(make_app(), ["push", "datahub", "--file", str(out)])
    assert result.exit_code == 0, result.output
    assert stamp_actors(json.loads(out.read_text())) == {"urn:li:corpuser:etl-bot"}
    # --actor wins over lineage.yml; a full push resends the stamps (a new actor alone
    # changes no content, so an incremental push would send nothing).
    other = project / "b.json"
    args = ["push", "datahub", "--file", str(other), "--actor", "urn:li:corpuser:ana"]
    result = runner.invoke(make_app(), args)
    assert result.exit_code == 0, result.output
    assert stamp_actors(json.loads(other.read_text())) == {"urn:li:corpuser:ana"}
