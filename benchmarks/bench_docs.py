"""Build the docs site of a generated project: build time, site size, browser timings.

Generates a layered project as model objects (sources in bronze, models in silver and
gold, 20-30 columns each, every model reading 1-3 earlier ones with column edges of every
OpenLineage subtype, two runs per job, a row-count history, check results), writes it to
a temporary SQLite catalog and prints, per size:

- catalog write; the installed ``lineage docs build`` end to end (a new process, as a
  user runs it): a first build, a rebuild with nothing changed and a rebuild after one
  model changed (a new column and a new description), in seconds;
- files, pages and bytes of the site;
- with headless Chromium (``/usr/bin/chromium`` + playwright): first render of the index,
  one dataset page, its column-lineage view painted, and a search, in milliseconds.

    python benchmarks/bench_docs.py [--models 1000] [--models 10000] [--no-browser]
"""

from __future__ import annotations

import argparse
import random
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LINEAGE = Path(sys.executable).with_name("lineage")
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from lineage.catalog import Catalog  # noqa: E402
from lineage.model import (  # noqa: E402
    ColumnEdge,
    ColumnId,
    Dataset,
    DatasetId,
    DatasetKind,
    DataTest,
    Field,
    Job,
    LineageBatch,
    Schema,
    Transformation,
    TransformationSubtype,
)

NAMESPACE = "duckdb:///warehouse/dwh.duckdb"
T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)
_KINDS = (
    Transformation.direct(TransformationSubtype.IDENTITY),
    Transformation.direct(TransformationSubtype.TRANSFORMATION),
    Transformation.direct(TransformationSubtype.AGGREGATION),
    Transformation.indirect(TransformationSubtype.JOIN),
)
_WORDS = ("customer", "order", "amount", "status", "created", "country", "email", "product",
          "price", "quantity", "region", "segment", "channel", "currency", "discount")  # fmt: skip


def generate(models: int, seed: int = 7) -> LineageBatch:
    """A project of ``models`` datasets: 10 % bronze sources, then silver, then gold."""
    rng = random.Random(seed)
    datasets: list[Dataset] = []
    jobs: list[Job] = []
    edges: list[ColumnEdge] = []
    for i in range(models):
        layer = "bronze" if i < models // 10 else "silver" if i < models * 6 // 10 else "gold"
        name = f"dwh.{layer}.{_WORDS[i % 15]}_{_WORDS[(i // 15) % 15]}_{i}"
        width = rng.randint(20, 30)
        columns = [f"{_WORDS[(i + c) % 15]}_{_WORDS[c % 15]}_{c}" for c in range(width)]
        schema = Schema(tuple(
            Field(c, "varchar" if n % 3 else "bigint", f"The {c.split('_')[0]} of {name}"
                  if n % 2 == 0 else None) for n, c in enumerate(columns)))  # fmt: skip
        dataset_id = DatasetId(NAMESPACE, name)
        datasets.append(Dataset(
            dataset_id, DatasetKind.SOURCE if layer == "bronze" else DatasetKind.TABLE, schema,
            description=f"{layer} dataset {i}", owners=(f"team-{i % 12}",),
            tags=(layer, _WORDS[i % 15]), tests=(DataTest("not_null", columns[0]),),
            meta='{"materialized": "table"}', source_file=f"models/{layer}/{name}.sql",
        ))  # fmt: skip
        if layer == "bronze":
            continue
        earlier = datasets[: max(1, i - 1)]
        parents = rng.sample(earlier[-200:], k=min(len(earlier[-200:]), rng.randint(1, 3)))
        job = f"model.{name}"
        jobs.append(Job(NAMESPACE, job, kind="dbt_model", sql=f"SELECT * FROM {parents[0].id.name}",
                        owners=(f"team-{i % 12}",), inputs=tuple(p.id for p in parents),
                        outputs=(dataset_id,)))  # fmt: skip
        for column in columns:
            parent = rng.choice(parents)
            assert parent.schema is not None
            source = rng.choice(parent.schema.fields).name
            edges.append(ColumnEdge(ColumnId(parent.id, source), dataset_id, column,
                                    (rng.choice(_KINDS),), job))  # fmt: skip
    return LineageBatch(tuple(datasets), tuple(jobs), tuple(edges))


def fill(catalog: Catalog, batch: LineageBatch) -> None:
    catalog.write(batch, observed_at=T0)
    for n, job in enumerate(batch.jobs):
        for day in range(2):
            run = f"run-{n}-{day}"
            moment = T0 + timedelta(days=day, minutes=n % 60)
            catalog.record_run(run, job.name, "START", moment)
            catalog.record_run(run, job.name, "FAIL" if (n + day) % 37 == 0 else "COMPLETE",
                               moment + timedelta(minutes=2))  # fmt: skip
    for n, dataset in enumerate(batch.datasets[: len(batch.datasets) // 4]):
        for day in range(3):
            catalog.record_metric(dataset.id, "row_count", 1000 + 10 * day + n,
                                  T0 + timedelta(days=day))  # fmt: skip
        catalog.record_check_result(dataset.id, "row_count_min", "passed" if n % 9 else "failed",
                                    T0 + timedelta(days=2))  # fmt: skip


def lineage_docs_build(url: str, out: Path) -> tuple[float, str]:
    """Wall seconds of the installed ``lineage docs build`` as a user runs it (a new
    process: imports, catalog read, build, exit), and what it said."""
    started = time.perf_counter()
    done = subprocess.run([str(LINEAGE), "docs", "build", "--catalog", url, "--out", str(out)],
                          capture_output=True, text=True, check=True)  # fmt: skip
    return time.perf_counter() - started, done.stderr


def site_figures(site: Path) -> tuple[int, int, int]:
    """Files, HTML pages and bytes of a built site."""
    files = [p for p in site.rglob("*") if p.is_file()]
    return len(files), sum(p.suffix == ".html" for p in files), sum(p.stat().st_size
                                                                  for p in files)  # fmt: skip


def edit_one_model(catalog: Catalog, batch: LineageBatch) -> None:
    """What one model's edit writes: a silver model in the middle gains a column computed
    from one of its inputs, and one of its columns a new description."""
    job = batch.jobs[len(batch.jobs) // 3]
    (target,) = job.outputs
    dataset = next(d for d in batch.datasets if d.id == target)
    parent = next(d for d in batch.datasets if d.id == job.inputs[0])
    assert dataset.schema is not None and parent.schema is not None
    fields = (replace(dataset.schema.fields[0], description="Edited in this change"),
              *dataset.schema.fields[1:], Field("added_column", "varchar"))  # fmt: skip
    edges = (*[e for e in batch.edges if e.job == job.name],
             ColumnEdge(ColumnId(parent.id, parent.schema.fields[0].name), target, "added_column",
                        (_KINDS[1],), job.name))  # fmt: skip
    catalog.write(LineageBatch((replace(dataset, schema=Schema(fields)),), (job,), edges),
                  observed_at=T0 + timedelta(days=3))  # fmt: skip


def browse(site: Path) -> dict[str, float]:
    """Milliseconds for the index, a dataset page, its lineage view and a search."""
    from playwright.sync_api import sync_playwright

    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run",
            "--disable-dev-shm-usage"]  # fmt: skip
    pages = sorted((site / "datasets").glob("dwh.gold.*.html"))
    target = pages[len(pages) // 2]
    out: dict[str, float] = {}
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        page = browser.new_page()
        started = time.perf_counter()
        page.goto((site / "index.html").as_uri(), wait_until="load")
        out["index_ms"] = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        page.goto(target.as_uri(), wait_until="load")
        out["dataset_page_ms"] = (time.perf_counter() - started) * 1000
        column = page.get_attribute("tr.column a.col-name", "href") or ""
        name = page.inner_text("tr.column a.col-name")
        del column
        started = time.perf_counter()
        page.evaluate("n => { location.hash = 'lineage=' + encodeURIComponent(n); }", name)
        page.wait_for_selector("#lineage-panel[data-ready]")
        out["lineage_view_ms"] = (time.perf_counter() - started) * 1000
        out["lineage_rows"] = len(page.query_selector_all("#lineage-panel tbody tr"))
        out["search_ms"] = page.evaluate(
            "async q => { const t = performance.now(); await SL.search(q); "
            "return performance.now() - t; }", name)  # fmt: skip
        out["js_heap_mb"] = page.evaluate("performance.memory.usedJSHeapSize") / 1e6
        browser.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--models", type=int, action="append")
    parser.add_argument("--no-browser", action="store_true")
    options = parser.parse_args()
    for models in options.models or [1000]:
        with tempfile.TemporaryDirectory() as folder:
            root = Path(folder)
            batch = generate(models)
            started = time.perf_counter()
            url = f"sqlite:///{root / 'catalog.db'}"
            with Catalog(url) as catalog:
                fill(catalog, batch)
            wrote = time.perf_counter() - started
            built, _ = lineage_docs_build(url, root / "site")
            files, pages, size = site_figures(root / "site")
            again, said = lineage_docs_build(url, root / "site")
            assert "nothing changed" in said, said
            with Catalog(url) as catalog:
                edit_one_model(catalog, batch)
            edited, said = lineage_docs_build(url, root / "site")
            rendered = re.search(r"(\d[\d,]*) of [\d,]+ datasets and jobs rendered "
                                 r"\((\d[\d,]*) worked out again\)", said)
            columns = sum(len(d.schema.fields) for d in batch.datasets if d.schema)
            print(f"{models:,} models, {columns:,} columns, {len(batch.edges):,} edges: "
                  f"catalog written in {wrote:.1f} s; `lineage docs build` {built:.1f} s; "
                  f"again, nothing changed, {again:.2f} s; after one model changed "
                  f"{edited:.1f} s ({rendered.group(1) if rendered else '?'} of "
                  f"{len(batch.datasets) + len(batch.jobs):,} datasets and jobs rendered, "
                  f"{rendered.group(2) if rendered else '?'} worked out again); "
                  f"{files:,} files, {pages:,} pages, {size / 1e6:.1f} MB")  # fmt: skip
            if not options.no_browser and Path("/usr/bin/chromium").exists():
                figures = browse(root / "site")
                print("  chromium (file://): " + ", ".join(
                    f"{k} {v:.1f}" for k, v in figures.items()))  # fmt: skip


if __name__ == "__main__":
    main()
