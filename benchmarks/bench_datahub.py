"""Push a generated 2,000-model project to DataHub targets: build speed and incremental size.

Generates the project's ``LineageBatch`` directly as model objects (sources, dbt models
with schemas, owners, tags and tests, column edges, runs, check results), writes it to a
temporary SQLite catalog, then prints:

- MCPs built per second (catalog read, build, hashing each timed);
- a full push to an MCP file and to DataHub Lite: aspects, bytes, seconds;
- after one model changed (description and SQL), the incremental push to the same
  targets versus the full push: aspects, bytes, seconds;
- a second push with nothing changed.

    python benchmarks/bench_datahub.py [--models 2000] [--columns 20] [--depth 10] [--no-lite]
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from connectors.datahub import (  # noqa: E402
    DataHubSettings,
    PushReport,
    PushTarget,
    aspect_hash,
    aspect_key,
    push,
)
from connectors.datahub import mcps as datahub_mcps  # noqa: E402
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

NAMESPACE = "redshift://analytics.example.com:5439"
T0 = datetime(2024, 6, 18, tzinfo=timezone.utc)
_KINDS = (
    Transformation.direct(TransformationSubtype.IDENTITY),
    Transformation.direct(TransformationSubtype.TRANSFORMATION),
    Transformation.indirect(TransformationSubtype.CONDITIONAL),
)


def generate_batch(models: int, columns: int, depth: int) -> LineageBatch:
    """``models`` dbt models in chains ``depth`` deep over one source per chain."""
    chains = max(1, models // depth)
    names = [f"c{i:02d}" for i in range(columns)]
    datasets: list[Dataset] = []
    jobs: list[Job] = []
    edges: list[ColumnEdge] = []
    for chain in range(chains):
        source = DatasetId(NAMESPACE, f"dev.raw.src_{chain:04d}")
        datasets.append(
            Dataset(
                source,
                kind=DatasetKind.SOURCE,
                schema=Schema(tuple(Field(n, "varchar(50)") for n in names)),
                description=f"Raw extract {chain}",
            )
        )
        parent = source
        for level in range(depth):
            index = chain * depth + level
            if index >= models:
                break
            model = DatasetId(NAMESPACE, f"dev.silver.m_{index:05d}")
            job = model_job(index, parent, model, names)
            datasets.append(model_dataset(index, model, names))
            jobs.append(job)
            for i, column in enumerate(names):
                edges.append(
                    ColumnEdge(ColumnId(parent, column), model, column, (_KINDS[i % 3],), job.name)
                )
            edges.append(
                ColumnEdge(
                    ColumnId(parent, names[0]),
                    model,
                    None,
                    (Transformation.indirect(TransformationSubtype.FILTER),),
                    job.name,
                )
            )
            parent = model
    return LineageBatch(tuple(datasets), tuple(jobs), tuple(edges))


def model_dataset(index: int, model: DatasetId, names: list[str], note: str = "") -> Dataset:
    return Dataset(
        model,
        kind=DatasetKind.TABLE,
        schema=Schema(tuple(Field(n, "varchar(50)", f"Column {n}") for n in names)),
        description=f"Model {index}{note}",
        owners=("ana@example.com", "data-platform-team"),
        tags=("silver",),
        meta=json.dumps({"tier": index % 3}),
        tests=(DataTest("not_null", names[0]), DataTest("unique", names[0])),
        source_file=f"models/silver/m_{index:05d}.sql",
    )


def model_job(
    index: int, parent: DatasetId, model: DatasetId, names: list[str], note: str = ""
) -> Job:
    columns = ", ".join(f"CAST({n} AS VARCHAR(50)) AS {n}" for n in names)
    return Job(
        namespace=NAMESPACE,
        name=f"bench.m_{index:05d}",
        kind="dbt_model",
        sql=f"SELECT {columns} FROM {parent.name} WHERE {names[0]} IS NOT NULL{note}",
        source_file=f"models/silver/m_{index:05d}.sql",
        owners=("ana@example.com",),
        description=f"Model {index}{note}",
        inputs=(parent,),
        outputs=(model,),
    )


def record_events(catalog: Catalog, batch: LineageBatch, runs: int) -> None:
    for n, job in enumerate(batch.jobs[:runs]):
        start = T0 + timedelta(minutes=n)
        catalog.record_run(f"run-{n:05d}", job.name, "START", start)
        catalog.record_run(f"run-{n:05d}", job.name, "COMPLETE", start + timedelta(seconds=30))
        catalog.record_check_result(
            job.outputs[0], "not_null", "pass", start + timedelta(seconds=40), "c00"
        )


def file_size(report: PushReport) -> int:
    return Path(report.target.split(":", 1)[1]).stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", type=int, default=2000)
    parser.add_argument("--columns", type=int, default=20)
    parser.add_argument("--depth", type=int, default=10)
    parser.add_argument("--runs", type=int, default=200, help="runs (and checks) recorded")
    parser.add_argument("--no-lite", action="store_true", help="skip the DataHub Lite pushes")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-datahub-") as tmp:
        root = Path(tmp)
        batch = generate_batch(args.models, args.columns, args.depth)
        with Catalog(f"sqlite:///{root / 'catalog.db'}") as catalog:
            started = time.perf_counter()
            catalog.write(batch)
            record_events(catalog, batch, args.runs)
            print(
                f"project: {len(batch.jobs)} models, {len(batch.datasets)} datasets, "
                f"{len(batch.edges)} column edges, {args.runs} runs "
                f"(catalog written in {time.perf_counter() - started:.2f}s)"
            )

            settings = DataHubSettings()
            gc.disable()  # as push() does while it builds (see connectors/datahub.py)
            started = time.perf_counter()
            snapshot = datahub_mcps.read_catalog(catalog, settings.max_runs)
            read = time.perf_counter() - started
            started = time.perf_counter()
            built = datahub_mcps.build(snapshot, settings).mcps
            building = time.perf_counter() - started
            started = time.perf_counter()
            for mcp in built:
                aspect_hash(mcp, aspect_key(mcp))
            hashing = time.perf_counter() - started
            gc.enable()
            print(
                f"build: {len(built)} MCPs in {building:.2f}s = {len(built) / building:,.0f} "
                f"MCPs/s (catalog read {read:.2f}s, hashing {hashing:.2f}s = "
                f"{len(built) / (read + building + hashing):,.0f} MCPs/s end to end)"
            )

            targets = [PushTarget.file(root / "mcps.json")]
            if not args.no_lite:
                targets.append(PushTarget.lite(root / "datahub-lite.db"))
            full = {t.kind: push(catalog, t) for t in targets}
            for kind, report in full.items():
                size = f", {file_size(report) / 1e6:.1f} MB" if kind == "file" else ""
                print(f"full push to {kind}: {report.sent} aspects{size} in {report.seconds:.2f}s")

            # One model changes: its description and its SQL.
            index = args.models // 2
            dataset = next(d for d in batch.datasets if d.id.name == f"dev.silver.m_{index:05d}")
            job = next(j for j in batch.jobs if j.name == f"bench.m_{index:05d}")
            changed = LineageBatch(
                datasets=(replace(dataset, description=dataset.description + " (v2)"),),
                jobs=(replace(job, sql=f"{job.sql} AND c01 <> ''", description="v2"),),
                edges=tuple(e for e in batch.edges if e.job == job.name),
            )
            catalog.write(changed)
            for target in targets:
                report = push(catalog, target)
                base = full[target.kind]
                size = ""
                if target.kind == "file":
                    size = f", {file_size(report) / 1e3:.1f} kB"
                print(
                    f"incremental push to {target.kind} after one model changed: "
                    f"{report.sent} aspects{size} in {report.seconds:.2f}s "
                    f"(full: {base.sent} aspects, {base.sent / max(report.sent, 1):,.0f}x more) "
                    f"{sorted(report.by_aspect.items())}"
                )
            for target in targets:
                report = push(catalog, target)
                print(
                    f"push to {target.kind} with nothing changed: {report.sent} aspects "
                    f"in {report.seconds:.2f}s"
                )


if __name__ == "__main__":
    main()
