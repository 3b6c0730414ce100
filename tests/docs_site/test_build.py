"""The built site's content, from a real catalog: pages, runbooks, drift, determinism,
escaping of hostile text, and the rules for the output folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from docs_site.build import MANIFEST, MARKER
from lineage.catalog import Catalog
from lineage.errors import ConfigError
from tests.docs_site import erp_catalog as erp
from tests.docs_site.conftest import build_erp
from tests.docs_site.helpers import page_of, parse, text_of


def test_the_index_groups_datasets_by_layer_with_runs_checks_and_coverage(erp_site: Path) -> None:
    text = text_of((erp_site / "index.html").read_text(encoding="utf-8"))
    assert text.index("Bronze 1") < text.index("Silver 2") < text.index("Gold 1")
    assert "erp.bronze.erp_cust_az12 source ingest-team FAIL 2026-11-28 06:00 UTC" in text
    assert "erp.silver.erp_customers incremental data-eng COMPLETE 2026-11-27 06:00 UTC 1 1" in text
    assert "Coverage" in text and "silver 2 1 (50%) 2 (100%) 5" in text


def test_a_dataset_page_shows_schema_lineage_contract_checks_history_and_jobs(
    erp_site: Path,
) -> None:
    html = page_of(erp_site, "datasets", "erp.silver.erp_customers")
    text = text_of(html)
    assert "silver incremental duckdb:///data/erp.duckdb" in text
    assert "Owners data-eng Source file models/silver/erp_customers.sql" in text
    # schema: types, live constraints, contract constraints and tests per column
    assert "customer_id lineage varchar(50)" in text
    assert ("primary key not null contract: not_null(customer_id) "
            "contract: unique(customer_id)") in text
    # what each column's hops do (the hops themselves are drawn from the shard: browser)
    assert "birth_date lineage date Birth date, cleaned transformed default NULL" in text
    assert "erp.bronze.erp_cust_az12.cid rename primary key" in text
    assert "Every row is shaped by: erp.bronze.erp_cust_az12.cid INDIRECT/FILTER" in text
    # a renamed column without a description inherits its source's, marked as such
    assert "ERP customer key inherited from erp.bronze.erp_cust_az12.cid" in text
    assert "1 datasets downstream" in text and "1 erp.gold.dim_customers DIRECT analytics" in text
    assert "freshness failed 26h <= 1d 2026-11-28 06:00 UTC stale" in text
    assert html.count('<svg class="chart"') == 2 and "1,175" in text
    assert "erp.silver_customers (dbt_model) — COMPLETE" in text
    assert "erp.dim_customers (dbt_model) — no runs" in text
    assert '<span class="sql-kw">SELECT</span>' in html and "&lt;x&gt;" in html
    assert '<section id="graph" hidden>' in html  # drawn by site.js from the shard
    assert "birth_date: date -&gt; varchar" in html  # open drift on the page


def test_bronze_shows_its_partitions_files_and_small_files_finding(erp_site: Path) -> None:
    text = text_of(page_of(erp_site, "datasets", "erp.bronze.erp_cust_az12"))
    assert "parquet at s3://lake/bronze/erp/cust_az12 · 42 files" in text
    assert "partitioned by year, month" in text
    assert "small_files 40 files under 128 KB" in text
    assert "year=2026/month=10 40 360,000 4,000 8,000 10,000" in text


def test_runbooks_are_filled_with_the_datasets_facts(erp_site: Path) -> None:
    text = text_of(page_of(erp_site, "runbooks/datasets", "erp.silver.erp_customers"))
    assert "Fresh within 1d on loaded_at" in text and "Schedule: daily 05:00 UTC" in text
    assert "1 erp.bronze.erp_cust_az12 FAIL ingest-team" in text  # upstream + its last run
    assert "1 erp.gold.dim_customers DIRECT analytics" in text  # blast radius with owners
    assert "freshness <= 1d error failed 26h" in text
    assert "unique(customer_id) error not run" in text
    assert "dbt run --select silver_customers --vars '{backfill_date: YYYY-MM-DD}'" in text
    assert "lineage events replay" in text and "DuckDB: restore the .duckdb file" in text
    assert 'FROM erp.silver.erp_customers WHERE "customer_id" IS NULL' in text
    assert "NOT \"gender\" IN ('Male', 'Female', 'n/a')" in text
    assert "failed upstream runs: erp.bronze.erp_cust_az12" in text
    assert text.count("not_null(customer_id)") == 2  # the check once, its query once
    bronze = text_of(page_of(erp_site, "runbooks/datasets", "erp.bronze.erp_cust_az12"))
    assert "42 files, average" in bronze and "40 files under 128 KB" in bronze
    assert "partitioned by year, month (2 partitions)" in bronze
    assert 'python pipelines/load.py # runs @lineage.job(name="erp.load_bronze")' in bronze
    assert "S3: restore the previous object versions" not in bronze  # namespace is duckdb


def test_job_pages_list_runs_with_state_duration_and_error(erp_site: Path) -> None:
    load = text_of(page_of(erp_site, "jobs", "erp.load_bronze"))
    assert "load-1 FAIL 2026-11-28 06:00 UTC 60 s S3 access denied" in load
    silver = text_of(page_of(erp_site, "jobs", "erp.silver_customers"))
    assert "run-7 COMPLETE 2026-11-27 06:00 UTC 3.0 min" in silver
    assert "not_null(customer_id) passed run-7" in silver
    runbook = text_of(page_of(erp_site, "runbooks/jobs", "erp.load_bronze"))
    assert "FAIL" in runbook and "S3 access denied" in runbook
    assert "2 erp.gold.dim_customers analytics" in runbook


def test_the_drift_page_lists_findings_and_says_so_when_there_are_none(
    erp_site: Path, erp_db: str, tmp_path: Path
) -> None:
    text = text_of((erp_site / "drift.html").read_text(encoding="utf-8"))
    assert "breaking erp.silver.erp_customers birth_date type_changed" in text
    assert "erp.gold.dim_customers" in text
    build_erp(erp_db, tmp_path / "site")
    assert "No drift recorded." in (tmp_path / "site" / "drift.html").read_text(encoding="utf-8")


def test_hostile_text_is_escaped_everywhere(erp_site: Path) -> None:
    pages = [p.read_text(encoding="utf-8") for p in sorted(erp_site.rglob("*.html"))]
    for html in pages:
        parsed = parse(html)
        scripts = [attrs.get("src") for tag, attrs in parsed.tags if tag == "script"]
        assert all(src and src.endswith(".js") for src in scripts)  # no inline script at all
        assert not any(tag == "img" for tag, _ in parsed.tags)
        assert "javascript:" not in " ".join(str(a.get("href")) for _, a in parsed.tags)
    hostile = page_of(erp_site, "datasets", "erp.silver.hostile")
    for path in erp_site.rglob("*.*"):  # secrets in meta never reach any file of the site
        content = path.read_text(encoding="utf-8")
        assert "hunter2" not in content and "pw123" not in content, path
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hostile
    assert "{{ 7*7 }}" in text_of(hostile)  # shown as text, not evaluated
    note = page_of(erp_site, "runbooks/datasets", "erp.silver.erp_customers")
    assert "&lt;img src=x onerror=alert(2)&gt;" in note and "<strong>data-eng</strong>" in note
    shard = next((erp_site / "data" / "lineage").glob("erp.silver.hostile-*.js")).read_text()
    assert "</script>" not in shard


def test_the_same_catalog_builds_a_byte_identical_site(erp_db: str, tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    build_erp(erp_db, first)
    build_erp(erp_db, second)
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    assert len(files) > 20
    for name in files:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_a_rebuild_removes_stale_files_and_a_foreign_folder_is_refused(
    erp_db: str, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    build_erp(erp_db, out)
    stale = out / "datasets" / "gone-00000000.html"
    stale.write_text("old", encoding="utf-8")
    report = build_erp(erp_db, out)
    assert not stale.exists() and (out / MARKER).exists()
    assert report.datasets == 4 and report.jobs == 3 and report.pages == 17
    assert report.bytes == sum(p.stat().st_size for p in out.rglob("*")
                               if p.is_file() and p.name != MANIFEST)  # fmt: skip
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(ConfigError, match="not empty"):
        build_erp(erp_db, foreign)
    assert (foreign / "notes.txt").read_text(encoding="utf-8") == "keep me"


def test_published_json_lineage_and_per_dataset_documents(erp_site: Path) -> None:
    lineage = json.loads((erp_site / "lineage.json").read_text(encoding="utf-8"))
    assert lineage["format"] == "silverline-lineage/1" and len(lineage["edges"]) == 8
    edge = next(e for e in lineage["edges"] if e["target"]["field"] == "birth_date"
                and e["source"]["field"] == "bdate")  # fmt: skip
    assert edge["transformations"] == [
        {"type": "DIRECT", "subtype": "TRANSFORMATION", "masking": False}
    ]
    doc = json.loads(next((erp_site / "data" / "datasets").glob(
        "erp.gold.dim_customers-*.json")).read_text(encoding="utf-8"))  # fmt: skip
    column = doc["columns"][0]
    assert (column["name"], column["status"], column["inherited_from"]) == (
        "customer_id", "pass-through", "erp.silver.erp_customers.customer_id"
    ) or column["inherited_from"] == "erp.bronze.erp_cust_az12.cid"


def test_an_empty_catalog_builds_a_site_that_says_so(tmp_path: Path) -> None:
    from docs_site.build import build_site

    with Catalog(f"sqlite:///{tmp_path / 'empty.db'}") as catalog:
        report = build_site(catalog, tmp_path / "site", now=erp.NOW)
    assert report.datasets == 0
    assert "holds no datasets yet" in (tmp_path / "site" / "index.html").read_text()
    schema = json.loads((tmp_path / "site" / "schema.json").read_text(encoding="utf-8"))
    assert schema["datasets"] == []


def test_no_internal_link_is_broken(erp_site: Path) -> None:
    from urllib.parse import unquote, urlsplit

    checked = 0
    for page in sorted(erp_site.rglob("*.html")):
        for tag, attrs in parse(page.read_text(encoding="utf-8")).tags:
            target = attrs.get("href") if tag in ("a", "link") else attrs.get("src")
            if not target or target.startswith(("data:", "#")) or (tag == "link" and
                                                                   attrs.get("rel") == "canonical"):
                continue  # fmt: skip
            parts = urlsplit(target)
            assert not parts.scheme and not parts.netloc, (page, target)  # nothing external
            resolved = (page.parent / unquote(parts.path)).resolve()
            assert resolved.is_file(), (page.relative_to(erp_site), target)
            if parts.fragment and resolved.suffix == ".html" and not parts.fragment.startswith(
                "lineage="
            ):
                assert f'id="{parts.fragment}"' in resolved.read_text(encoding="utf-8"), target
            checked += 1
    assert checked > 200


def test_a_wide_blast_radius_shows_the_nearest_and_counts_them_all(tmp_path: Path) -> None:
    # Every page and JSON holding a dataset's whole downstream set grows with the square
    # of the project: the nearest LIST_LIMIT are shown, with the count of all of them.
    from docs_site.build import build_site
    from docs_site.context import LIST_LIMIT
    from lineage.model import (
        ColumnEdge,
        ColumnId,
        Dataset,
        DatasetId,
        LineageBatch,
        Transformation,
        TransformationSubtype,
    )

    identity = (Transformation.direct(TransformationSubtype.IDENTITY),)
    root = DatasetId("duckdb", "dwh.bronze.orders")
    fan = [DatasetId("duckdb", f"dwh.silver.orders_{i:03d}") for i in range(LIST_LIMIT + 10)]
    far = DatasetId("duckdb", "dwh.gold.orders_far")
    edges = [ColumnEdge(ColumnId(root, "id"), d, "id", identity) for d in fan]
    edges.append(ColumnEdge(ColumnId(fan[0], "id"), far, "id", identity))
    with Catalog(f"sqlite:///{tmp_path / 'c.db'}") as catalog:
        catalog.write(LineageBatch(
            datasets=tuple(Dataset(d) for d in (root, *fan, far)), edges=tuple(edges),
        ))  # fmt: skip
        build_site(catalog, tmp_path / "site")
    site = tmp_path / "site"
    [document] = [json.loads(p.read_text()) for p in (site / "data" / "datasets").glob(
        "dwh.bronze.orders-*.json")]  # fmt: skip
    assert document["downstream_total"] == LIST_LIMIT + 11
    assert len(document["downstream"]) == LIST_LIMIT
    assert {d["distance"] for d in document["downstream"]} == {1}  # the nearest first
    text = text_of(page_of(site, "datasets", "dwh.bronze.orders"))
    assert f"{LIST_LIMIT + 11} datasets downstream" in text
    assert "… and 11 more, further away: lineage impact dwh.bronze.orders lists them all" in text
    runbook = text_of(page_of(site, "runbooks/datasets", "dwh.bronze.orders"))
    assert f"{LIST_LIMIT + 11} datasets downstream; tell their owners" in runbook
    far_runbook = text_of(page_of(site, "runbooks/datasets", "dwh.gold.orders_far"))
    assert "1 dwh.silver.orders_000" in far_runbook and "2 dwh.bronze.orders" in far_runbook


def test_two_jobs_of_one_name_get_a_page_each_with_their_own_runs(tmp_path: Path) -> None:
    # The ERP pipeline's task "erp.erp_customers" runs the dbt model the dbt reader names
    # "erp.erp_customers" too, in the warehouse's namespace: two jobs, two pages.
    from datetime import datetime, timezone

    from docs_site.build import build_site
    from lineage.model import DatasetId, Job, LineageBatch

    when = datetime(2026, 11, 30, 6, 0, tzinfo=timezone.utc)
    silver = DatasetId("duckdb:///erp.duckdb", "erp.silver.erp_customers")
    with Catalog(f"sqlite:///{tmp_path / 'c.db'}") as catalog:
        catalog.write(LineageBatch(jobs=(
            Job("duckdb:///erp.duckdb", "erp.erp_customers", kind="dbt_model",
                sql="select 1 as customer_id", outputs=(silver,)),
            Job("default", "erp.erp_customers", kind="python", outputs=(silver,)),
        )))  # fmt: skip
        catalog.record_run("task-run", "erp.erp_customers", "FAIL", when, job_namespace="default")
        build_site(catalog, tmp_path / "site")
    pages = sorted((tmp_path / "site" / "jobs").glob("erp.erp_customers-*.html"))
    texts = {("dbt_model" if "dbt_model" in text else "python"): text
             for text in (text_of(p.read_text()) for p in pages)}  # fmt: skip
    assert sorted(texts) == ["dbt_model", "python"]
    assert "FAIL" in texts["python"] and "FAIL" not in texts["dbt_model"]
    listing = text_of((tmp_path / "site" / "jobs" / "index.html").read_text())
    assert "erp.erp_customers default python" in listing
    assert "erp.erp_customers duckdb:///erp.duckdb dbt_model" in listing
