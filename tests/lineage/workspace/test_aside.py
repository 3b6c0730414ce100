"""On a second core the cache files are written by a forked child beside the catalog
write: the next scan finds them as a scan in one process leaves them."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from lineage.workspace import Workspace
from lineage.workspace import aside as aside_module
from parsers.sql import clear_cache

REPO = Path(__file__).resolve().parents[3]
DBT_ERP = REPO / "tests" / "parsers" / "dbt" / "dbt_projects" / "erp"


def _scan(root: Path, project: Path, jobs: int) -> tuple[dict[str, object], list[str]]:
    clear_cache()
    workspace = Workspace.open(root, catalog_url=f"sqlite:///{root / 'c.db'}")
    try:
        report = workspace.scan([str(project)], jobs=jobs)
    finally:
        workspace.close()
    files = sorted(p.name for p in (root / ".lineage" / "cache").iterdir())
    return {"batches": [b.edges for b in report.batches], "summaries": report.summaries}, files


def test_a_child_writes_the_caches_while_the_catalog_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alone_root, together_root = tmp_path / "one", tmp_path / "two"
    for root in (alone_root, together_root):
        shutil.copytree(DBT_ERP, root / "erp")
    with monkeypatch.context() as one_core:
        one_core.setattr(aside_module, "_cores", lambda: 1)
        alone, alone_files = _scan(alone_root, alone_root / "erp", jobs=1)

    children: list[int] = []
    fork = aside_module._fork

    def spied(saves: object) -> int | None:
        child = fork(saves)  # type: ignore[arg-type]
        if child is not None:
            children.append(child)
        return child

    monkeypatch.setattr(aside_module, "_fork", spied)
    monkeypatch.setattr(aside_module, "_cores", lambda: 2)
    together, together_files = _scan(together_root, together_root / "erp", jobs=1)
    assert children and children[0] != os.getpid()
    assert together == alone
    # The same files (named by the project's path, so compared by kind), whole.
    assert [_kind(n) for n in together_files] == [_kind(n) for n in alone_files]
    for name in together_files:
        json.loads((together_root / ".lineage" / "cache" / name).read_bytes())
    assert _entries(together_root) == _entries(alone_root)

    # The next scan (one process, nothing changed) is served by what the child wrote.
    clear_cache()
    workspace = Workspace.open(together_root, catalog_url=f"sqlite:///{tmp_path / 'new.db'}")
    monkeypatch.setattr("parsers.dbt.load.render_project", _no_render)
    try:
        report = workspace.scan([str(together_root / "erp")])
    finally:
        workspace.close()
    assert [b.edges for b in report.batches] == alone["batches"]


def _kind(name: str) -> str:
    return name.split("-")[0] + ("summary" if "summary" in name else "")


def _entries(root: Path) -> int:
    (path,) = (root / ".lineage" / "cache").glob("sql-lineage-*.json")
    return len(json.loads(path.read_bytes())["entries"])


def _no_render(*args: object, **kwargs: object) -> None:
    raise AssertionError("the project was rendered again although the batch cache is current")
