"""``lineage impact`` and ``lineage show`` end to end, at 10,000 models, side by side.

Generates a catalog in the shape of ``bench_project.py`` (chains of models 10 deep, 30
columns each, every model also joining a column of another chain's source; raw sources
at the head of each chain), written straight into a SQLite catalog. Then times, each as a
whole new process (start-up, catalog open, query, output — what a user waits for):

- ``lineage impact raw_0000.c00`` (a root column) and ``lineage impact <leaf>.c00``;
- ``lineage show m_0000_05``;
- the same questions answered the old way, from the whole catalog's graph
  (``LineageGraph.from_catalog``), in a process of the same kind.

    python -m benchmarks.bench_queries [--models 10000] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from lineage.catalog import Catalog  # noqa: E402
from lineage.model import (  # noqa: E402
    ColumnEdge,
    ColumnId,
    Dataset,
    DatasetId,
    Field,
    Job,
    LineageBatch,
    Schema,
    Transformation,
    TransformationSubtype,
)

NAMESPACE = "duckdb"
DEPTH = 10
COLUMNS = 30
GOAL_S = 0.3
LINEAGE = str(Path(sys.executable).with_name("lineage"))

# The old way: the whole graph, then the same walk and output.
WHOLE_GRAPH = """
import sys
from lineage.graph import LineageGraph
from lineage.workspace import Workspace
from lineage.views import describe_dataset
workspace = Workspace.open(catalog_url=sys.argv[1])
node = workspace.resolve(sys.argv[3])
graph = LineageGraph.from_catalog(workspace.catalog)
if sys.argv[2] == "impact":
    print(graph.impact(node).to_json())
else:
    print(describe_dataset(workspace.catalog, graph, node).to_dict())
workspace.close()
"""


def generate(models: int) -> LineageBatch:
    chains = max(1, models // DEPTH)
    identity = (Transformation.direct(TransformationSubtype.IDENTITY),)
    joined = (Transformation.indirect(TransformationSubtype.JOIN),)
    fields = Schema(tuple(Field(f"c{c:02d}", "bigint") for c in range(COLUMNS)))
    datasets: list[Dataset] = []
    jobs: list[Job] = []
    edges: list[ColumnEdge] = []
    for chain in range(chains):
        raw = DatasetId(NAMESPACE, f"dev.raw.raw_{chain:04d}")
        datasets.append(Dataset(raw, schema=fields))
        parent = raw
        for step in range(DEPTH - 1):
            model = DatasetId(NAMESPACE, f"dev.main.m_{chain:04d}_{step:02d}")
            other = DatasetId(NAMESPACE, f"dev.raw.raw_{(chain + 1) % chains:04d}")
            datasets.append(Dataset(model, schema=fields, owners=(f"team-{chain % 20}",)))
            job = f"model.m_{chain:04d}_{step:02d}"
            jobs.append(Job(NAMESPACE, job, kind="dbt_model", inputs=(parent, other),
                            outputs=(model,)))  # fmt: skip
            for column in fields.fields:
                edges.append(ColumnEdge(ColumnId(parent, column.name), model, column.name,
                                        identity, job))  # fmt: skip
            edges.append(ColumnEdge(ColumnId(other, "c00"), model, None, joined, job))
            parent = model
    return LineageBatch(tuple(datasets), tuple(jobs), tuple(edges))


def _timed(argv: list[str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True, timeout=600)
        samples.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed:\n{done.stderr[-2000:]}")
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-queries-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'catalog.db'}"
        started = time.perf_counter()
        batch = generate(args.models)
        with Catalog(url) as catalog:
            catalog.write(batch)
        print(f"catalog: {len(batch.datasets):,} datasets, {len(batch.edges):,} column edges "
              f"(written in {time.perf_counter() - started:.0f} s)")  # fmt: skip
        leaf = batch.datasets[DEPTH - 1].id.name
        questions = [
            ("impact", "raw_0000.c00"),
            ("impact", f"{leaf}.c00"),
            ("show", "m_0000_05"),
        ]
        print(f"{'question':<34} {'lineage (s)':>12} {'whole graph (s)':>16} {'ratio':>7}")
        for command, target in questions:
            ours = _timed([LINEAGE, command, target, "--catalog", url], args.runs)
            whole = _timed([sys.executable, "-c", WHOLE_GRAPH, url, command, target], args.runs)
            verdict = "" if ours < GOAL_S else f"  (above the {GOAL_S} s goal)"
            print(f"{command + ' ' + target:<34} {ours:>12.2f} {whole:>16.2f} "
                  f"{whole / ours:>6.1f}x{verdict}")  # fmt: skip


if __name__ == "__main__":
    main()
