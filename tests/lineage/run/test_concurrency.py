"""16 threads x 1,000 decorated calls (each calling another decorated function): no event
is lost, every run has its START and COMPLETE, and no run gets another thread's parent."""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from lineage.config import ProjectConfig
from lineage.run import configure, current_run, flush, job, replay_spool, reset, run
from tests.lineage.run.test_support import ValidatingSink, validate_all

THREADS = 16
CALLS = 1_000


@job(name="load.inner")
def inner(thread: int) -> str | None:
    here = current_run()
    assert here is not None
    here.add_metric("thread", thread)
    return here.parent.run_id if here.parent else None


@job(name="load.outer")
def outer(thread: int) -> None:
    here = current_run()
    assert here is not None
    here.add_metric("thread", thread)
    assert inner(thread) == here.run_id  # checked where it happens, too


@pytest.mark.slow
def test_threads_lose_no_event_and_mix_up_no_parent(tmp_path: Path) -> None:
    sink = ValidatingSink(validate=False)  # validated below, all at once
    configure(
        sinks=[sink],
        config=ProjectConfig(root=tmp_path),
        spool_dir=tmp_path / "spool",
        register_atexit=False,
    )
    errors: list[BaseException] = []
    thread_runs: dict[int, str] = {}
    barrier = threading.Barrier(THREADS)

    def work(thread: int) -> None:
        try:
            barrier.wait()
            with run(f"load.thread_{thread}") as mine:
                thread_runs[thread] = mine.run_id
                for _ in range(CALLS):
                    outer(thread)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    try:
        threads = [threading.Thread(target=work, args=(i,)) for i in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors, errors[:3]
        assert flush(120)
        replay_spool()  # whatever the full queue put on disk
    finally:
        reset()

    runs = THREADS * (1 + 2 * CALLS)
    assert len(sink.events) == 2 * runs
    by_run: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in sink.events:
        by_run[event["run"]["runId"]].append(dict(event))
    assert len(by_run) == runs
    assert Counter(tuple(sorted(e["eventType"] for e in found)) for found in by_run.values()) == {
        ("COMPLETE", "START"): runs
    }
    thread_of: dict[str, int] = {}
    for run_id, found in by_run.items():
        complete = next(e for e in found if e["eventType"] == "COMPLETE")
        metrics = complete["run"]["facets"].get("silverline_metrics")
        if metrics is not None:
            thread_of[run_id] = int(metrics["metrics"][0]["value"])
    root_of = {run_id: thread for thread, run_id in thread_runs.items()}
    for run_id, found in by_run.items():
        job_name = found[0]["job"]["name"]
        if job_name.startswith("load.thread_"):
            continue
        parent = found[0]["run"]["facets"]["parent"]
        thread = thread_of[run_id]
        root_thread = root_of[parent["root"]["run"]["runId"]]
        assert root_thread == thread
        if job_name == "load.outer":
            assert parent["run"]["runId"] == thread_runs[thread]
        else:
            assert by_run[parent["run"]["runId"]][0]["job"]["name"] == "load.outer"
            assert thread_of[parent["run"]["runId"]] == thread
    assert validate_all(sink.events) >= 4 * THREADS  # every event, one check per shape
