"""A dbt model that kills its parser process (``-j 2``) costs that model only: the others
are parsed and the crash is one error naming the model's file."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path
from typing import Any

import pytest

from parsers.dbt import batch
from parsers.dbt.load import load_dbt_project

pytestmark = pytest.mark.skipif(
    multiprocessing.get_start_method() != "fork",
    reason="the crash is injected into forked workers",
)


_PARSE = batch._parse


def _crashing(args: Any) -> Any:
    if str(args[3]).endswith("boom.sql"):
        os._exit(70)  # as a segfault would: no exception, the process is gone
    return _PARSE(args)


def test_a_crashing_model_costs_only_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "dbt_project.yml").write_text("name: p\nversion: '1'\nprofile: p\n")
    for n in range(12):
        (tmp_path / "models" / f"m{n:02d}.sql").write_text(f"SELECT {n} AS id, 'x' AS name")
    (tmp_path / "models" / "boom.sql").write_text("SELECT 1 AS id")
    monkeypatch.setattr(batch, "_parse", _crashing)
    monkeypatch.setattr(batch, "_PARALLEL_MIN", 2)
    result = load_dbt_project(tmp_path, jobs=2, use_manifest=False)
    crashed = [i for i in result.issues if "crashed" in i.message]
    assert len(crashed) == 1 and str(crashed[0].file).endswith("boom.sql")
    parsed = {j.name.rsplit(".", 1)[-1] for j in result.jobs}
    assert {f"m{n:02d}" for n in range(12)} <= parsed
