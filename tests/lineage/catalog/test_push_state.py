"""Catalog.push_state / record_push, and the version 1 -> 2 migration that adds them."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import create_engine, inspect, select, text

from lineage.catalog import CURRENT_VERSION, Catalog
from lineage.catalog import tables as cs
from lineage.model import (
    ColumnEdge,
    ColumnId,
    DatasetId,
    LineageBatch,
    Transformation,
    TransformationSubtype,
)

LITE = "lite:/srv/project/.lineage/datahub-lite.db"
REST = "rest:http://datahub-gms:8080"
DS = "urn:li:dataset:(urn:li:dataPlatform:redshift,silver.erp_customers,PROD)"


def test_record_and_read_push_state(catalog_url: str) -> None:
    with Catalog(catalog_url) as catalog:
        assert catalog.push_state(LITE) == {}
        catalog.record_push(LITE, {(DS, "status"): "a", (DS, "schemaMetadata"): "b"})
        catalog.record_push(REST, {(DS, "status"): "z"})
        catalog.record_push(LITE, {(DS, "schemaMetadata"): "c", (DS, "ownership"): "d"})
        catalog.record_push(LITE, {})
        assert catalog.push_state(LITE) == {
            (DS, "status"): "a",  # kept: not part of the later push
            (DS, "schemaMetadata"): "c",  # replaced
            (DS, "ownership"): "d",
        }
        assert catalog.push_state(REST) == {(DS, "status"): "z"}


def test_a_large_push_is_recorded_in_one_go(catalog_url: str) -> None:
    hashes = {(f"urn:li:dataset:(urn:li:dataPlatform:s3,b/{i},PROD)", "status"): f"{i:064x}"
              for i in range(12_000)}  # fmt: skip
    when = datetime(2024, 6, 18, tzinfo=timezone.utc)
    with Catalog(catalog_url) as catalog:
        catalog.record_push(LITE, hashes, pushed_at=when)
        assert catalog.push_state(LITE) == hashes


def _as_version_1(url: str) -> None:
    """Make a fresh catalog look like one written by Silverline at schema version 1."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE push_state"))
            conn.execute(text("DROP TABLE sync_state"))  # version 3's
            conn.execute(text("UPDATE catalog_version SET version = 1"))
    finally:
        engine.dispose()


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_a_version_1_catalog_is_upgraded(catalog_url: str) -> None:
    source, target = DatasetId("redshift", "bronze.erp_cust_az12"), DatasetId("redshift", "s.t")
    identity = Transformation.direct(TransformationSubtype.IDENTITY)
    edge = ColumnEdge(ColumnId(source, "cid"), target, "id", (identity,))
    with Catalog(catalog_url) as catalog:
        catalog.write(LineageBatch(edges=(edge,)))
    _as_version_1(catalog_url)

    assert CURRENT_VERSION == 7  # all steps run: 1 -> 2 (push_state), 2 -> 3 (sync_state),
    # 3 -> 4 (unique keys of metric points and check results), 4 -> 5 (live schemas),
    # 5 -> 6 (drift findings), 6 -> 7 (run namespaces, the check results' run index)
    with Catalog(catalog_url) as catalog:  # migrates
        assert catalog.column_edges() == [edge]  # the data survives
        catalog.record_push(LITE, {(DS, "status"): "a"})
        assert catalog.push_state(LITE) == {(DS, "status"): "a"}
    engine = create_engine(catalog_url)
    try:
        with engine.connect() as conn:
            version = conn.execute(select(cs.catalog_version.c.version)).scalar_one()
            columns = {c["name"] for c in inspect(conn).get_columns("push_state")}
    finally:
        engine.dispose()
    assert version == CURRENT_VERSION
    assert columns == {"target", "urn", "aspect", "hash", "pushed_at"}
