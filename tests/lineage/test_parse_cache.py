"""Parse results persist under .lineage/cache: an unchanged re-scan parses nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lineage.workspace import Workspace
from parsers import sql as sql_module
from parsers.sql import clear_cache

REPO = Path(__file__).resolve().parents[2]


def test_rescan_in_a_new_process_is_served_from_the_saved_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    shutil.copytree(REPO / "examples" / "erp", project)
    first = Workspace.open(project)
    report = first.scan([str(project)], first.scan_options(dialect="redshift"), write=False)
    first.close()
    saved = list((project / ".lineage" / "cache").glob("sql-lineage-*.pkl"))
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
    shutil.copytree(REPO / "examples" / "erp", project)
    cache = project / ".lineage" / "cache"
    cache.mkdir(parents=True)
    workspace = Workspace.open(project)
    workspace.scan([str(project)], workspace.scan_options(dialect="redshift"), write=False)
    for path in cache.glob("*.pkl"):
        path.write_bytes(b"not a pickle")
    clear_cache()
    report = workspace.scan([str(project)], workspace.scan_options(dialect="redshift"), write=False)
    workspace.close()
    assert report.scripts.statements and not report.issues
