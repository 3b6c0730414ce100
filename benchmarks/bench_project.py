"""Scan generated dbt projects into the catalog and query them, side by side (2,000
models by default; ``--models`` repeated runs several sizes, e.g. 2,000 and 10,000).

Prints, in one run on this machine:
- time to scan the project into a fresh catalog with 1 and with 2 processes;
- time for a second scan with nothing changed (target: under a tenth of the first);
- ``lineage impact`` of a root column as the command answers it (catalog opened, name
  resolved, the reachable slice read, the walk), and the whole-graph way beside it (the
  entire catalog loaded into one graph first);
- the catalog's size on disk;
- where dbt-core is installed, a cold ``dbt parse`` of the same project (target: our full
  scan, column lineage included, faster than ``dbt parse``).

    python benchmarks/bench_project.py [--models 2000 --models 10000] [--depth 10]
                                       [--columns 30] [--json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from lineage.workspace import Workspace  # noqa: E402
from parsers.sql import clear_cache  # noqa: E402


def generate_project(root: Path, models: int, depth: int, columns: int) -> None:
    """A dbt project of ``models`` models in chains ``depth`` deep, ``columns`` columns each.

    Each chain starts from a source table; every model transforms its parent's columns
    (casts, CASE, arithmetic), and every third model also joins the previous chain's model
    at the same level, so the graph is not just parallel lines.
    """
    chains = max(1, models // depth)
    (root / "models").mkdir(parents=True)
    (root / "macros").mkdir()
    (root / "dbt_project.yml").write_text(
        "name: bench\nversion: '1.0'\nconfig-version: 2\nprofile: bench\n"
        "model-paths: ['models']\nmacro-paths: ['macros']\n"
        "models:\n  bench:\n    +materialized: table\n"
    )
    (root / "profiles.yml").write_text(
        "bench:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        "      path: bench.duckdb\n      schema: main\n"
    )
    (root / "macros" / "cents.sql").write_text(
        "{% macro cents(col) %}round({{ col }} * 100, 0){% endmacro %}\n"
    )
    names = [f"c{i:02d}" for i in range(columns)]
    source_tables = "\n".join(
        f"      - name: raw_{chain:04d}\n        columns:\n"
        + "".join(f"          - name: {n}\n" for n in names)
        for chain in range(chains)
    )
    (root / "models" / "sources.yml").write_text(
        f"version: 2\nsources:\n  - name: raw\n    schema: raw\n    tables:\n{source_tables}"
    )
    for chain in range(chains):
        for level in range(depth):
            parent = (
                f"{{{{ source('raw', 'raw_{chain:04d}') }}}}"
                if level == 0
                else f"{{{{ ref('m_{chain:04d}_{level - 1:02d}') }}}}"
            )
            joined = level > 0 and chain > 0 and level % 3 == 0
            items = []
            for i, name in enumerate(names):
                source = f"p.{name}"
                if i % 5 == 0:
                    items.append(f"cast({source} as varchar) as {name}")
                elif i % 5 == 1:
                    items.append(f"case when {source} is null then 0 else {source} end as {name}")
                elif i % 5 == 2:
                    items.append(f"{{{{ cents('{source}') }}}} as {name}")
                elif i % 5 == 3 and joined:
                    items.append(f"coalesce({source}, j.{name}) as {name}")
                else:
                    items.append(f"{source} as {name}")
            join = (
                f"\nleft join {{{{ ref('m_{chain - 1:04d}_{level - 1:02d}') }}}} as j"
                f" on j.{names[0]} = p.{names[0]}"
                if joined
                else ""
            )
            body = ",\n    ".join(items)
            (root / "models" / f"m_{chain:04d}_{level:02d}.sql").write_text(
                f"select\n    {body}\nfrom {parent} as p{join}\nwhere p.{names[1]} is not null\n"
            )


def timed_scan(
    project: Path, catalog_url: str, jobs: int, *, cold: bool = True
) -> tuple[float, object]:
    """Scan as a new process would: nothing in memory; ``cold`` also drops the disk cache."""
    clear_cache()
    if cold:
        shutil.rmtree(project / ".lineage", ignore_errors=True)
    workspace = Workspace.open(project, catalog_url=catalog_url)
    start = time.perf_counter()
    report = workspace.scan([str(project)], workspace.scan_options(dialect="duckdb"), jobs=jobs)
    elapsed = time.perf_counter() - start
    workspace.close()
    return elapsed, report


def impact_time(project: Path, catalog_url: str) -> dict[str, float | int]:
    """``lineage impact`` of a root column as the command answers it, every part timed:
    the catalog opened, the name resolved, the slice its walk can reach read and built
    into a graph, the walk (median of 5, each from a newly opened catalog). Beside it the
    whole-graph way: the entire catalog loaded into ``LineageGraph``, then the walk."""
    samples: list[float] = []
    reached = 0
    for _ in range(5):
        start = time.perf_counter()
        workspace = Workspace.open(project, catalog_url=catalog_url)
        node = workspace.resolve("raw_0000.c00")
        graph = workspace.graph_around(node, upstream=False, downstream=True)
        impact = graph.impact(node)
        workspace.close()
        samples.append(time.perf_counter() - start)
        reached = len(impact.columns)
    workspace = Workspace.open(project, catalog_url=catalog_url)
    start = time.perf_counter()
    whole = workspace.graph()
    load = time.perf_counter() - start
    node = workspace.resolve("raw_0000.c00")
    start = time.perf_counter()
    whole_reached = len(whole.impact(node).columns)
    walk = time.perf_counter() - start
    workspace.close()
    if whole_reached != reached:
        raise SystemExit(f"the slice reached {reached} columns, the whole graph {whole_reached}")
    return {"impact_ms": round(statistics.median(samples) * 1000, 1),
            "impact_columns_reached": reached, "graph_load_s": round(load, 2),
            "whole_graph_impact_ms": round((load + walk) * 1000, 1)}  # fmt: skip


def dbt_parse_time(project: Path) -> float | None:
    beside = Path(sys.executable).with_name("dbt")  # the venv's own dbt, if installed
    dbt = str(beside) if beside.exists() else shutil.which("dbt")
    if dbt is None:
        return None
    target = project / "target"
    shutil.rmtree(target, ignore_errors=True)
    start = time.perf_counter()
    result = subprocess.run(
        [dbt, "parse", "--no-partial-parse", "--profiles-dir", str(project)],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    elapsed = time.perf_counter() - start
    shutil.rmtree(target, ignore_errors=True)
    if result.returncode != 0:
        print(f"dbt parse failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
        return None
    return elapsed


def bench_size(work: Path, models: int, depth: int, columns: int) -> dict[str, Any]:
    project = work / f"project_{models}"
    generate_project(project, models, depth, columns)
    results: dict[str, Any] = {"models": models}
    for jobs in (1, 2):
        db = work / f"catalog_{models}_j{jobs}.db"
        elapsed, report = timed_scan(project, f"sqlite:///{db}", jobs)
        results[f"scan_j{jobs}_s"] = round(elapsed, 2)
        batch = report.batches[0]  # type: ignore[attr-defined]
        results["edges"] = len(batch.edges)
        results["issues"] = len(batch.issues)
    db = work / f"catalog_{models}_j1.db"
    rescan, report = timed_scan(project, f"sqlite:///{db}", 1, cold=False)
    results["rescan_unchanged_s"] = round(rescan, 2)
    summary = report.summaries[0]  # type: ignore[attr-defined]
    results["rescan_jobs_unchanged"] = summary.jobs_unchanged
    results.update(impact_time(project, f"sqlite:///{db}"))
    results["catalog_mb"] = round(db.stat().st_size / 1e6, 1)
    results["dbt_parse_s"] = dbt_parse_time(project)
    shutil.rmtree(project, ignore_errors=True)
    return results


def print_size(results: dict[str, Any], depth: int, columns: int) -> None:
    first = float(results["scan_j1_s"] or 0)
    print(
        f"project: {results['models']} models, chains {depth} deep, {columns} columns; "
        f"{results['edges']} column edges, {results['issues']} issues"
    )
    print(f"scan into catalog, 1 process:   {results['scan_j1_s']:>8} s")
    print(
        f"scan into catalog, 2 processes: {results['scan_j2_s']:>8} s  "
        f"({first / float(results['scan_j2_s'] or 1):.2f}x; target >= 1.7x)"
    )
    print(
        f"second scan, nothing changed:   {results['rescan_unchanged_s']:>8} s  "
        f"({float(results['rescan_unchanged_s'] or 0) / first:.2f} of the first; target < 0.10;"
        f" {results['rescan_jobs_unchanged']} jobs unchanged)"
    )
    print(
        f"impact of a root column:        {results['impact_ms']:>8} ms "
        f"(catalog opened, name resolved, slice read, walk; {results['impact_columns_reached']}"
        f" columns reached)"
    )
    print(
        f"  the whole-graph way:          {results['whole_graph_impact_ms']:>8} ms "
        f"(graph load {results['graph_load_s']} s; "
        f"{results['whole_graph_impact_ms'] / max(results['impact_ms'], 0.1):.1f}x the slice)"
    )
    print(f"catalog size on disk:           {results['catalog_mb']:>8} MB")
    if results["dbt_parse_s"] is None:
        print("dbt parse:                      not installed (pip install dbt-duckdb to compare)")
    else:
        print(
            f"dbt parse (cold):               {results['dbt_parse_s']:>8.2f} s  "
            f"(our scan: {first / float(results['dbt_parse_s']):.2f}x of it)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", type=int, action="append",
                        help="models in the project; repeat for several sizes (default 2000)")
    parser.add_argument("--depth", type=int, default=10)
    parser.add_argument("--columns", type=int, default=30)
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="silverline-bench-"))
    try:
        sizes = [bench_size(work, models, args.depth, args.columns)
                 for models in args.models or [2000]]  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(sizes, indent=2))
        return
    for i, results in enumerate(sizes):
        if i:
            print()
        print_size(results, args.depth, args.columns)


if __name__ == "__main__":
    main()
