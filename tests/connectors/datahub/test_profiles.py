"""Profiles and live schemas -> datasetProfile, schemaMetadata facts and viewProperties."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from datahub.metadata import schema_classes as sc

from connectors.datahub import PushTarget, aspect_key, build_mcps, push
from connectors.datahub.mcps import build, read_catalog
from connectors.datahub.settings import DataHubSettings
from lineage.catalog import Catalog
from lineage.model import (
    Dataset,
    DatasetId,
    DatasetKind,
    DatasetProfile,
    Field,
    LineageBatch,
    LiveColumn,
    LiveTable,
    Observation,
    ProfileMetric,
    Schema,
)
from tests.connectors.datahub.test_assertions import assert_golden, check_metadata_file, stored

NS = "postgres://db.example.com:5432"
CUSTOMERS = DatasetId(NS, "dwh.silver.erp_customers")
ACTIVE = DatasetId(NS, "dwh.silver.active_customers")
ORDERS = DatasetId(NS, "dwh.silver.orders")


def urn(dataset: DatasetId) -> str:
    return f"urn:li:dataset:(urn:li:dataPlatform:postgres,{dataset.name},PROD)"


T0 = datetime(2024, 6, 18, 6, 0, tzinfo=timezone.utc)
COLUMNS = (
    LiveColumn("customer_id", "character varying(50)", nullable=False, primary_key=True),
    LiveColumn("birth_date", "date", nullable=True),
    LiveColumn("age", "integer", nullable=True, comment="Whole years"),
    LiveColumn("gender", "text"),
    LiveColumn("email", "character varying(200)"),
)
#: The documented schema of ORDERS (dbt / SQL), which the live one must not replace.
DOCUMENTED = Schema((Field("order_id", "bigint", "The order"), Field("amount", "numeric")))


def profile(at: datetime = T0, rows: float = 1000.0) -> DatasetProfile:
    return DatasetProfile(
        CUSTOMERS,
        at,
        metrics=(
            ProfileMetric("row_count", rows),
            ProfileMetric("null_count", 0.0, "customer_id"),
            ProfileMetric("null_rate", 0.0, "customer_id"),
            ProfileMetric("distinct_count", 998.0, "customer_id"),
            ProfileMetric("null_count", 120.0, "birth_date"),
            ProfileMetric("null_rate", 0.12, "birth_date"),
            ProfileMetric("null_rate", 0.5, "email"),
            ProfileMetric("min", 18.0, "age"),
            ProfileMetric("max", 99.5, "age"),
            ProfileMetric("last_loaded_at", T0.timestamp(), "dwh_loaded_at"),
        ),
        bounds=(
            ("birth_date", "1925-03-01", "2006-01-31"),
            ("email", "aaron@example.com", "zoe@example.com"),
        ),
    )


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[Catalog]:
    with Catalog(f"sqlite:///{tmp_path / 'catalog.db'}") as found:
        # Fixed times: the golden file holds the audit stamps made of them.
        found.write(
            LineageBatch((Dataset(ORDERS, schema=DOCUMENTED),)), observed_at=T0 - timedelta(days=1)
        )
        tables = (
            LiveTable(CUSTOMERS, DatasetKind.TABLE, COLUMNS),
            LiveTable(
                ACTIVE,
                DatasetKind.VIEW,
                (LiveColumn("customer_id", "character varying(50)", nullable=False),),
                definition="SELECT customer_id FROM silver.erp_customers WHERE age < 90",
            ),
            LiveTable(
                ORDERS,
                DatasetKind.TABLE,
                (
                    LiveColumn("order_id", "bigint", nullable=False, primary_key=True),
                    LiveColumn("amount", "numeric(12,2)", nullable=True),
                ),
            ),
        )
        found.record_observation(
            Observation(NS, tables), observed_by=f"warehouse:{NS}/dwh", observed_at=T0
        )
        found.record_profile(profile())
        found.record_profile(
            DatasetProfile(
                ORDERS,
                T0,
                metrics=(
                    ProfileMetric("row_count", 5_000_000.0),
                    ProfileMetric("null_count", 30.0, "amount"),
                    ProfileMetric("null_rate", 0.003, "amount"),
                    ProfileMetric("distinct_count", 9_000.0, "order_id"),
                ),
                sampled_rows=10_000,
            )
        )
        yield found


def aspects(catalog: Catalog) -> dict[tuple[str, str], object]:
    return {aspect_key(m): m.aspect for m in build_mcps(catalog)}


def test_latest_profile_becomes_a_dataset_profile(catalog: Catalog) -> None:
    catalog.record_profile(profile(T0 - timedelta(days=1), rows=900.0))  # an older one
    built = aspects(catalog)
    when = int(T0.timestamp() * 1000)
    found = built[(urn(CUSTOMERS), f"datasetProfile@{when}")]
    assert isinstance(found, sc.DatasetProfileClass)
    assert [k for k in built if k[1].startswith("datasetProfile") and k[0] == urn(CUSTOMERS)] == [
        (urn(CUSTOMERS), f"datasetProfile@{when}")
    ]
    assert (found.rowCount, found.columnCount) == (1000, 5)
    fields = {
        f.fieldPath: (f.nullCount, f.nullProportion, f.uniqueCount, f.uniqueProportion,
                      f.min, f.max)
        for f in found.fieldProfiles or ()
    }  # fmt: skip
    assert fields == {
        "customer_id": (0, 0.0, 998, 0.998, None, None),
        "birth_date": (120, 0.12, None, None, "1925-03-01", "2006-01-31"),
        "age": (None, None, None, None, "18", "99.5"),
        "email": (None, 0.5, None, None, None, None),  # a text column's values stay home
    }
    assert "example.com" not in json.dumps(found.to_obj())


def test_a_sampled_profile_sends_proportions_not_sample_counts(catalog: Catalog) -> None:
    found = next(
        a for (u, name), a in aspects(catalog).items()
        if u == urn(ORDERS) and name.startswith("datasetProfile")
    )  # fmt: skip
    assert isinstance(found, sc.DatasetProfileClass)
    assert found.rowCount == 5_000_000  # exact, always
    fields = {f.fieldPath: f for f in found.fieldProfiles or ()}
    assert (fields["amount"].nullCount, fields["amount"].nullProportion) == (None, 0.003)
    assert fields["order_id"].uniqueCount is None
    assert fields["order_id"].uniqueProportion == pytest.approx(0.9)  # of the 10,000 scanned


def test_live_columns_give_nullability_and_keys_only_without_documented_schema(
    catalog: Catalog,
) -> None:
    built = aspects(catalog)
    live = built[(urn(CUSTOMERS), "schemaMetadata")]
    assert isinstance(live, sc.SchemaMetadataClass)
    assert [(f.fieldPath, f.nativeDataType, f.nullable, f.isPartOfKey) for f in live.fields] == [
        ("customer_id", "character varying(50)", False, True),
        ("birth_date", "date", True, False),
        ("age", "integer", True, False),
        ("gender", "text", True, False),
        ("email", "character varying(200)", True, False),
    ]
    assert live.primaryKeys == ["customer_id"]
    assert live.fields[2].description == "Whole years"

    # A documented dataset keeps exactly the schemaMetadata it had without live data.
    documented = built[(urn(ORDERS), "schemaMetadata")]
    snapshot = read_catalog(catalog)
    without_live = replace(snapshot, live={}, profiles=[])
    plain = {aspect_key(m): m.aspect for m in build(without_live, DataHubSettings()).mcps}
    assert documented == plain[(urn(ORDERS), "schemaMetadata")]
    assert isinstance(documented, sc.SchemaMetadataClass)
    assert [f.nativeDataType for f in documented.fields] == ["bigint", "numeric"]
    assert documented.primaryKeys is None
    # What live data adds is the profiles and the view's SQL; everything else is as before.
    names = {name.split("@")[0] for _, name in built}
    assert names - {name for _, name in plain} == {"datasetProfile", "viewProperties"}


def test_a_live_view_gets_its_sql(catalog: Catalog) -> None:
    view = aspects(catalog)[(urn(ACTIVE), "viewProperties")]
    assert isinstance(view, sc.ViewPropertiesClass)
    assert (view.materialized, view.viewLanguage) == (False, "SQL")
    assert "WHERE age < 90" in view.viewLogic


def test_golden_profiles(catalog: Catalog) -> None:
    mcps = [
        m for m in build_mcps(catalog)
        if m.aspectName in ("datasetProfile", "schemaMetadata", "viewProperties")
    ]  # fmt: skip
    assert_golden("profiles", mcps)


def test_file_push_passes_datahubs_check(catalog: Catalog, tmp_path: Path) -> None:
    out = tmp_path / "mcps.json"
    report = push(catalog, PushTarget.file(out))
    assert {"datasetProfile", "viewProperties", "schemaMetadata"} <= set(report.by_aspect)
    check_metadata_file(out, report.sent)


def test_each_profile_is_sent_once(catalog: Catalog, tmp_path: Path) -> None:
    lite = tmp_path / "lite.db"
    target = PushTarget.lite(lite)
    first = push(catalog, target)
    assert first.by_aspect["datasetProfile"] == 2
    assert [p["rowCount"] for p in stored(lite, urn(CUSTOMERS), "datasetProfile")] == [1000]
    assert push(catalog, target).sent == 0

    catalog.record_profile(profile(T0 + timedelta(days=1), rows=1100.0))
    again = push(catalog, target)
    assert again.keys == (
        (urn(CUSTOMERS), f"datasetProfile@{int((T0 + timedelta(days=1)).timestamp() * 1000)}"),
    )
    assert again.retracted == 0  # the older profile stays history
    history = stored(lite, urn(CUSTOMERS), "datasetProfile")
    assert [p["rowCount"] for p in history] == [1000, 1100]
    assert push(catalog, target).sent == 0
