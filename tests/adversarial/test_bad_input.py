"""Bad input never stops the run: hostile SQL, dbt projects and event lines cost only themselves.

Every hostile input is generated here (nothing large is committed). Whatever may crash
the interpreter (a segfault in sqlglot's compiled code) runs in a child process, and every
scan that starts worker processes runs under a time limit, so a regression fails the test
instead of killing or hanging the suite.
"""

from __future__ import annotations

import faulthandler
import functools
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from typer.testing import CliRunner

from connectors.openlineage.ingest import ingest_events
from connectors.openlineage.read import read_events
from lineage.catalog.store import Catalog
from lineage.cli import app
from lineage.model import ScriptLineage, SqlContext
from parsers.sql import files
from parsers.sql.files import ScanOptions, scan_sql
from parsers.sql.parse import DEFAULT_MAX_DEPTH, clear_cache, parse_sql

runner = CliRunner()
T = TypeVar("T")

DEEP_PARENS = "SELECT " + "(" * 500 + "1" + ")" * 500
DEEP_SUBQUERIES = "SELECT * FROM (" * 5000 + "SELECT 1 AS x" + ") AS t" * 5000
DEEP_CASE = "SELECT " + "CASE WHEN a THEN " * 500 + "1" + " END" * 500 + " FROM t"
DEEP_NOT = "SELECT " + "NOT " * 5000 + "a FROM t"


def _bounded(call: Callable[[], T], seconds: float = 120) -> T:
    """``call()``'s result, failing the test (not hanging the suite) after ``seconds``."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = call()
        except BaseException as exc:  # re-raised in the test's thread
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"still running after {seconds} s")
    if "error" in box:
        raise box["error"]
    return box["result"]  # type: ignore[no-any-return]


def _lineage(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The real console script in a child process: a crash there cannot take pytest down."""
    exe = Path(sys.executable).with_name("lineage")
    return subprocess.run(
        [str(exe), *args], capture_output=True, text=True, cwd=cwd, timeout=180, check=False
    )


def _by_file(result: ScriptLineage) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for statement in result.statements:
        found.setdefault(Path(statement.file or "?").name, []).append(statement)
    return found


# -- 1. deep nesting: one statement fails, the script and the run go on ---------------------


def test_deep_brackets_fail_only_their_statement() -> None:
    clear_cache()
    script = f"SELECT 1 AS a;\n{DEEP_PARENS};\nSELECT 2 AS b"
    first, deep, last = parse_sql(script, dialect="postgres", file="deep.sql").statements
    assert first.ok and last.ok
    (issue,) = deep.errors
    assert issue.message.startswith(f"nesting deeper than {DEFAULT_MAX_DEPTH} levels")
    assert (issue.line, deep.file) == (2, "deep.sql")
    assert issue.column == len("SELECT ") + DEFAULT_MAX_DEPTH + 1  # the bracket past the limit


def _parse_in_child(script: str) -> list[dict[str, Any]]:
    """``parse_sql(script)``'s statements as dicts, parsed in a child process (it may crash)."""
    code = (
        "import json, sys\n"
        "from parsers.sql.parse import parse_sql\n"
        "result = parse_sql(sys.stdin.read(), dialect='snowflake')\n"
        "print(json.dumps(result.to_dict()['statements']))\n"
    )
    child = subprocess.run(
        [sys.executable, "-c", code], input=script, capture_output=True, text=True, timeout=120
    )
    assert child.returncode == 0, f"exit {child.returncode}: {child.stderr[-1500:]}"
    statements: list[dict[str, Any]] = json.loads(child.stdout)
    return statements


@pytest.mark.parametrize("sql", [DEEP_SUBQUERIES, DEEP_CASE], ids=["subqueries", "case"])
def test_deep_subqueries_and_case_are_refused_before_parsing(sql: str) -> None:
    # 5,000 nested subqueries segfaulted the interpreter: the parse runs in a child.
    first, deep, last = _parse_in_child(f"SELECT 1 AS a;\n\n{sql};\nSELECT 2 AS b")
    assert not first["errors"] and not last["errors"]
    (issue,) = deep["errors"]
    assert "nesting deeper than 200 levels" in issue["message"]
    assert issue["line"] == 3


def test_a_recursion_error_while_parsing_costs_one_statement() -> None:
    # NOT NOT NOT ... is not nesting the token check counts: sqlglot recurses anyway.
    first, deep, last = parse_sql(f"SELECT 1 AS a; {DEEP_NOT}; SELECT 2 AS b").statements
    assert first.ok and last.ok
    (issue,) = deep.errors
    assert "too deep" in issue.message


def test_the_depth_limit_is_configurable() -> None:
    sql = "SELECT " + "(" * 20 + "x" + ")" * 20 + " AS y FROM t"
    (refused,) = parse_sql(sql, max_depth=10).statements
    assert refused.errors[0].message.startswith("nesting deeper than 10 levels")
    (parsed,) = parse_sql(sql, max_depth=None).statements
    assert parsed.ok
    assert parsed.column_lineage[0].field_map()["y"][0].field == "x"


def test_a_statement_that_does_not_tokenize_as_a_script_is_still_checked() -> None:
    # The unterminated string makes the script fall back to the character scan: the deep
    # statement is then tokenized on its own, and its line is counted from the script.
    script = f"SELECT 1 AS a;\n{DEEP_PARENS};\nSELECT 'unterminated"
    first, deep, broken = parse_sql(script).statements
    assert first.ok and not broken.ok
    (issue,) = deep.errors
    assert issue.message.startswith("nesting deeper than 200 levels")
    assert (issue.line, issue.column) == (2, len("SELECT ") + 201)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_scan_of_a_crashing_file_writes_the_others(tmp_path: Path, jobs: str) -> None:
    (tmp_path / "a_deep.sql").write_text(f"{DEEP_PARENS};\n{DEEP_SUBQUERIES}", encoding="utf-8")
    (tmp_path / "b_ok.sql").write_text("INSERT INTO s.t SELECT a FROM s.u", encoding="utf-8")
    (tmp_path / "c_ok.sql").write_text("INSERT INTO s.v SELECT b FROM s.w", encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    result = _lineage("scan", str(tmp_path), "-j", jobs, "--catalog", url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    statements = json.loads(result.stdout)["statements"]
    kinds = [(Path(s["file"]).name, s["kind"]) for s in statements]
    assert kinds == [
        ("a_deep.sql", "UNKNOWN"),
        ("a_deep.sql", "UNKNOWN"),
        ("b_ok.sql", "INSERT"),
        ("c_ok.sql", "INSERT"),
    ]
    assert all("nesting deeper than 200" in s["errors"][0]["message"] for s in statements[:2])
    assert "a_deep.sql:1:" in result.stderr and "a_deep.sql:2:" in result.stderr
    with Catalog(url) as catalog:
        assert {job.name for job in catalog.jobs()} >= {"b_ok.sql", "c_ok.sql"}


# -- 1b. a worker process that dies costs only the file it was parsing ----------------------


def _quiet(name: str) -> None:
    """Worker hook: no traceback dump from a worker meant to crash (pytest enables them)."""
    faulthandler.disable()


def _die_on(victim: str, how: str, name: str) -> None:
    """Worker hook: kill the worker (or fail it) when it starts on ``victim``."""
    _quiet(name)
    if Path(name).name != victim:
        return
    if how == "exit":
        os._exit(3)
    if how == "segfault":
        os.kill(os.getpid(), signal.SIGSEGV)
    raise MemoryError("injected")


def _files(folder: Path, count: int) -> list[str]:
    paths = []
    for i in range(count):
        path = folder / f"m{i:02}.sql"
        path.write_text(f"INSERT INTO silver.t{i} SELECT a + {i} AS a FROM bronze.s{i}")
        paths.append(str(path))
    return paths


@pytest.mark.parametrize("how", ["exit", "segfault", "memory"])
def test_a_dying_worker_costs_only_its_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    clear_cache()
    paths = _files(tmp_path, 8)
    monkeypatch.setattr(files, "_worker_hook", functools.partial(_die_on, "m03.sql", how))
    done: list[str] = []
    result = _bounded(lambda: scan_sql(paths, ScanOptions(), jobs=2, on_file_done=done.append))
    found = _by_file(result)
    assert sorted(found) == [f"m{i:02}.sql" for i in range(8)]
    assert sorted(done) == sorted(paths)
    (failed,) = found.pop("m03.sql")
    (issue,) = failed.errors
    assert issue.file == paths[3] and paths[3] in str(issue)
    expected = "ran out of memory" if how == "memory" else "worker process parsing it died"
    assert expected in issue.message
    for name, (statement,) in found.items():
        assert statement.ok, name
        assert statement.outputs[0].name == f"silver.t{int(name[1:3])}"


def test_the_real_deep_nesting_crash_costs_only_its_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With the guard switched off, sqlglot's compiled code overflows the C stack on 5,000
    # nested subqueries and the worker segfaults: the pool is rebuilt for the other files.
    clear_cache()
    monkeypatch.setattr(files, "_worker_hook", _quiet)
    paths = _files(tmp_path, 4)
    crash = tmp_path / "m99.sql"
    crash.write_text(DEEP_SUBQUERIES, encoding="utf-8")
    options = ScanOptions(SqlContext(dialect="postgres"), max_depth=None)
    result = _bounded(lambda: scan_sql([*paths, str(crash)], options, jobs=2))
    found = _by_file(result)
    assert all(statement.ok for name in paths for statement in found[Path(name).name])
    (failed,) = found["m99.sql"]
    assert "worker process parsing it died" in failed.errors[0].message


# -- 2. a broken dbt project is one issue; the SQL files still scan and are written ---------


def test_broken_dbt_project_does_not_stop_the_sql_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "broken_dbt").mkdir()
    (tmp_path / "broken_dbt" / "dbt_project.yml").write_text("name: x\nversion: 1\n  bad: [\n")
    (tmp_path / "models.sql").write_text("INSERT INTO s.t SELECT a FROM s.u")
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    result = runner.invoke(app, ["scan", "broken_dbt/", "models.sql", "--catalog", url])
    assert result.exception is None, result.exception
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert [(s["file"], s["kind"]) for s in doc["statements"]] == [("models.sql", "INSERT")]
    (project,) = doc["dbt"]
    (issue,) = project["issues"]
    assert issue["file"].endswith("dbt_project.yml") and issue["line"] == 3
    assert "invalid YAML" in issue["message"]
    with Catalog(url) as catalog:
        assert [job.name for job in catalog.jobs()] == ["models.sql"]
    strict = runner.invoke(app, ["scan", "broken_dbt/", "models.sql", "--catalog", url, "--strict"])
    assert strict.exit_code == 1  # --strict still says something failed


# -- 3. a deeply nested JSON line is one issue; later lines and files still load ------------


def _event(i: int) -> str:
    return json.dumps(
        {
            "eventType": "COMPLETE",
            "eventTime": "2024-05-01T00:00:00Z",
            "run": {"runId": f"run-{i}"},
            "job": {"namespace": "n", "name": f"job{i}"},
            "inputs": [{"namespace": "n", "name": "src"}],
            "outputs": [{"namespace": "n", "name": f"out{i}"}],
        }
    )


DEEP_ARRAY = "[" * 1000 + "]" * 1000
DEEP_OBJECT = '{"a":' * 1000 + "1" + "}" * 1000


def test_deep_json_lines_and_documents_are_one_issue_each(tmp_path: Path) -> None:
    (tmp_path / "a_deep.json").write_text(DEEP_ARRAY)  # one whole (array) document
    lines = [_event(1), DEEP_ARRAY, _event(2), DEEP_OBJECT, _event(3)]
    (tmp_path / "b.jsonl").write_text("\n".join(lines) + "\n")
    (tmp_path / "c.jsonl").write_text(_event(4) + "\n")
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    paths = [str(tmp_path / n) for n in ("a_deep.json", "b.jsonl", "c.jsonl")]
    result = runner.invoke(app, ["ingest", *paths, "--catalog", url, "--format", "json"])
    assert result.exception is None, result.exception
    doc = json.loads(result.stdout)
    assert (doc["events"], doc["runs"], doc["jobs"]) == (4, 4, 4)
    where = [(Path(i["file"]).name, i["line"]) for i in doc["issues"]]
    assert where == [("a_deep.json", 1), ("b.jsonl", 2), ("b.jsonl", 4)]
    assert all("nested too deeply" in i["message"] for i in doc["issues"])
    with Catalog(url) as catalog:
        assert sorted(job.name for job in catalog.jobs()) == ["job1", "job2", "job3", "job4"]


def test_deep_json_from_an_iterable_is_one_issue() -> None:
    items = list(read_events([_event(1), DEEP_OBJECT, _event(2)]))
    assert [item.issue is None for item in items] == [True, False, True]
    issue = items[1].issue
    assert issue is not None and issue.line == 2 and "nested too deeply" in issue.message


def test_a_deeply_nested_facet_does_not_stop_the_ingest() -> None:
    deep: dict[str, Any] = {}
    for _ in range(5000):  # built without recursion; no JSON text could carry it
        deep = {"x": deep}
    event = json.loads(_event(1))
    event["run"]["facets"] = {"deep": deep, "small": {"k": "v"}}
    with Catalog("sqlite://") as catalog:
        report = ingest_events([event, _event(2)], catalog)
        assert (report.events, report.issues) == (2, [])
        assert {job.name for job in catalog.jobs()} == {"job1", "job2"}
        facets = {run.run_id: run.facets for run in catalog.runs()}
        assert facets["run-1"] == {"small": {"k": "v"}}  # the unstorable facet is not kept
