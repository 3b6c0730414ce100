"""The render memo: a rescan renders only the models whose inputs changed, and the batch
is always the one a scan without the memo builds."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest

from lineage.model import LineageBatch
from parsers.dbt.load import load_dbt_project
from parsers.dbt.memo import RenderMemo
from parsers.sql.cache import CacheFile

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO / "tests" / "parsers" / "dbt" / "dbt_projects"
PROJECTS = [FIXTURES / "erp", FIXTURES / "erp_broken", FIXTURES / "features",
            REPO / "examples" / "erp" / "dbt"]  # fmt: skip


def _scan(project: Path, cache: Path) -> tuple[LineageBatch, RenderMemo]:
    """One scan with the memo of ``cache`` (read, used, saved), as ``lineage scan`` does."""
    memo = RenderMemo(CacheFile(cache, "render", project))
    batch = load_dbt_project(project, dialect="duckdb", memo=memo)
    memo.save()
    return batch, memo


def _unmemoized(project: Path) -> LineageBatch:
    return load_dbt_project(project, dialect="duckdb")


@pytest.mark.parametrize("source", PROJECTS, ids=lambda p: p.parent.name + "/" + p.name)
def test_an_unchanged_project_renders_nothing_and_builds_the_same_batch(
    source: Path, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    shutil.copytree(source, project, ignore=shutil.ignore_patterns("target", ".lineage"))
    first, memo = _scan(project, tmp_path / "cache")
    assert memo.rendered > 0
    again, memo = _scan(project, tmp_path / "cache")
    assert memo.rendered == 0
    assert again == first == _unmemoized(project)


def _chain(root: Path) -> Path:
    """raw.t -> a -> b (star of a) -> c (aliased) -> d, and a macro a model calls."""
    (root / "models").mkdir(parents=True)
    (root / "macros").mkdir()
    (root / "dbt_project.yml").write_text("name: chain\nversion: '1'\nprofile: chain\n")
    (root / "models" / "sources.yml").write_text(
        "version: 2\nsources:\n  - name: raw\n    tables:\n      - name: t\n"
        "        columns: [{name: id}, {name: name}, {name: amount}]\n")
    (root / "macros" / "money.sql").write_text(
        "{% macro money(c) %}round({{ c }} * 100, 0){% endmacro %}\n")
    models = root / "models"
    (models / "a.sql").write_text("select id, name, {{ money('amount') }} as cents\n"
                                  "from {{ source('raw', 't') }}\n")  # fmt: skip
    (models / "b.sql").write_text("select {{ dbt_utils.star(ref('a')) }} from {{ ref('a') }}\n")
    (models / "c.sql").write_text("{{ config(alias='c_table') }}\n"
                                  "select id, name from {{ ref('b') }}\n")  # fmt: skip
    (models / "d.sql").write_text("select id, '{{ env_var('REGION', 'eu') }}' as region\n"
                                  "from {{ ref('c') }}\n")  # fmt: skip
    return root


def _renders_after(edit: object, project: Path, cache: Path) -> int:
    """Passes rendered by the rescan after ``edit``; its batch equals an unmemoized one."""
    batch, memo = _scan(project, cache)
    assert batch == _unmemoized(project)
    return memo.rendered


def test_a_rescan_renders_what_changed_and_what_saw_it_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project, cache = _chain(tmp_path / "chain"), tmp_path / "cache"
    monkeypatch.delenv("REGION", raising=False)
    _, memo = _scan(project, cache)
    assert memo.rendered == 8  # four models, two passes each
    models = project / "models"

    # A new column in a: a renders (both passes), b renders again (its star of a grew);
    # c and d saw nothing new (ref answers the same relation): served.
    (models / "a.sql").write_text((models / "a.sql").read_text().replace(
        "select id, name,", "select id, name, 1 as flag,"))  # fmt: skip
    assert _renders_after("a new column in a", project, cache) == 3

    # A new alias for c: c renders, and d, whose ref('c') now names another table.
    (models / "c.sql").write_text((models / "c.sql").read_text().replace("c_table", "c_v2"))
    assert _renders_after("c's alias", project, cache) == 3

    # The environment variable d reads: d renders again, the SQL holds the new value.
    monkeypatch.setenv("REGION", "us")
    assert _renders_after("REGION", project, cache) == 2
    batch, _ = _scan(project, cache)
    d = next(j for j in batch.jobs if j.name.endswith(".d"))
    assert d.sql is not None and "'us' as region" in d.sql

    # A macro (a file every model may call): everything renders again.
    (project / "macros" / "money.sql").write_text(
        "{% macro money(c) %}round({{ c }} * 1000, 0){% endmacro %}\n")
    assert _renders_after("a macro", project, cache) == 8
    assert _renders_after("nothing", project, cache) == 0

    # A deleted model leaves the memo with the next save.
    (models / "d.sql").unlink()
    _renders_after("d deleted", project, cache)
    memo_file = CacheFile(cache, "render", project)
    kept = memo_file.read()
    assert kept is not None and len(kept["models"]) == 3


def test_a_broken_or_forged_memo_costs_a_render_never_the_scan(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    project, cache = _chain(tmp_path / "chain"), tmp_path / "cache"
    _scan(project, cache)
    memo_file = CacheFile(cache, "render", project)
    document = json.loads(memo_file.path.read_text())
    models = document["content"]["models"]
    for index, entry in enumerate(models.values()):  # wrong types, wrong shapes
        if index % 2:
            entry["second"] = [entry["second"][0], "not calls", 7, None]
        else:
            entry["first"] = [{"materialized": "table"}, [[1, 2]], "sources"]
    memo_file.path.write_text(json.dumps(document))
    assert _renders_after("forged entries", project, cache) > 0
    memo_file.path.write_text("{ not json")
    with caplog.at_level(logging.WARNING):
        assert _renders_after("a torn file", project, cache) == 8
    assert memo_file.path.name in caplog.text
    assert _renders_after("nothing", project, cache) == 0  # written whole again


def test_a_scan_in_forked_workers_keeps_the_memo_it_was_served_from(tmp_path: Path) -> None:
    from benchmarks.bench_project import generate_project
    from parsers.sql import clear_cache

    project, cache = tmp_path / "p", tmp_path / "cache"
    generate_project(project, 40, 4, 6)
    clear_cache()  # every generation has fresh parses: each is forked with -j 2

    def scan(jobs: int) -> tuple[LineageBatch, RenderMemo]:
        memo = RenderMemo(CacheFile(cache, "render", project))
        batch = load_dbt_project(project, dialect="duckdb", jobs=jobs, memo=memo)
        memo.save()
        return batch, memo

    _, memo = scan(1)
    assert memo.rendered == 80
    edited = project / "models" / "m_0003_03.sql"  # a leaf: its change reaches no other
    edited.write_text(edited.read_text().replace("\nfrom ", ",\n    1 as flag\nfrom ", 1))
    clear_cache()
    # Second passes served in workers, out of this process's sight; the edit rewrites the
    # memo file (its first pass was rendered here), which must keep their records.
    together, memo = scan(2)
    assert memo.rendered == 1
    again, memo = scan(1)
    assert again == together == _unmemoized(project)
    assert memo.rendered == 1  # only the model rendered anew in a worker
