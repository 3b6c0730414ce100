"""Parse results persist under .lineage/cache: an unchanged re-scan parses nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lineage.workspace import Workspace
from parsers.sql import clear_cache
from parsers.sql import parse as sql_module

REPO = Path(__file__).resolve().parents[3]


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
