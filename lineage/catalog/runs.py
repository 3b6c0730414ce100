"""Runs, metric points and check results: what happened, as opposed to what is declared.

A run is folded from its OpenLineage events (one row per ``run_id``); metrics and check
results are appended, never merged, so their history is what freshness, "row count vs
7-day average" and check trends read; each point is kept once (the unique keys
``tables.metrics_key`` and ``tables.check_results_key``). Everything is read back as the
typed models of ``lineage.views``; every function works inside the caller's transaction.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, func, literal_column, select, update

from lineage.catalog import tables as cs
from lineage.catalog.read import dataset_is
from lineage.catalog.sql import canonical_json, chunks, insert_ignore, utc
from lineage.catalog.write import ensure_datasets
from lineage.errors import CatalogError
from lineage.model import DatasetId
from lineage.views import CheckResult, CheckStatus, MetricPoint, RunRecord, RunState

__all__ = [
    "metric_value",
    "read_check_results",
    "read_metrics",
    "read_runs",
    "record_check_result",
    "record_metric",
    "record_run",
    "run_outcomes",
    "run_state",
]


def run_state(state: str, run_id: str) -> RunState:
    """The run state an event names.

    Raises:
        CatalogError: ``state`` is not an OpenLineage run state.
    """
    try:
        return RunState.parse(state)
    except ValueError:
        expected = ", ".join(s.value for s in RunState)
        raise CatalogError(
            f"unknown run state {state.strip().upper()!r}; expected one of {expected}",
            obj=run_id,
        ) from None


def record_run(
    conn: Connection,
    run_id: str,
    job_name: str,
    state: RunState,
    when: datetime,
    facets: dict[str, Any],
    job_namespace: str | None = None,
) -> None:
    """Fold one run event into the run's row (created by its first event)."""
    runs = cs.runs
    first = {
        "run_id": run_id,
        "job_name": job_name,
        "job_namespace": job_namespace,
        "state": state.value,
        "first_event_at": when,
        "last_event_at": when,
        "facets": "{}",
    }
    insert_ignore(conn, runs, [first], ["run_id"])
    row = conn.execute(select(runs).where(runs.c.run_id == run_id).with_for_update()).one()
    values = _run_update(row, job_name, state, when, facets)
    if row.job_namespace is None and job_namespace is not None:
        values["job_namespace"] = job_namespace
    conn.execute(update(runs).where(runs.c.id == row.id).values(**values))


def _run_update(
    row: Row[Any], job_name: str, state: RunState, when: datetime, facets: dict[str, Any]
) -> dict[str, Any]:
    """The new values of a run row after one more event."""
    values: dict[str, Any] = {
        "job_name": row.job_name or job_name,
        "first_event_at": min(row.first_event_at, when),
        "last_event_at": max(row.last_event_at, when),
        "facets": canonical_json({**json.loads(row.facets), **facets}),
    }
    ended = _stored_state(row.state).ended
    if state.ended:
        if row.ended_at is None or when >= row.ended_at:
            values.update(state=state.value, ended_at=when)
            if state in (RunState.FAIL, RunState.ABORT):
                message = (facets.get("errorMessage") or {}).get("message")
                if message:
                    values["error"] = str(message)
            else:
                values["error"] = None
    elif not ended and when >= row.last_event_at:
        values["state"] = state.value
    if state is RunState.START and (row.started_at is None or when < row.started_at):
        values["started_at"] = when
    return values


def read_runs(
    conn: Connection,
    job_name: str | None,
    limit: int,
    since: datetime | None = None,
    states: Sequence[RunState] = (),
) -> list[RunRecord]:
    """Runs, newest first (of one job, from ``since`` on, in ``states``, when given), at
    most ``limit``."""
    runs = cs.runs
    query = select(runs).order_by(runs.c.first_event_at.desc(), runs.c.id.desc()).limit(limit)
    if job_name is not None:
        query = query.where(runs.c.job_name == job_name)
    if since is not None:
        query = query.where(runs.c.first_event_at >= since)
    if states:
        query = query.where(runs.c.state.in_([s.value for s in states]))
    return [
        RunRecord(
            run_id=row.run_id,
            job_name=row.job_name,
            state=_stored_state(row.state),
            first_event_at=row.first_event_at,
            last_event_at=row.last_event_at,
            started_at=row.started_at,
            ended_at=row.ended_at,
            error=row.error,
            facets=json.loads(row.facets),
            job_namespace=row.job_namespace,
        )
        for row in conn.execute(query)
    ]


def run_outcomes(
    conn: Connection, runs: Sequence[RunRecord]
) -> dict[str, tuple[float | None, list[str]]]:
    """Per run: the rows it wrote (``row_count`` points of the run on datasets its job
    writes, summed; None when none was reported) and its failing checks."""
    ids = [r.run_id for r in runs]
    written: dict[str, float] = {}
    failing: dict[str, list[str]] = {}
    m, io, jobs, c = cs.metrics, cs.job_io, cs.jobs, cs.check_results
    for chunk in chunks(ids):
        # EXISTS, not a join: a job name can be two jobs (a dbt model and its run's job in
        # another namespace), which must not count a point twice.
        written_by_job = (
            select(io.c.dataset_id)
            .join(jobs, jobs.c.id == io.c.job_id)
            .join(cs.runs, cs.runs.c.job_name == jobs.c.name)
            .where(io.c.direction == "output", cs.runs.c.run_id == m.c.run_id,
                   io.c.dataset_id == m.c.dataset_id)
        )  # fmt: skip
        rows = conn.execute(
            select(m.c.run_id, func.sum(m.c.value))
            .where(m.c.run_id.in_(chunk), m.c.name == "row_count", m.c.column_name.is_(None),
                   written_by_job.exists())
            .group_by(m.c.run_id)
        )  # fmt: skip
        written.update({run_id: float(total) for run_id, total in rows})
        found = conn.execute(
            select(c.c.run_id, c.c.check_name, c.c.column_name, c.c.status)
            .where(c.c.run_id.in_(chunk))
            .order_by(c.c.id)
        )
        for run_id, check, column, status in found:
            if CheckStatus.parse(status) in (CheckStatus.FAILED, CheckStatus.ERROR):
                label = check if column is None or column in check else f"{check}({column})"
                failing.setdefault(run_id, []).append(label)
    return {i: (written.get(i), failing.get(i, [])) for i in ids}


def _stored_state(text: str) -> RunState:
    # Stored states were validated on the way in; OTHER covers a newer writer's states.
    try:
        return RunState(text)
    except ValueError:
        return RunState.OTHER


def metric_value(value: float, name: str, dataset: DatasetId) -> float:
    """``value`` as a float.

    Raises:
        CatalogError: ``value`` is not a finite number.
    """
    number = float(value)
    if not math.isfinite(number):
        raise CatalogError(
            f"metric {name!r} must be a finite number, got {value!r}", obj=str(dataset)
        )
    return number


def record_metric(conn: Connection, point: MetricPoint) -> bool:
    """Append one measurement unless the same point is there (False then); an unknown
    dataset is added (kind unknown).

    The same point (dataset, name, column, run, time) is kept once by the catalog's unique
    key, so a re-ingested event or a concurrent writer's copy adds nothing.
    """
    when = utc(point.observed_at)
    ids = ensure_datasets(conn, {point.dataset}, {}, when).ids
    row = {
        "dataset_id": ids[point.dataset],
        "name": point.name,
        "column_name": point.column,
        "value": point.value,
        "observed_at": when,
        "run_id": point.run_id,
    }
    return insert_ignore(conn, cs.metrics, [row], list(cs.metrics_key.expressions)) > 0


def read_metrics(
    conn: Connection, dataset: DatasetId | None, name: str | None, since: datetime | None
) -> list[MetricPoint]:
    """Measurements, oldest first: of one dataset (of every one when None), only ``name``,
    only from ``since`` on, when given."""
    m, d = cs.metrics, cs.datasets
    query = (
        select(m, d.c.namespace, d.c.name.label("dataset_name"))
        .join(d, d.c.id == m.c.dataset_id)
        .order_by(m.c.observed_at, m.c.id)
    )
    if dataset is not None:
        query = query.where(*dataset_is(dataset))
    if name is not None:
        query = query.where(m.c.name == name)
    if since is not None:
        query = query.where(m.c.observed_at >= utc(since))
    return [
        MetricPoint(
            dataset=dataset or DatasetId(row.namespace, row.dataset_name),
            name=row.name,
            value=row.value,
            observed_at=row.observed_at,
            column=row.column_name,
            run_id=row.run_id,
        )
        for row in conn.execute(query)
    ]


def record_check_result(
    conn: Connection,
    dataset: DatasetId,
    check: str,
    status: str,
    when: datetime,
    column: str | None,
    run_id: str | None,
    details: dict[str, Any],
) -> bool:
    """Append one check outcome, ``status`` as its tool wrote it (read back as
    ``native_status``), unless a result of the same check, column, run and time is there
    (False then: the unique key, as for metrics); an unknown dataset is added.

    A run judges a check once: a result of the same run, check and column at another time
    (``lineage check`` records its results, then its run's event carries them again as
    ``dataQualityAssertions``) adds nothing either.
    """
    ids = ensure_datasets(conn, {dataset}, {}, when).ids
    if run_id is not None:
        # The key's own expressions, so the lookup walks the unique index (one run's
        # results), not every result the dataset ever had.
        c = cs.check_results
        found = conn.execute(
            select(c.c.id).where(
                c.c.dataset_id == ids[dataset], c.c.check_name == check,
                func.coalesce(c.c.column_name, literal_column("''")) == (column or ""),
                func.coalesce(c.c.run_id, literal_column("''")) == run_id,
            ).limit(1)
        ).first()  # fmt: skip
        if found is not None:
            return False
    row = {
        "dataset_id": ids[dataset],
        "check_name": check,
        "column_name": column,
        "status": status,
        "observed_at": when,
        "run_id": run_id,
        "details": canonical_json(details),
    }
    keys = list(cs.check_results_key.expressions)
    return insert_ignore(conn, cs.check_results, [row], keys) > 0


def read_check_results(
    conn: Connection, dataset: DatasetId | None, run_id: str | None = None
) -> list[CheckResult]:
    """Check results, oldest first (of one dataset, of one run, when given)."""
    c, d = cs.check_results, cs.datasets
    query = (
        select(c, d.c.namespace, d.c.name)
        .join(d, d.c.id == c.c.dataset_id)
        .order_by(c.c.observed_at, c.c.id)
    )
    if dataset is not None:
        query = query.where(*dataset_is(dataset))
    if run_id is not None:
        query = query.where(c.c.run_id == run_id)
    return [
        CheckResult(
            dataset=DatasetId(row.namespace, row.name),
            check=row.check_name,
            status=CheckStatus.parse(row.status),
            observed_at=row.observed_at,
            column=row.column_name,
            run_id=row.run_id,
            details=json.loads(row.details),
            native_status=row.status,
        )
        for row in conn.execute(query)
    ]
