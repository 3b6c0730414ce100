"""Unique keys of metric points and check results, and the version 3 -> 4 migration that
removes the duplicates older catalogs hold before adding them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import IntegrityError

from lineage.catalog import CURRENT_VERSION, Catalog
from lineage.catalog import tables as cs
from lineage.model import DatasetId

DS = DatasetId("warehouse", "mart.orders")
T0 = datetime(2026, 3, 1, 6, 0, tzinfo=timezone.utc)


def test_the_same_point_is_recorded_once(catalog_url: str) -> None:
    with Catalog(catalog_url) as catalog:
        assert catalog.record_metric(DS, "row_count", 10, T0, run_id="r1")
        assert not catalog.record_metric(DS, "row_count", 11, T0, run_id="r1")  # same key
        assert catalog.record_metric(DS, "row_count", 10, T0, run_id="r2")
        assert catalog.record_metric(DS, "row_count", 10, T0, run_id="r1", column="id")
        assert catalog.record_metric(DS, "row_count", 10, T0 + timedelta(seconds=1), "r1")
        # NULL run and column are part of the key too (coalesced, not distinct NULLs).
        assert catalog.record_metric(DS, "null_count", 0, T0)
        assert not catalog.record_metric(DS, "null_count", 0, T0)
        assert [(m.value, m.run_id, m.column) for m in catalog.metrics(DS, "row_count")] == [
            (10.0, "r1", None), (10.0, "r2", None), (10.0, "r1", "id"), (10.0, "r1", None),
        ]  # fmt: skip
        assert len(catalog.metrics(DS, "null_count")) == 1

        assert catalog.record_check_result(DS, "not_null", "pass", T0, "id", "r1")
        assert not catalog.record_check_result(DS, "not_null", "fail", T0, "id", "r1")
        assert catalog.record_check_result(DS, "not_null", "pass", T0, None, "r1")
        assert catalog.record_check_result(DS, "unique", "pass", T0, "id", "r1")
        assert catalog.record_check_result(DS, "freshness", "warn", T0)
        assert not catalog.record_check_result(DS, "freshness", "warn", T0)
        assert [(c.check, c.column, c.native_status) for c in catalog.check_results(DS)] == [
            ("not_null", "id", "pass"), ("not_null", None, "pass"), ("unique", "id", "pass"),
            ("freshness", None, "warn"),
        ]  # fmt: skip


def _engine_do(url: str, *statements: Any) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(statement)
    finally:
        engine.dispose()


def _select(url: str, query: Any) -> list[Any]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(query).all())
    finally:
        engine.dispose()


def _as_version_3_with_duplicates(url: str, dataset_id: int) -> None:
    """Make a catalog look like version 3 left it: no unique keys, some points stored
    more than once (by concurrent ingests)."""
    metric = {"dataset_id": dataset_id, "name": "row_count", "observed_at": T0}
    check = {"dataset_id": dataset_id, "check_name": "not_null", "observed_at": T0,
             "status": "pass", "details": "{}"}  # fmt: skip
    metrics = [
        *({**metric, "value": v, "run_id": "r1", "column_name": None} for v in (1, 2, 3)),
        *({**metric, "value": v, "run_id": None, "column_name": "id"} for v in (4, 5)),
        {**metric, "value": 6, "run_id": "r1", "column_name": None,
         "observed_at": T0 + timedelta(hours=1)},
    ]  # fmt: skip
    checks = [
        *({**check, "run_id": "r1", "column_name": "id", "status": s} for s in ("pass", "fail")),
        *({**check, "run_id": None, "column_name": None} for _ in range(3)),
        {**check, "run_id": "r2", "column_name": "id"},
    ]
    _engine_do(
        url,
        text("DROP INDEX uq_metrics_point"),
        text("DROP INDEX uq_check_results_point"),
        text("UPDATE catalog_version SET version = 3"),
        cs.metrics.insert().values(metrics),
        cs.check_results.insert().values(checks),
    )


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_a_version_3_catalog_loses_its_duplicate_points(catalog_url: str) -> None:
    with Catalog(catalog_url) as catalog:
        catalog.record_metric(DS, "size_bytes", 100, T0, run_id="r0")  # makes the dataset
    [(dataset_id,)] = _select(catalog_url, select(cs.datasets.c.id))
    _as_version_3_with_duplicates(catalog_url, dataset_id)

    assert CURRENT_VERSION >= 4
    with Catalog(catalog_url) as catalog:  # migrates
        assert [(m.name, m.value, m.run_id, m.column) for m in catalog.metrics(DS)] == [
            ("size_bytes", 100.0, "r0", None),  # untouched
            ("row_count", 1.0, "r1", None),  # the first of three
            ("row_count", 4.0, None, "id"),  # the first of two (NULL run)
            ("row_count", 6.0, "r1", None),  # another time: another point
        ]
        assert [(c.run_id, c.column, c.native_status) for c in catalog.check_results(DS)] == [
            ("r1", "id", "pass"), (None, None, "pass"), ("r2", "id", "pass"),
        ]  # fmt: skip
        assert not catalog.record_metric(DS, "row_count", 9, T0, run_id="r1")
        assert not catalog.record_check_result(DS, "not_null", "pass", T0)
    [(version,)] = _select(catalog_url, select(cs.catalog_version.c.version))
    assert version == CURRENT_VERSION
    # The keys are in the database, not only in Silverline's inserts.
    duplicate = {"dataset_id": dataset_id, "name": "row_count", "value": 1.0,
                 "observed_at": T0, "run_id": None, "column_name": "id"}  # fmt: skip
    with pytest.raises(IntegrityError):
        _engine_do(catalog_url, cs.metrics.insert().values(duplicate))


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_a_version_3_catalog_without_duplicates_keeps_every_point(catalog_url: str) -> None:
    with Catalog(catalog_url) as catalog:
        catalog.record_metric(DS, "row_count", 1, T0, run_id="r1")
        catalog.record_check_result(DS, "not_null", "pass", T0, "id", "r1")
        before = (catalog.metrics(DS), catalog.check_results(DS))
    _engine_do(
        catalog_url,
        text("DROP INDEX uq_metrics_point"),
        text("DROP INDEX uq_check_results_point"),
        text("UPDATE catalog_version SET version = 3"),
    )
    with Catalog(catalog_url) as catalog:
        assert (catalog.metrics(DS), catalog.check_results(DS)) == before
        assert not catalog.record_metric(DS, "row_count", 1, T0, run_id="r1")
