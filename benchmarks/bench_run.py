"""What ``@job`` adds to a call: the hot path of a decorated no-op, in one run.

Run from the repository root::

    .venv/bin/python -m benchmarks.bench_run              # 20,000 calls per row
    .venv/bin/python -m benchmarks.bench_run --quick      # 2,000 calls, smoke run
    .venv/bin/python -m benchmarks.bench_run --json       # numbers as JSON on stdout

Rows (median and 99th percentile of per-call wall time on the caller's thread):

* ``bare call``: the undecorated no-op;
* ``@job (queue -> client file transport)``: the decorated no-op (one input, one output
  declared) delivering through the openlineage-python client with its ``file`` transport,
  as ``openlineage.yml`` would configure it; the caller only enqueues START and COMPLETE,
  the worker thread writes them;
* ``@job (queue -> catalog + daily file)``: the same, with the default sinks;
* ``client.emit x2 (file transport)``: what a synchronous wrapper pays: building START
  and COMPLETE ``RunEvent``s and ``OpenLineageClient.emit`` on each, with the same file
  transport, on the caller's thread.

Calls are timed in batches smaller than the queue, with a ``flush`` (untimed) between
batches, so the numbers are the hot path, not the spool. The "added" column is the
decorated median minus the bare median; the target is under 0.2 ms.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from lineage.config import ProjectConfig  # noqa: E402
from lineage.run import configure, flush, job, reset  # noqa: E402

TARGET_MS = 0.2
BATCH = 2_000


def _time_calls(call: Callable[[], Any], count: int, between: Callable[[], Any]) -> list[float]:
    """Per-call seconds, in batches with ``between()`` (untimed) after each batch."""
    timings: list[float] = []
    clock = time.perf_counter
    while len(timings) < count:
        for _ in range(min(BATCH, count - len(timings))):
            started = clock()
            call()
            timings.append(clock() - started)
        between()
    return timings


def _summary(name: str, timings: list[float]) -> dict[str, Any]:
    ordered = sorted(timings)
    return {
        "name": name,
        "calls": len(timings),
        "median_us": statistics.median(ordered) * 1e6,
        "p99_us": ordered[int(len(ordered) * 0.99) - 1] * 1e6,
    }


def _noop() -> None:
    return None


def bench_decorated(folder: Path, count: int, *, sinks: str) -> list[float]:
    from connectors.openlineage.sinks import ClientSink

    folder.mkdir(parents=True, exist_ok=True)
    config = ProjectConfig(root=folder)
    if sinks == "client":
        from openlineage.client.transport.file import FileConfig, FileTransport

        transport = FileTransport(
            FileConfig(log_file_path=str(folder / "client-events.jsonl"), append=True)
        )
        configure(
            sinks=[ClientSink(transport=transport)],
            config=config,
            spool_dir=folder / "spool",
            register_atexit=False,
        )
    else:
        configure(config=config, spool_dir=folder / "spool", register_atexit=False)

    @job(name="bench.noop", inputs=["bronze.erp_cust_az12"], outputs=["silver.erp_customers"])
    def noop() -> None:
        return None

    for _ in range(200):  # warm-up: resolution, the worker thread, the sinks
        noop()
    flush(120)
    try:
        return _time_calls(noop, count, lambda: flush(600))
    finally:
        reset()


def bench_direct_emit(folder: Path, count: int) -> list[float]:
    from openlineage.client import OpenLineageClient
    from openlineage.client.event_v2 import (
        InputDataset,
        Job,
        OutputDataset,
        Run,
        RunEvent,
        RunState,
    )
    from openlineage.client.facet_v2 import job_type_job
    from openlineage.client.transport.file import FileConfig, FileTransport
    from openlineage.client.uuid import generate_new_uuid

    client = OpenLineageClient(
        transport=FileTransport(
            FileConfig(log_file_path=str(folder / "direct-events.jsonl"), append=True)
        )
    )
    job_facets = {
        "jobType": job_type_job.JobTypeJobFacet(
            processingType="BATCH", integration="PYTHON", jobType="JOB"
        )
    }

    def emit_pair() -> None:
        run = Run(runId=str(generate_new_uuid()))
        job_ = Job(namespace="default", name="bench.direct", facets=job_facets)
        inputs = [InputDataset(namespace="sql", name="bronze.erp_cust_az12")]
        outputs = [OutputDataset(namespace="sql", name="silver.erp_customers")]
        for state in (RunState.START, RunState.COMPLETE):
            client.emit(
                RunEvent(
                    eventType=state,
                    eventTime=time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
                    run=run,
                    job=job_,
                    inputs=inputs,
                    outputs=outputs,
                )
            )

    for _ in range(100):
        emit_pair()
    return _time_calls(emit_pair, count, lambda: None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="2,000 calls per row")
    parser.add_argument("--calls", type=int, default=None, help="calls per row")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    count = args.calls or (2_000 if args.quick else 20_000)
    with tempfile.TemporaryDirectory(prefix="bench-run-") as tmp:
        folder = Path(tmp)
        for _ in range(1000):
            _noop()
        rows = [
            _summary("bare call", _time_calls(_noop, count, lambda: None)),
            _summary(
                "@job (queue -> client file transport)",
                bench_decorated(folder / "client", count, sinks="client"),
            ),
            _summary(
                "@job (queue -> catalog + daily file)",
                # The catalog worker writes a few hundred events/s: fewer calls, same hot path.
                bench_decorated(folder / "default", min(count, 2_000), sinks="default"),
            ),
            _summary("client.emit x2 (file transport)", bench_direct_emit(folder, count)),
        ]
    bare = rows[0]["median_us"]
    direct = rows[3]["median_us"]
    for row in rows:
        row["added_us"] = row["median_us"] - bare
        row["vs_direct_emit"] = direct / row["median_us"] if row["median_us"] else None
    decorated_added_ms = rows[1]["added_us"] / 1000
    report = {
        "rows": rows,
        "added_per_call_ms": decorated_added_ms,
        "target_ms": TARGET_MS,
        "within_target": decorated_added_ms < TARGET_MS,
    }
    if args.json:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    else:
        print(f"{'':40} {'median us':>10} {'p99 us':>10} {'added us':>10} {'direct/this':>12}")
        for row in rows:
            print(
                f"{row['name']:40} {row['median_us']:10.2f} {row['p99_us']:10.2f} "
                f"{row['added_us']:10.2f} {row['vs_direct_emit']:12.1f}"
            )
        verdict = "within" if report["within_target"] else "OVER"
        print(
            f"\n@job adds {decorated_added_ms:.3f} ms per call on the caller's thread "
            f"({verdict} the {TARGET_MS} ms target)"
        )
    return 0 if report["within_target"] else 1


if __name__ == "__main__":
    sys.exit(main())
