"""``-j 2`` renders and parses whole models in forked workers: the batch is the one a
single process builds (issues and their order included), the parent's parse cache holds
every model the workers parsed, and a project's ephemeral models, macros and render
errors come through."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from benchmarks.bench_project import generate_project
from parsers.dbt import batch as dbt_batch
from parsers.dbt import workers as workers_module
from parsers.dbt.load import load_dbt_project
from parsers.sql import clear_cache, export_cache


def _project(root: Path) -> Path:
    generate_project(root, 60, 6, 8)  # 10 chains of 6, macros, joins across chains
    models = root / "models"
    (models / "eph_base.sql").write_text(
        "{{ config(materialized='ephemeral') }}\nselect c00, c01 from {{ ref('m_0000_01') }}\n")
    for n in range(5):  # one generation of models reading the ephemeral one
        (models / f"uses_eph_{n}.sql").write_text(
            f"select c00 + {n} as k, c01 from {{{{ ref('eph_base') }}}}\n")
    (models / "broken.sql").write_text("select {{ undefined_macro() }} from x\n")
    (models / "bad_sql.sql").write_text("select from from {{ ref('m_0001_02') }} ((\n")
    return root


def test_forked_workers_build_the_batch_one_process_builds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _project(tmp_path / "p")
    clear_cache()
    alone = load_dbt_project(project, jobs=1, dialect="duckdb")
    clear_cache()
    workers: set[int] = set()
    forks: list[int] = []
    real = workers_module.map_forked  # what batch.py calls, before the spy replaces it

    def spied(function: Callable[[int], Any], count: int, processes: int) -> list[Any]:
        forks.append(count)
        results = real(lambda i: (os.getpid(), function(i)), count, processes)
        workers.update(pid for pid, _ in results)
        return [outcome for _, outcome in results]

    monkeypatch.setattr(dbt_batch, "map_forked", spied)
    together = load_dbt_project(project, jobs=2, dialect="duckdb")
    assert workers and os.getpid() not in workers  # the models went to other processes
    assert len(forks) >= 5  # every generation with models to parse
    assert together == alone
    assert any("undefined_macro" in i.message for i in together.issues)
    assert any(str(i.file).endswith("bad_sql.sql") for i in together.issues)
    assert any(j.name.endswith("uses_eph_0") for j in together.jobs)

    # What the workers parsed is in this process's cache: the same scan parses nothing.
    cached = export_cache()
    assert len(cached) >= 60

    parse = dbt_batch._parse

    def no_parsing(args: Any) -> Any:
        # A script with an error is never cached (its positions belong to one occurrence).
        assert str(args[3]).endswith("bad_sql.sql"), f"{args[3]} parsed again"
        return parse(args)

    monkeypatch.setattr(dbt_batch, "_parse", no_parsing)
    forks.clear()
    assert load_dbt_project(project, jobs=2, dialect="duckdb") == alone
    # Served from the cache: after the first generation, the rest run in this process.
    assert len(forks) == 1
