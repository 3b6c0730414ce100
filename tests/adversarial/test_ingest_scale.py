"""Ingest at scale: many runs of one job, re-ingested, and ingested by concurrent processes.

Every run of the generated job has a START and a COMPLETE event; the COMPLETE carries an
``outputStatistics`` row count and a ``dataQualityAssertions`` result. Ingest must do the
same work per event however long the job's history is (it once re-read every metric and
check result of the dataset for each event: quadratic in runs), and the catalog's unique
keys must keep each metric point and check result once, whoever writes it and how often.
"""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from connectors.openlineage import ingest_events
from lineage.catalog import Catalog
from lineage.model import DatasetId

OUTPUT = DatasetId("warehouse", "mart.orders")
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"


def run_events(first: int, count: int) -> list[str]:
    """START + COMPLETE lines of runs ``first`` .. ``first + count - 1`` of one job."""
    lines: list[str] = []
    job = {"namespace": "scale", "name": "nightly_orders"}
    for n in range(first, first + count):
        started = T0 + timedelta(minutes=n)
        start: dict[str, Any] = {
            "eventType": "START",
            "eventTime": started.isoformat(),
            "run": {"runId": f"00000000-0000-4000-8000-{n:012d}"},
            "job": job,
            "inputs": [{"namespace": "warehouse", "name": "raw.orders"}],
            "outputs": [{"namespace": OUTPUT.namespace, "name": OUTPUT.name}],
            "producer": "https://example.com/scale-test",
            "schemaURL": SCHEMA_URL,
        }
        output = {
            "namespace": OUTPUT.namespace,
            "name": OUTPUT.name,
            "outputFacets": {"outputStatistics": {"rowCount": 1000 + n}},
            "facets": {
                "dataQualityAssertions": {
                    "assertions": [{"assertion": "not_null", "column": "id", "success": True}]
                }
            },
        }
        complete = {
            **start,
            "eventType": "COMPLETE",
            "eventTime": (started + timedelta(seconds=30)).isoformat(),
            "outputs": [output],
        }
        lines += [json.dumps(start), json.dumps(complete)]
    return lines


def _stored(catalog: Catalog) -> tuple[int, int, int]:
    return (
        len(catalog.metrics(OUTPUT)),
        len(catalog.check_results(OUTPUT)),
        len(catalog.runs(limit=100_000)),
    )


def test_reingesting_the_same_events_adds_nothing(catalog_url: str) -> None:
    lines = run_events(0, 40)
    with Catalog(catalog_url) as catalog:
        first = ingest_events(lines, catalog)
        assert (first.events, first.metrics, first.issues) == (80, 40, [])
        assert _stored(catalog) == (40, 40, 40)
        snapshot = (catalog.metrics(OUTPUT), catalog.check_results(OUTPUT))
        again = ingest_events(lines, catalog)
        assert (again.events, again.metrics) == (80, 0)
        assert _stored(catalog) == (40, 40, 40)
        assert snapshot == (catalog.metrics(OUTPUT), catalog.check_results(OUTPUT))


class _WorkMeter:
    """Counts the SQL statements and SQLite VM instructions (per 100) a catalog runs."""

    def __init__(self, catalog: Catalog) -> None:
        self.statements = 0
        self.steps = 0
        engine = catalog._engine
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine.pool, "checkout", self._checkout)
        engine.dispose()  # connections made from now on are checked out through the meter

    def _statement(self, *_args: Any) -> None:
        self.statements += 1

    def _step(self) -> int:
        self.steps += 1
        return 0  # go on

    def _checkout(self, dbapi_connection: Any, *_args: Any) -> None:
        dbapi_connection.set_progress_handler(self._step, 100)

    def measure(self, lines: list[str], catalog: Catalog) -> tuple[int, int]:
        statements, steps = self.statements, self.steps
        report = ingest_events(lines, catalog)
        assert report.issues == [] and report.metrics == len(lines) // 2
        return self.statements - statements, self.steps - steps


def test_the_work_per_event_does_not_grow_with_the_jobs_history(tmp_path: Path) -> None:
    with Catalog(f"sqlite:///{tmp_path / 'catalog.db'}") as catalog:
        meter = _WorkMeter(catalog)
        ingest_events(run_events(0, 50), catalog)
        short = meter.measure(run_events(50, 20), catalog)  # 50 runs of history
        ingest_events(run_events(70, 330), catalog)
        long = meter.measure(run_events(400, 20), catalog)  # 400 runs of history
        assert _stored(catalog) == (420, 420, 420)
    assert long[0] == short[0]  # the same statements per event ...
    assert long[1] < 1.3 * short[1], (short, long)  # ... reading about the same rows


def _ingest_in_a_process(url: str, path: str, ready: Any, go: Any) -> None:
    with Catalog(url) as catalog:
        ready.release()
        go.wait(60)
        report = ingest_events(path, catalog)
    if report.issues:
        raise SystemExit(f"issues: {report.issues[:3]}")


def _ingest_concurrently(url: str, path: Path, processes: int) -> None:
    context = multiprocessing.get_context("spawn")
    ready, go = context.Semaphore(0), context.Event()
    workers = [
        context.Process(target=_ingest_in_a_process, args=(url, str(path), ready, go))
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    try:
        for _ in workers:
            assert ready.acquire(timeout=120), "a worker did not open the catalog"
        go.set()  # all start ingesting at once
        for worker in workers:
            worker.join(300)
            assert worker.exitcode == 0
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.kill()


@pytest.fixture
def events_file(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(run_events(0, 150)) + "\n")
    yield path


def test_concurrent_ingests_store_each_metric_and_check_once(
    catalog_url: str, events_file: Path
) -> None:
    Catalog(catalog_url).close()  # created once; the workers open it
    _ingest_concurrently(catalog_url, events_file, 4)
    with Catalog(catalog_url) as catalog:
        assert _stored(catalog) == (150, 150, 150)
        assert sorted(m.value for m in catalog.metrics(OUTPUT)) == [1000.0 + n for n in range(150)]
        assert len({(c.run_id, c.check, c.column) for c in catalog.check_results(OUTPUT)}) == 150
        assert ingest_events(events_file, catalog).metrics == 0
        assert _stored(catalog) == (150, 150, 150)
