"""Rebuilds: nothing changed -> nothing done; one change -> only what it touches is
rendered, and the folder is byte for byte what a fresh build writes; the manifest is
trusted only when it is whole, of this code and of this folder's files."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import fields, replace
from datetime import timedelta
from pathlib import Path

import pytest

from docs_site.build import MANIFEST, SiteReport
from lineage.catalog import Catalog
from lineage.model import ColumnEdge, ColumnId, DatasetId, Field, LineageBatch, Schema
from tests.docs_site import erp_catalog as erp
from tests.docs_site.conftest import DRIFT, build_erp

REPO = Path(__file__).resolve().parents[2]
GROUPS = 4 + 3  # the ERP site's datasets and jobs: what a full build renders


def _files(site: Path) -> dict[str, str]:
    return {str(p.relative_to(site)): hashlib.sha1(p.read_bytes()).hexdigest()
            for p in sorted(site.rglob("*")) if p.is_file()}  # fmt: skip


@pytest.fixture
def erp_copy(erp_db: str, tmp_path: Path) -> str:
    """A catalog of its own: these tests change it."""
    path = tmp_path / "catalog.db"
    shutil.copyfile(erp_db.removeprefix("sqlite:///"), path)
    return f"sqlite:///{path}"


def _same_as_fresh(url: str, site: Path, tmp_path: Path, **options: object) -> SiteReport:
    """Rebuild ``site`` in place and check it against a fresh build of the same catalog."""
    rebuilt = build_erp(url, site, drift=DRIFT, **options)
    fresh = tmp_path / f"fresh-{len(list(tmp_path.iterdir()))}"
    build_erp(url, fresh, drift=DRIFT, **options)
    assert _files(site) == _files(fresh)
    return rebuilt


def test_a_rebuild_with_nothing_changed_does_nothing(erp_copy: str, tmp_path: Path) -> None:
    site = tmp_path / "site"
    first = build_erp(erp_copy, site, drift=DRIFT)
    assert first.rendered == GROUPS
    stamps = {p: p.stat().st_mtime_ns for p in site.rglob("*") if p.is_file()}
    again = build_erp(erp_copy, site, drift=DRIFT, now=erp.NOW + timedelta(days=1))
    assert again.rendered == 0
    assert (again.datasets, again.jobs, again.pages, again.files, again.bytes) == (
        first.datasets, first.jobs, first.pages, first.files, first.bytes)  # fmt: skip
    assert {p: p.stat().st_mtime_ns for p in site.rglob("*") if p.is_file()} == stamps


def test_one_change_renders_what_it_touches_and_gives_a_fresh_builds_files(
    erp_copy: str, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    build_erp(erp_copy, site, drift=DRIFT)
    with Catalog(erp_copy) as catalog:  # a new gold column fed by silver.gender
        gold = catalog.dataset(erp.GOLD)
        assert gold is not None and gold.schema is not None
        wider = replace(gold, schema=Schema((*gold.schema.fields, Field("gender_code", "text"))))
        edge = ColumnEdge(ColumnId(erp.SILVER, "gender"), erp.GOLD, "gender_code",
                          (erp.CAST,), "erp.dim_customers")  # fmt: skip
        job = catalog.job(erp.NS, "erp.dim_customers")
        assert job is not None
        edges = (*catalog.edges_of_job(job.name), edge)  # a job's batch is all its edges
        catalog.write(LineageBatch(datasets=(wider,), jobs=(job,), edges=edges))
    report = _same_as_fresh(erp_copy, site, tmp_path)
    assert 0 < report.rendered < GROUPS  # gold and silver's shard, not bronze, not hostile

    with Catalog(erp_copy) as catalog:  # the bronze load fails again: its readers' runbooks
        catalog.record_run("load-2", "erp.load_bronze", "START", erp.NOW)
        catalog.record_run("load-2", "erp.load_bronze", "FAIL", erp.NOW + timedelta(minutes=1))
    report = _same_as_fresh(erp_copy, site, tmp_path)
    assert 0 < report.rendered < GROUPS

    with Catalog(erp_copy) as catalog:  # a description inherited two hops downstream
        bronze = catalog.dataset(erp.BRONZE)
        assert bronze is not None and bronze.schema is not None
        keyed = tuple(replace(f, description="The ERP's own key") if f.name == "cid" else f
                      for f in bronze.schema.fields)  # fmt: skip
        catalog.write(LineageBatch(datasets=(replace(bronze, schema=Schema(keyed)),)))
    report = _same_as_fresh(erp_copy, site, tmp_path)
    assert 0 < report.rendered < GROUPS
    gold_page = next((site / "datasets").glob("erp.gold.dim_customers-*.html")).read_text()
    assert "The ERP&#39;s own key" in gold_page  # inherited, on a page it never named

    # New owners: gold's in silver's blast radius, bronze's in its upstream list
    for dataset_id, owner in ((erp.GOLD, "bi-team"), (erp.BRONZE, "lake-team")):
        with Catalog(erp_copy) as catalog:
            found = catalog.dataset(dataset_id)
            assert found is not None
            catalog.write(LineageBatch(datasets=(replace(found, owners=(owner,)),)))
        report = _same_as_fresh(erp_copy, site, tmp_path)
        assert 0 < report.rendered < GROUPS
        silver_runbook = next((site / "runbooks" / "datasets").glob("erp.silver.erp_customers-*"))
        assert owner in silver_runbook.read_text(encoding="utf-8")
    # The digest reads a reached dataset's id as its two fields: there must be no third.
    assert [f.name for f in fields(DatasetId)] == ["namespace", "name"]

    # A new title is on every page: all of them again.
    assert _same_as_fresh(erp_copy, site, tmp_path, title="ERP docs").rendered == GROUPS


def test_a_deleted_page_or_a_stray_file_is_put_right(erp_copy: str, tmp_path: Path) -> None:
    site = tmp_path / "site"
    build_erp(erp_copy, site, drift=DRIFT)
    expected = _files(site)
    page = next((site / "runbooks" / "datasets").glob("erp.silver.erp_customers-*.html"))
    page.unlink()
    stray = site / "data" / "datasets" / "stray.json"
    stray.write_text("{}", encoding="utf-8")
    report = build_erp(erp_copy, site, drift=DRIFT)
    assert report.rendered == 1 and _files(site) == expected


@pytest.mark.parametrize("manifest", ["{torn", '{"format": "other"}', ""])
def test_a_torn_or_foreign_manifest_means_a_full_build(
    erp_copy: str, tmp_path: Path, manifest: str
) -> None:
    site = tmp_path / "site"
    build_erp(erp_copy, site, drift=DRIFT)
    expected = _files(site)
    for path in (site / "datasets").iterdir():  # a page that a trusted manifest would keep
        path.write_text("edited by hand", encoding="utf-8")
    (site / MANIFEST).write_text(manifest, encoding="utf-8")
    assert build_erp(erp_copy, site, drift=DRIFT).rendered == GROUPS
    assert _files(site) == expected


def test_digests_are_the_same_in_every_process(erp_db: str, tmp_path: Path) -> None:
    # String hashing differs per process: a digest that followed set order or object
    # identity would render everything again on every run of `lineage docs build`.
    script = textwrap.dedent(f"""
        from pathlib import Path
        from tests.docs_site.conftest import DRIFT, build_erp
        import sys
        build_erp({erp_db!r}, Path(sys.argv[1]), drift=DRIFT, processes=int(sys.argv[2]))
    """)
    manifests = []
    for seed, processes in (("1", "1"), ("2", "2"), ("3", "1")):
        out = tmp_path / f"site-{seed}"
        subprocess.run([sys.executable, "-c", script, str(out), processes], cwd=REPO,
                       check=True, env={**os.environ, "PYTHONHASHSEED": seed},
                       timeout=120)  # fmt: skip
        manifests.append((out / MANIFEST).read_bytes())
    assert manifests[0] == manifests[1] == manifests[2]
