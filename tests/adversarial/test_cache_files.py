"""Hostile files where the parse caches are read: scanning never runs code from them.

A scanned repository can commit ``.lineage/cache/``; a ``lineage.yml`` and ``.lineage/``
in a shared parent folder (``/tmp``) become the cache of whoever scans below it. Each
file here is ignored with one warning line naming it and the scan goes on uncached, with
the result an uncached scan gives; a cache folder or file another user owns is not used.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from lineage.cli import app
from lineage.version import __version__
from lineage.workspace import ScanReport, Workspace
from parsers.sql import clear_cache
from parsers.sql.cache import BatchCache, ParseCache

REPO = Path(__file__).resolve().parents[2]
DBT_ERP = REPO / "tests" / "parsers" / "dbt" / "dbt_projects" / "erp"
NOBODY = 65534
# The names pickle caches had (before JSON): a repository may still carry them.
OLD_SQL_CACHE = f"sql-lineage-{__version__}-sqlglot-{version('sqlglot')}.pkl"

requires_root = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="chown to another user needs root"
)


class Payload:
    """Unpickling this runs code: it writes ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (exec, (f"open({str(self.marker)!r}, 'w').write('code ran')",))


@pytest.fixture(autouse=True)
def _fresh_memory() -> Iterator[None]:
    clear_cache()  # every scan starts as a new process would
    yield
    clear_cache()


def _sql_project(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "a.sql").write_text("INSERT INTO silver.a SELECT id, name AS label FROM bronze.a")
    (root / "b.sql").write_text("CREATE VIEW gold.b AS SELECT label FROM silver.a")
    return root


def _scan(root: Path, *targets: Path) -> ScanReport:
    clear_cache()
    workspace = Workspace.open(root)
    try:
        paths = [str(t) for t in targets] or [str(root)]
        return workspace.scan(paths, workspace.scan_options(dialect="postgres"), write=False)
    finally:
        workspace.close()


def _cache_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("parsers.sql") and r.levelno >= logging.WARNING
    ]


def _one_line_naming(caplog: pytest.LogCaptureFixture, path: Path) -> str:
    (message,) = _cache_warnings(caplog)
    assert str(path) in message and "\n" not in message
    return message


# -- pickles: never unpickled, whatever their name ------------------------------------------


def test_a_committed_pickle_never_runs(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    project = _sql_project(tmp_path / "repo")
    reference = _scan(_sql_project(tmp_path / "clean"))
    marker = tmp_path / "marker"
    cache = project / ".lineage" / "cache"
    cache.mkdir(parents=True)
    (cache / OLD_SQL_CACHE).write_bytes(pickle.dumps(Payload(marker)))
    new_name = ParseCache(cache).path
    new_name.write_bytes(pickle.dumps(Payload(marker)))  # a pickle under the JSON name
    caplog.set_level(logging.WARNING)

    report = _scan(project)

    assert not marker.exists()
    assert report.scripts.to_dict() != {} and _strip_files(report) == _strip_files(reference)
    _one_line_naming(caplog, new_name)
    # The scan replaced it with a cache of its own, which the next scan uses quietly.
    caplog.clear()
    assert _strip_files(_scan(project)) == _strip_files(reference)
    assert _cache_warnings(caplog) == [] and not marker.exists()


def test_a_pickle_in_a_shared_parent_folder_never_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    shared = tmp_path / "tmp"  # plays /tmp: anyone may write lineage.yml and .lineage/
    project = _sql_project(shared / "mywork")
    (shared / "lineage.yml").write_text("{}\n")
    cache = shared / ".lineage" / "cache"
    cache.mkdir(parents=True)
    marker = tmp_path / "marker"
    for name in (OLD_SQL_CACHE, ParseCache(cache).path.name):
        (cache / name).write_bytes(pickle.dumps(Payload(marker)))
    monkeypatch.chdir(project)
    caplog.set_level(logging.WARNING)

    result = CliRunner().invoke(app, ["scan", "a.sql", "--no-catalog", "-d", "postgres"])

    assert result.exit_code == 0, result.output
    assert result.exception is None
    assert not marker.exists()
    _one_line_naming(caplog, ParseCache(cache).path)


def test_a_committed_pickle_of_a_dbt_batch_never_runs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    project = tmp_path / "erp"
    shutil.copytree(DBT_ERP, project)
    reference = _scan(tmp_path, project).batches
    shutil.rmtree(tmp_path / ".lineage")
    cache = BatchCache(tmp_path / ".lineage" / "cache", project)
    cache.path.parent.mkdir(parents=True)
    marker = tmp_path / "marker"
    for path in (
        cache.path,
        cache.summary_path,
        cache.path.with_suffix(".pkl"),
        cache.path.with_suffix(".summary.pkl"),
    ):
        path.write_bytes(pickle.dumps(Payload(marker)))
    caplog.set_level(logging.WARNING)

    batches = _scan(tmp_path, project).batches
    workspace = Workspace.open(tmp_path, catalog_url=f"sqlite:///{tmp_path / 'c.db'}")
    workspace.scan([str(project)])  # the write path reads the summary first
    workspace.close()

    assert not marker.exists()
    assert batches == reference
    # One line for each of the two files, once: the scan rewrote them, the next read them.
    warned = _cache_warnings(caplog)
    assert len(warned) == 2 and all("\n" not in message for message in warned)
    for path in (cache.path, cache.summary_path):
        assert sum(f"{path} " in message for message in warned) == 1


# -- hostile or broken JSON -----------------------------------------------------------------


def _valid(document: dict[str, Any]) -> dict[str, Any]:
    return document


def _statement(document: dict[str, Any]) -> list[Any]:
    statement: list[Any] = document["entries"][0][1][0]
    return statement


def _bad_kind(document: dict[str, Any]) -> bytes:
    _statement(document)[1] = "EXPLODE"
    return json.dumps(document).encode()


def _bad_confidence(document: dict[str, Any]) -> bytes:
    _statement(document)[7] = "high"
    return json.dumps(document).encode()


def _short_statement(document: dict[str, Any]) -> bytes:
    del _statement(document)[-1]
    return json.dumps(document).encode()


def _bool_for_int(document: dict[str, Any]) -> bytes:
    _statement(document)[0] = True  # index: an int, and a bool is not one here
    return json.dumps(document).encode()


def _truncated(document: dict[str, Any]) -> bytes:
    text = json.dumps(document).encode()
    return text[: len(text) // 2]


HOSTILE: dict[str, Callable[[dict[str, Any]], bytes]] = {
    "truncated": _truncated,
    "older format version": lambda d: json.dumps({**d, "format": 1}).encode(),
    "newer format version": lambda d: json.dumps({**d, "format": 99}).encode(),
    "no format": lambda d: json.dumps({"entries": d["entries"]}).encode(),
    "not an object": lambda d: b"[]",
    "empty": lambda d: b"",
    "not utf-8": lambda d: b"\xff\xfe\x00{",
    "pickle bytes": lambda d: pickle.dumps(Payload(Path("/nonexistent/marker"))),
    "yaml tag": lambda d: b"!!python/object/apply:os.system ['true']",
    "entries of the wrong type": lambda d: json.dumps({"format": 2, "entries": {}}).encode(),
    "an entry of the wrong shape": lambda d: b'{"format": 2, "entries": [[["k"], [[1, 2]]]]}',
    "an unknown statement kind": _bad_kind,
    "text for a number": _bad_confidence,
    "a statement missing a field": _short_statement,
    "a bool for an int": _bool_for_int,
    "a class name for a dataset": lambda d: json.dumps(
        {"format": 2, "entries": [[["k"], [{"__class__": "os.system", "args": ["true"]}]]]}
    ).encode(),
    "deeply nested": lambda d: b'{"format": 2, "entries": ' + b"[" * 200_000,
    "nested inside a valid frame": lambda d: b'{"format": 2, "entries": [[["k"], '
    + b"[" * 5000
    + b"]" * 5000
    + b"]]}",
    "a huge number": lambda d: b'{"format": 2, "entries": [[["k"], [[' + b"9" * 5000 + b"]]]]}",
}


@pytest.mark.parametrize("make", list(HOSTILE.values()), ids=list(HOSTILE))
def test_a_hostile_sql_cache_file_is_ignored_in_one_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, make: Callable[[dict[str, Any]], bytes]
) -> None:
    project = _sql_project(tmp_path / "repo")
    reference = _scan(project)  # writes a valid cache
    path = ParseCache(project / ".lineage" / "cache").path
    path.write_bytes(make(json.loads(path.read_bytes())))
    caplog.set_level(logging.WARNING)

    report = _scan(project)

    assert _strip_files(report) == _strip_files(reference)
    _one_line_naming(caplog, path)
    caplog.clear()
    _scan(project)  # rewritten by the scan: read quietly now
    assert _cache_warnings(caplog) == []


def test_a_symlink_to_a_device_is_not_read(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    project = _sql_project(tmp_path / "repo")
    reference = _scan(project)
    path = ParseCache(project / ".lineage" / "cache").path
    path.unlink()
    path.symlink_to("/dev/zero")  # git stores symlinks: a clone can carry this one
    caplog.set_level(logging.WARNING)
    assert _strip_files(_scan(project)) == _strip_files(reference)
    _one_line_naming(caplog, path)


def test_a_folder_where_the_file_should_be_is_ignored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    project = _sql_project(tmp_path / "repo")
    reference = _scan(project)
    path = ParseCache(project / ".lineage" / "cache").path
    path.unlink()
    path.mkdir()
    caplog.set_level(logging.WARNING)
    assert _strip_files(_scan(project)) == _strip_files(reference)
    _one_line_naming(caplog, path)


@pytest.mark.parametrize("which", ["batch", "summary"])
def test_a_hostile_dbt_cache_file_is_ignored_in_one_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, which: str
) -> None:
    project = tmp_path / "erp"
    shutil.copytree(DBT_ERP, project)
    catalog = f"sqlite:///{tmp_path / 'c.db'}"
    workspace = Workspace.open(tmp_path, catalog_url=catalog)
    reference = workspace.scan([str(project)], write=False).batches
    cache = BatchCache(tmp_path / ".lineage" / "cache", project)
    path = cache.path if which == "batch" else cache.summary_path
    document = json.loads(path.read_bytes())
    if which == "batch":
        document["batch"][0][0][1] = 42  # the first dataset's kind: a number
    else:
        document["summary"][0] = [1, 2]  # two counts for three
    path.write_text(json.dumps(document))
    caplog.set_level(logging.WARNING)

    clear_cache()
    assert workspace.scan([str(project)], write=False).batches == reference
    summary = workspace.scan([str(project)]).summaries[0]  # reads the summary first
    workspace.close()

    assert summary.jobs_added == len(reference[0].jobs)
    _one_line_naming(caplog, path)


def test_the_warning_is_one_line_on_the_command_line(tmp_path: Path) -> None:
    project = _sql_project(tmp_path / "repo")
    cache = project / ".lineage" / "cache"
    cache.mkdir(parents=True)
    path = ParseCache(cache).path
    path.write_bytes(b'{"format": 2, "entries": [[["k"], [[1, 2')
    exe = Path(sys.executable).with_name("lineage")
    result = subprocess.run(
        [str(exe), "scan", "a.sql", "--no-catalog", "-d", "postgres", "--format", "json"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["statements"]
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and "Traceback" not in result.stderr


# -- another user's folder or file ----------------------------------------------------------


def _planted(project: Path) -> Path:
    """A valid cache whose result for a.sql is forged: ``label`` comes from ``secret``."""
    reference = _scan(project)
    path = ParseCache(project / ".lineage" / "cache").path
    text = path.read_text()
    assert '"name"' in text
    path.write_text(text.replace('"name"', '"secret"'))
    clear_cache()
    assert _strip_files(_scan(project)) != _strip_files(reference)  # the forgery is used
    return path


@requires_root
def test_a_cache_folder_of_another_user_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    shared = tmp_path / "tmp"
    project = _sql_project(shared / "mywork")
    (shared / "lineage.yml").write_text("{}\n")
    reference = _scan(_sql_project(tmp_path / "clean"))
    path = _planted(shared)
    folder = path.parent
    for owned in (folder, path):
        os.chown(owned, NOBODY, NOBODY)
    before = sorted(folder.iterdir())
    monkeypatch.chdir(project)
    clear_cache()
    caplog.set_level(logging.WARNING)

    result = CliRunner().invoke(app, ["scan", ".", "--no-catalog", "-d", "postgres", "-f", "json"])

    assert result.exit_code == 0, result.output
    statements = json.loads(result.stdout)["statements"]
    assert "secret" not in json.dumps(statements)
    assert len(statements) == len(reference.scripts.statements)
    (message,) = _cache_warnings(caplog)
    assert str(folder) in message and f"uid {NOBODY}" in message and "\n" not in message
    assert sorted(folder.iterdir()) == before  # nothing written into it either
    assert path.stat().st_uid == NOBODY


@requires_root
def test_a_cache_file_of_another_user_is_not_used(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    project = _sql_project(tmp_path / "repo")
    path = _planted(project)
    os.chown(path, NOBODY, NOBODY)  # in our own folder: planted by someone else
    caplog.set_level(logging.WARNING)

    report = _scan(project)

    assert "secret" not in json.dumps(report.scripts.to_dict())
    message = _one_line_naming(caplog, path)
    assert f"uid {NOBODY}" in message
    assert path.stat().st_uid == os.getuid()  # replaced by this scan's own cache


def _strip_files(report: ScanReport) -> list[dict[str, Any]]:
    """The statements' lineage without the paths (the reference scans another folder)."""
    out = []
    for statement in report.scripts.to_dict()["statements"]:
        statement = dict(statement)
        statement["file"] = Path(statement["file"]).name
        out.append(statement)
    return sorted(out, key=lambda s: (s["file"], s["index"]))
