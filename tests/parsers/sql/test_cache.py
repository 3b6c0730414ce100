"""Parse results persist under .lineage/cache: an unchanged re-scan parses nothing."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from lineage.model import LineageBatch
from lineage.workspace import Workspace
from parsers.sql import clear_cache
from parsers.sql import parse as sql_module

REPO = Path(__file__).resolve().parents[3]


def test_rescan_in_a_new_process_is_served_from_the_saved_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    shutil.copytree(REPO / "examples" / "erp" / "redshift", project)
    first = Workspace.open(project)
    report = first.scan([str(project)], first.scan_options(dialect="redshift"), write=False)
    first.close()
    saved = list((project / ".lineage" / "cache").glob("sql-lineage-*.json"))
    assert len(saved) == 1

    clear_cache()  # as if a new process started

    def no_parsing(*args: object, **kwargs: object) -> None:
        raise AssertionError("parsed again although nothing changed")

    monkeypatch.setattr(sql_module, "_analyze", no_parsing)
    again = Workspace.open(project)
    rescan = again.scan([str(project)], again.scan_options(dialect="redshift"), write=False)
    again.close()
    assert rescan.scripts.to_dict() == report.scripts.to_dict()


def test_a_corrupt_cache_file_is_ignored(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(REPO / "examples" / "erp" / "redshift", project)
    cache = project / ".lineage" / "cache"
    cache.mkdir(parents=True)
    workspace = Workspace.open(project)
    workspace.scan([str(project)], workspace.scan_options(dialect="redshift"), write=False)
    for path in cache.glob("*.json"):
        path.write_bytes(b"not JSON")
    clear_cache()
    report = workspace.scan([str(project)], workspace.scan_options(dialect="redshift"), write=False)
    workspace.close()
    assert report.scripts.statements and not report.issues


DBT_ERP = REPO / "tests" / "parsers" / "dbt" / "dbt_projects" / "erp"


def test_unchanged_dbt_project_is_not_rendered_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import parsers.dbt

    project = tmp_path / "erp"
    shutil.copytree(DBT_ERP, project)
    workspace = Workspace.open(tmp_path)
    first = workspace.scan([str(project)], write=False).batches[0]
    calls = 0
    real = parsers.dbt.load_dbt_project

    def counting(*args: object, **kwargs: object) -> object:
        nonlocal calls
        calls += 1
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(parsers.dbt.load, "load_dbt_project", counting)
    assert workspace.scan([str(project)], write=False).batches[0] == first
    assert calls == 0
    model = next(project.rglob("erp_customers.sql"))
    model.write_text(model.read_text() + "\n-- touched\n")
    workspace.scan([str(project)], write=False)
    assert calls == 1
    # A variable the project reads with env_var() is part of the fingerprint too.
    (project / "models" / "env_probe.sql").write_text(
        "select '{{ env_var(\"SILVERLINE_PROBE\", \"x\") }}' as probe"
    )
    workspace.scan([str(project)], write=False)
    monkeypatch.setenv("SILVERLINE_PROBE", "changed")
    workspace.scan([str(project)], write=False)
    assert calls == 3
    workspace.close()


def test_data_files_in_the_project_folder_are_not_part_of_its_fingerprint(
    tmp_path: Path,
) -> None:
    # dbt-duckdb keeps its warehouse file in the project folder, and a SQLite catalog may
    # sit there too: every `dbt run` or scan changes them, and neither is a model.
    from parsers.sql.cache import project_fingerprint

    project = tmp_path / "erp"
    shutil.copytree(DBT_ERP, project)
    (project / "dev.duckdb").write_bytes(b"\0" * 4096)
    (project / "extracts").mkdir()
    (project / "extracts" / "part-0.parquet").write_bytes(b"PAR1")
    (project / "venv" / "lib").mkdir(parents=True)
    (project / "venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    before = project_fingerprint(project, "settings")
    (project / "dev.duckdb").write_bytes(b"\1" * 8192)
    (project / "catalog.db").write_bytes(b"SQLite format 3\0")
    (project / "extracts" / "part-1.parquet").write_bytes(b"PAR1")
    (project / "venv" / "lib" / "site.py").write_text("print('x')\n")
    assert project_fingerprint(project, "settings") == before
    for name, text in (("models/extra.py", "def model(dbt, session): ...\n"),
                       ("seeds/codes.csv", "code\nA\n"), ("models/notes.md", "{% docs x %}")):
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)
        assert project_fingerprint(project, "settings") != before, name
        before = project_fingerprint(project, "settings")


def test_unchanged_dbt_project_skips_the_catalog_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lineage.catalog import Catalog

    project = tmp_path / "erp"
    shutil.copytree(DBT_ERP, project)
    workspace = Workspace.open(tmp_path, catalog_url=f"sqlite:///{tmp_path / 'c.db'}")
    first = workspace.scan([str(project)]).summaries[0]
    assert first.jobs_added > 0

    def no_write(self: Catalog, batch: object, **kwargs: object) -> None:
        raise AssertionError("wrote although the project did not change")

    monkeypatch.setattr(Catalog, "write", no_write)
    again = workspace.scan([str(project)]).summaries[0]
    assert again.jobs_unchanged == first.jobs_added and again.jobs_added == 0
    monkeypatch.undo()
    model = next(project.rglob("erp_customers.sql"))
    model.write_text(model.read_text() + "\n-- touched\n")
    changed = workspace.scan([str(project)]).summaries[0]
    assert changed.jobs_added == 0 and changed.jobs_changed == 1
    workspace.close()


# -- the JSON format: what is loaded equals what was saved ---------------------------------

FIXTURES = sorted((REPO / "tests" / "parsers" / "sql" / "fixtures").glob("*.sql"))
DBT_PROJECTS = sorted(p for p in (REPO / "tests" / "parsers" / "dbt" / "dbt_projects").iterdir())


def test_every_golden_fixture_round_trips_through_the_saved_cache(tmp_path: Path) -> None:
    from parsers.sql import export_cache, parse_sql
    from parsers.sql.cache import ParseCache
    from tests.helpers import load_sql_fixture, parse_kwargs

    clear_cache()
    first = ParseCache(tmp_path)
    assert first.load() == 0  # nothing saved yet
    results = {}
    for path in FIXTURES:
        headers, sql = load_sql_fixture(path)
        results[path] = (sql, parse_kwargs(headers), parse_sql(sql, **parse_kwargs(headers)))
    saved = export_cache()
    complete = [r for _, _, r in results.values() if all(s.ok for s in r.statements)]
    assert len(saved) == len(complete) > 50  # scripts that parsed completely are cached
    first.save()
    (file,) = tmp_path.iterdir()
    assert file.name == first.path.name and file.suffix == ".json"
    assert json.loads(file.read_bytes())["format"] == 2

    clear_cache()
    assert ParseCache(tmp_path).load() == len(saved)
    assert export_cache() == saved
    for sql, kwargs, result in results.values():
        assert parse_sql(sql, **kwargs) == result  # served from the loaded cache or parsed


def test_every_statement_of_the_fixtures_round_trips_errors_included() -> None:
    """Failed statements are never cached, but the format must still carry them."""
    from lineage.model import StatementLineage
    from parsers.sql import parse_sql
    from parsers.sql.cache import _codec
    from tests.helpers import load_sql_fixture, parse_kwargs

    codec = _codec(tuple[StatementLineage, ...])
    with_errors = 0
    for path in FIXTURES:
        headers, sql = load_sql_fixture(path)
        statements = parse_sql(sql, **parse_kwargs(headers), file=str(path)).statements
        with_errors += sum(1 for s in statements if s.errors)
        document = json.loads(json.dumps(codec.encode(statements)))
        assert codec.decode(document) == statements, path.name
    assert with_errors > 0


@pytest.mark.parametrize("project", DBT_PROJECTS, ids=[p.name for p in DBT_PROJECTS])
def test_every_example_dbt_project_round_trips_through_the_batch_cache(
    tmp_path: Path, project: Path
) -> None:
    from parsers.dbt import load_dbt_project
    from parsers.sql.cache import BatchCache

    batch = load_dbt_project(project)
    cache = BatchCache(tmp_path, project)
    cache.save("fingerprint", batch)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [cache.path.name, cache.summary_path.name]
    )
    assert cache.path.name.endswith(".json") and cache.summary_path.name.endswith(".summary.json")
    again = BatchCache(tmp_path, project)
    loaded = again.load("fingerprint")
    assert loaded == batch
    assert loaded is not None and hash(loaded.datasets[0].id) == hash(batch.datasets[0].id)
    counts = (len(batch.datasets), len(batch.jobs), len(batch.edges))
    assert again.summary("fingerprint") == (counts, batch.issues)
    assert again.load("another fingerprint") is None
    assert again.summary("another fingerprint") is None


def test_a_lost_summary_is_written_again_when_the_batch_loads(tmp_path: Path) -> None:
    from parsers.dbt import load_dbt_project
    from parsers.sql.cache import BatchCache

    batch = load_dbt_project(DBT_ERP)
    cache = BatchCache(tmp_path, DBT_ERP)
    cache.save("f", batch)
    cache.summary_path.unlink()
    assert cache.summary("f") is None
    assert cache.load("f") == batch
    assert cache.summary("f") is not None


def test_a_stale_batch_is_told_from_its_summary_without_reading_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from parsers.sql import cache as cache_module

    batch = load_dbt_project_erp()
    cache = cache_module.BatchCache(tmp_path, DBT_ERP)
    cache.save("before-the-edit", batch)
    read: list[str] = []
    real_read = cache_module._read

    def recording(path: Path, *, quiet: bool = False) -> dict[str, object] | None:
        read.append(path.name)
        return real_read(path, quiet=quiet)

    monkeypatch.setattr(cache_module, "_read", recording)
    assert cache.load("after-the-edit") is None
    assert read == [cache.summary_path.name]  # the big file was never parsed
    assert cache.load("before-the-edit") == batch


def test_cache_files_of_other_versions_are_removed_when_new_ones_are_written(
    tmp_path: Path,
) -> None:
    from parsers.sql import cache as cache_module

    cache = cache_module.BatchCache(tmp_path, DBT_ERP)
    prefix = cache.path.name.split(cache_module.CODE_VERSION)[0]  # dbt-<project key>-
    older = [tmp_path / f"{prefix}0.0.9-abc.json", tmp_path / f"{prefix}0.0.9-abc.summary.json",
             tmp_path / "sql-lineage-0.0.9-abc-sqlglot-1.0.json",
             tmp_path / "sql-lineage-0.0.9-abc-sqlglot-1.0.new.jsonl"]  # fmt: skip
    other_project = tmp_path / "dbt-0123456789abcdef-0.0.9-abc.json"
    for path in [*older, other_project]:
        path.write_text("{}")
    cache.save("f", LineageBatch())
    assert not older[0].exists() and not older[1].exists()
    assert other_project.exists()  # another project's batch is its own
    parse_cache = cache_module.ParseCache(tmp_path)
    parse_cache.load()
    from parsers.sql import parse_sql

    parse_sql("select 1 as one")
    parse_cache.save()
    assert parse_cache.path.exists()
    assert not older[2].exists() and not older[3].exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [cache.path.name, cache.summary_path.name, parse_cache.path.name, other_project.name]
    )


def load_dbt_project_erp() -> LineageBatch:
    from parsers.dbt import load_dbt_project

    return load_dbt_project(DBT_ERP)


def test_the_cache_folder_and_files_are_private(tmp_path: Path) -> None:
    from parsers.sql.cache import BatchCache

    folder = tmp_path / ".lineage" / "cache"
    previous = os.umask(0)  # the most permissive umask: the modes must not depend on it
    try:
        BatchCache(folder, DBT_ERP).save("f", LineageBatch())
    finally:
        os.umask(previous)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()} == {0o600}


def test_a_loaded_rescan_reports_what_the_first_scan_did(tmp_path: Path) -> None:
    """The whole path through the workspace: dbt batch and SQL results from the files."""
    project = tmp_path / "erp"
    shutil.copytree(DBT_ERP, project)
    sql = tmp_path / "sql"
    shutil.copytree(REPO / "examples" / "erp" / "redshift", sql)
    workspace = Workspace.open(tmp_path)
    options = workspace.scan_options(dialect="redshift")
    first = workspace.scan([str(project), str(sql)], options, write=False)
    clear_cache()
    again = workspace.scan([str(project), str(sql)], options, write=False)
    workspace.close()
    assert again.batches == first.batches
    assert again.scripts == first.scripts
