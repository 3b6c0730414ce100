"""`lineage scan` end to end: formats, stdin, folders, -j, --strict and bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lineage.cli import app

REPO = Path(__file__).resolve().parents[3]
runner = CliRunner()


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    # The real console script, so main()'s exit codes and streams are what users get.
    exe = Path(sys.executable).with_name("lineage")
    return subprocess.run(
        [str(exe), *args], input=stdin, capture_output=True, text=True, cwd=REPO, timeout=120
    )


def test_json_is_exactly_one_document_with_every_statement(tmp_path: Path) -> None:
    _write(tmp_path, "a.sql", "INSERT INTO silver.a SELECT x AS y FROM bronze.a;\nSELECT 1;")
    _write(tmp_path, "sub/b.sql", "CREATE VIEW v AS SELECT id FROM bronze.b")
    _write(tmp_path, "notes.txt", "SELECT nothing")
    result = _run("scan", str(tmp_path), "--dialect", "redshift", "--format", "json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    files = [(Path(s["file"]).name, s["index"], s["kind"]) for s in doc["statements"]]
    assert files == [("a.sql", 0, "INSERT"), ("a.sql", 1, "SELECT"), ("b.sql", 0, "CREATE_VIEW")]
    first = doc["statements"][0]
    assert first["columnLineage"][0]["fields"]["y"]["inputFields"][0]["field"] == "x"


def test_stdin_and_schema_file(tmp_path: Path) -> None:
    schema = _write(tmp_path, "schema.yml", "bronze.c:\n  id: int\n  name: varchar(20)\n")
    result = _run(
        "scan", "-", "-d", "postgres", "--schema", str(schema), stdin="SELECT * FROM bronze.c"
    )
    assert result.returncode == 0, result.stderr
    (statement,) = json.loads(result.stdout)["statements"]
    assert statement["file"] == "<stdin>"
    assert list(statement["columnLineage"][0]["fields"]) == ["id", "name"]


def test_strict_fails_only_when_a_statement_failed(tmp_path: Path) -> None:
    good = _write(tmp_path, "good.sql", "SELECT a FROM t")
    bad = _write(tmp_path, "bad.sql", "SELECT a FROM t;\nSELECT FROM WHERE )")
    assert _run("scan", str(good), "--strict").returncode == 0
    lenient = _run("scan", str(bad))
    assert lenient.returncode == 0
    assert "bad.sql:2" in lenient.stderr
    strict = _run("scan", str(bad), "--strict")
    assert strict.returncode == 1
    doc = json.loads(strict.stdout)
    assert doc["statements"][0]["errors"] == []
    assert doc["statements"][1]["errors"][0]["line"] == 2


def test_unreadable_file_is_reported_and_the_rest_scanned(tmp_path: Path) -> None:
    _write(tmp_path, "ok.sql", "SELECT a FROM t")
    (tmp_path / "binary.sql").write_bytes(b"\xff\xfe\x00bad")
    result = _run("scan", str(tmp_path))
    assert result.returncode == 0
    statements = json.loads(result.stdout)["statements"]
    by_file = {Path(s["file"]).name: s for s in statements}
    assert "not UTF-8" in by_file["binary.sql"]["errors"][0]["message"]
    assert by_file["ok.sql"]["errors"] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["scan", "missing.sql"], "missing.sql: no such file or folder"),
        (["scan", "-", "--dialect", "nope"], "unknown SQL dialect 'nope'"),
    ],
)
def test_user_errors_are_one_red_line_and_exit_1(args: list[str], message: str) -> None:
    result = _run(*args, stdin="SELECT 1")
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_schema_file_names_the_file_and_line(tmp_path: Path) -> None:
    schema = _write(tmp_path, "schema.yml", "bronze.c:\n  id: int\n   bad: [\n")
    result = _run("scan", "-", "--schema", str(schema), stdin="SELECT 1")
    assert result.returncode == 1
    assert "schema.yml:" in result.stderr
    assert "Traceback" not in result.stderr


def test_parallel_scan_matches_serial(tmp_path: Path) -> None:
    for i in range(12):
        _write(
            tmp_path,
            f"m{i:02}.sql",
            f"INSERT INTO silver.t{i} SELECT a + {i} AS a, b FROM bronze.s{i} WHERE c > 0",
        )
    serial = runner.invoke(app, ["scan", str(tmp_path), "-d", "snowflake"])
    parallel = runner.invoke(app, ["scan", str(tmp_path), "-d", "snowflake", "-j", "2"])
    assert serial.exit_code == 0 and parallel.exit_code == 0
    assert json.loads(serial.stdout)["statements"] == json.loads(parallel.stdout)["statements"]
    assert len(json.loads(parallel.stdout)["statements"]) == 12


def test_table_format_shows_columns_and_warnings(tmp_path: Path) -> None:
    path = _write(tmp_path, "q.sql", "SELECT a, md5(b) AS h FROM t JOIN u ON t.id = u.id")
    result = runner.invoke(app, ["scan", str(path), "-f", "table"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "ambiguous" in result.stdout
    assert "INDIRECT/JOIN" in result.stdout
    assert "(masking)" not in result.stdout  # b is ambiguous, so nothing is attributed


def test_readme_main_command_runs_the_erp_example() -> None:
    result = _run(
        "scan",
        "examples/erp/redshift",
        "--dialect",
        "redshift",
        "--schema",
        "examples/erp/redshift/schema.yml",
        "--format",
        "json",
        "--strict",
    )
    assert result.returncode == 0, result.stderr
    statements = json.loads(result.stdout)["statements"]
    silver = next(
        s
        for s in statements
        if s["kind"] == "INSERT" and s["outputs"][0]["name"] == "silver.erp_customers"
    )
    fields = silver["columnLineage"][0]["fields"]
    assert [f["field"] for f in fields["customer_id"]["inputFields"]] == ["cid"]
    assert [f["field"] for f in fields["birth_date"]["inputFields"]] == ["bdate"]
    assert fields["dwh_loaded_at"]["inputFields"] == []
    assert os.environ.get("CI") is None or statements
