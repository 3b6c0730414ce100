"""Live schemas in the catalog: versions per observer, idempotence, documented schemas
kept, file layouts with their figures, profiles, and the version 4 -> 5 migration."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

from sqlalchemy import create_engine, inspect, select, text

from lineage.catalog import CURRENT_VERSION, Catalog
from lineage.catalog import tables as cs
from lineage.model import (
    Dataset,
    DatasetId,
    DatasetKind,
    DatasetProfile,
    Field,
    FileLayout,
    FilePartition,
    Finding,
    LineageBatch,
    LiveColumn,
    LiveTable,
    Observation,
    ProfileMetric,
    Schema,
)

WH = "warehouse:postgres://db:5432"
T0 = datetime(2026, 11, 30, 6, 0, tzinfo=timezone.utc)
CUST = DatasetId("postgres://db:5432", "dwh.bronze.erp_cust_az12")
VIEW = DatasetId("postgres://db:5432", "dwh.silver.v_customers")
COLUMNS = (
    LiveColumn("_airbyte_raw_id", "character varying", nullable=False, primary_key=True),
    LiveColumn("_airbyte_extracted_at", "timestamp with time zone", nullable=False),
    LiveColumn("cid", "character varying(50)", nullable=True, comment="customer id"),
    LiveColumn("gen", "character varying(10)", nullable=True, default="'n/a'"),
    LiveColumn("bdate", "date", nullable=True),
)


def _observation(*columns: LiveColumn, comment: str | None = "ERP customers") -> Observation:
    return Observation(
        source="postgres://db:5432/dwh",
        tables=(
            LiveTable(CUST, DatasetKind.TABLE, columns, comment=comment),
            LiveTable(VIEW, DatasetKind.VIEW, (LiveColumn("cid", "text"),),
                      definition="SELECT cid FROM bronze.erp_cust_az12"),
        ),
    )  # fmt: skip


def test_an_introspection_is_recorded_once_and_changes_add_versions(catalog_url: str) -> None:
    with Catalog(catalog_url) as catalog:
        first = catalog.record_observation(_observation(*COLUMNS), observed_by=WH, observed_at=T0)
        assert (first.tables, first.datasets_added, first.schema_versions_added) == (2, 2, 2)
        again = catalog.record_observation(
            _observation(*COLUMNS), observed_by=WH, observed_at=T0 + timedelta(hours=1)
        )
        assert again.schema_versions_added == 0  # unchanged: nothing new

        live = catalog.live_schema(CUST)
        assert live is not None and live.version == 1 and live.observed_at == T0
        assert live.table.columns == COLUMNS and live.table.comment == "ERP customers"
        assert live.table.primary_key == ("_airbyte_raw_id",)
        view = catalog.live_schema(VIEW)
        assert view is not None and view.table.kind is DatasetKind.VIEW
        assert view.table.definition == "SELECT cid FROM bronze.erp_cust_az12"
        dataset = catalog.dataset(CUST)
        assert dataset is not None and dataset.kind is DatasetKind.TABLE
        assert dataset.schema == Schema(tuple(Field(c.name, c.type, c.comment) for c in COLUMNS))

        narrowed = (*COLUMNS[:2], LiveColumn("cid", "character varying(20)", nullable=True,
                                             comment="customer id"), *COLUMNS[3:])  # fmt: skip
        later = T0 + timedelta(days=1)
        changed = catalog.record_observation(
            _observation(*narrowed), observed_by=WH, observed_at=later
        )
        assert changed.schema_versions_added == 1  # only the changed table
        history = catalog.schema_history(CUST, observed_by=WH)
        assert [(v.version, v.observed_at) for v in history] == [(1, T0), (2, later)]
        assert history[0].schema.fields[2].type == "character varying(50)"  # never overwritten
        current = catalog.live_schema(CUST)
        assert current is not None and current.version == 2
        assert current.table.columns[2].type == "character varying(20)"
        # A table comment is part of the schema facts too.
        assert catalog.record_observation(
            _observation(*narrowed, comment=None), observed_by=WH, observed_at=later
        ).schema_versions_added == 1
        assert set(catalog.live_schemas()) == {CUST, VIEW}


def test_live_columns_never_replace_a_documented_schema(catalog_url: str) -> None:
    documented = Schema((Field("cid", "varchar(50)", "the documented id"),))
    with Catalog(catalog_url) as catalog:
        catalog.write(LineageBatch(datasets=(Dataset(CUST, schema=documented),)))
        catalog.record_observation(_observation(*COLUMNS), observed_by=WH, observed_at=T0)
        dataset = catalog.dataset(CUST)
        assert dataset is not None and dataset.schema == documented
        live = catalog.live_schema(CUST)
        assert live is not None and len(live.table.columns) == 5  # kept beside it
        # who recorded versions of each dataset, without reading the versions
        assert catalog.schema_observers() == {
            CUST: {v.observed_by for v in catalog.schema_history(CUST)}, VIEW: {WH}}
        assert len(catalog.schema_observers()[CUST]) == 2  # the parser's and the warehouse's

    with Catalog(catalog_url) as catalog:  # live first, then documented: documented wins
        catalog.record_observation(_observation(*COLUMNS), observed_by=WH, observed_at=T0)
        same = Schema(tuple(Field(c.name, c.type, c.comment) for c in COLUMNS[:1]))
        catalog.write(LineageBatch(datasets=(Dataset(VIEW, schema=same),)))
        catalog.record_observation(
            _observation(*COLUMNS[:3]), observed_by=WH, observed_at=T0 + timedelta(hours=1)
        )
        view = catalog.dataset(VIEW)
        assert view is not None and view.schema == same


LAYOUT_ROOT = "s3://company-datalake/bronze/erp/loc_a101"
LOC = DatasetId("s3://company-datalake", "bronze/erp/loc_a101")


def _layout(files: int) -> FileLayout:
    return FileLayout(
        format="parquet",
        root=LAYOUT_ROOT,
        partition_columns=("country",),
        partitions=(
            FilePartition((("country", "DE"),), 1, 200_000_000, 5_000_000, 200_000_000,
                          200_000_000),
            FilePartition((("country", "ID"),), files, files * 4_000, files * 10, 3_000, 5_000),
        ),
    )  # fmt: skip


def test_a_layout_is_kept_with_its_figures_and_findings(catalog_url: str) -> None:
    small = Finding(LOC, "small_files", "country=ID: 300 files of 4 kB on average")
    table = LiveTable(LOC, DatasetKind.LOCATION, (LiveColumn("cid", "string"),
                      LiveColumn("country", "string", partition=True)), location=LAYOUT_ROOT,
                      layout=_layout(300))  # fmt: skip
    observation = Observation(LAYOUT_ROOT, (table,), findings=(small,))
    with Catalog(catalog_url) as catalog:
        first = catalog.record_observation(observation, observed_by="files:x", observed_at=T0)
        assert (first.layouts_changed, first.metric_points_added) == (1, 4)
        again = catalog.record_observation(
            observation, observed_by="files:x", observed_at=T0 + timedelta(hours=1)
        )
        assert (again.layouts_changed, again.metric_points_added) == (0, 0)
        view = catalog.layout(LOC)
        assert view is not None and view.layout == _layout(300) and view.findings == (small,)
        assert view.layout.file_count == 301 and view.layout.row_count == 5_003_000
        grown = Observation(LAYOUT_ROOT, (LiveTable(LOC, DatasetKind.LOCATION, table.columns,
                            location=LAYOUT_ROOT, layout=_layout(400)),))  # fmt: skip
        catalog.record_observation(grown, observed_by="files:x", observed_at=T0 + timedelta(1))
        view = catalog.layout(LOC)
        assert view is not None and view.layout.file_count == 401 and view.findings == ()
        assert catalog.layouts() == {LOC: view}  # every dataset's at once: the same
        assert [m.value for m in catalog.metrics(LOC, "file_count")] == [301.0, 401.0]
        live = catalog.live_schema(LOC)
        assert live is not None and live.table.columns[1].partition


def test_profiles_land_in_the_metric_history(catalog_url: str) -> None:
    profile = DatasetProfile(
        CUST,
        T0,
        metrics=(ProfileMetric("row_count", 1000), ProfileMetric("null_rate", 0.12, "bdate")),
        bounds=(("bdate", "1924-01-01", "2025-12-31"),),
        sampled_rows=500,
    )
    with Catalog(catalog_url) as catalog:
        assert catalog.record_profile(profile)
        assert not catalog.record_profile(profile)
        catalog.record_metric(CUST, "row_count", 990, T0, run_id="run-1")  # a run's figure
        assert catalog.latest_profile(CUST) == profile
        assert [m.value for m in catalog.metrics(CUST, "null_rate")] == [0.12]
        newer = DatasetProfile(VIEW, T0, metrics=(ProfileMetric("row_count", 7),))
        newest = replace(profile, observed_at=T0 + timedelta(days=1),
                         metrics=(ProfileMetric("row_count", 1010),))  # fmt: skip
        assert catalog.record_profile(newer) and catalog.record_profile(newest)
        # every profiled dataset's newest at once, with only its own figures
        assert catalog.latest_profiles() == {CUST: newest, VIEW: newer}
        assert catalog.latest_profile(CUST) == newest
        # every dataset's metrics at once: the same points as one dataset's, oldest first
        everything = catalog.metrics(None)
        assert [m for m in everything if m.dataset == CUST] == catalog.metrics(CUST)
        assert {m.dataset for m in everything} == {CUST, VIEW}


def test_a_version_4_catalog_gains_live_schemas(catalog_url: str) -> None:
    with Catalog(catalog_url) as catalog:
        catalog.write(LineageBatch(datasets=(Dataset(CUST, schema=Schema((Field("cid"),))),)))
    engine = create_engine(catalog_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE dataset_layouts"))
            conn.execute(text("DROP TABLE profiles"))
            conn.execute(text("DROP INDEX ix_schema_versions_dataset_time"))
            conn.execute(text("ALTER TABLE schema_versions DROP COLUMN facts"))
            conn.execute(text("ALTER TABLE datasets DROP COLUMN schema_source"))
            conn.execute(text("UPDATE catalog_version SET version = 4"))
    finally:
        engine.dispose()
    with Catalog(catalog_url) as catalog:  # migrates
        dataset = catalog.dataset(CUST)
        assert dataset is not None and dataset.schema == Schema((Field("cid"),))
        catalog.record_observation(_observation(*COLUMNS), observed_by=WH, observed_at=T0)
        assert catalog.live_schema(CUST) is not None
    engine = create_engine(catalog_url)
    try:
        with engine.connect() as conn:
            version = conn.execute(select(cs.catalog_version.c.version)).scalar_one()
            assert version == CURRENT_VERSION
            assert {"dataset_layouts", "profiles"} <= set(inspect(conn).get_table_names())
    finally:
        engine.dispose()


def test_the_last_change_is_the_newest_fact_of_any_kind(catalog_url: str) -> None:
    with Catalog(catalog_url) as catalog:
        assert catalog.last_changed_at() is None
        catalog.record_observation(_observation(*COLUMNS), observed_by=WH, observed_at=T0)
        assert catalog.last_changed_at() == T0
        later = T0 + timedelta(hours=3)
        catalog.record_check_result(CUST, "not_null(cid)", "fail", later, "cid", "run-1")
        assert catalog.last_changed_at() == later
        catalog.record_metric(CUST, "row_count", 5, T0 + timedelta(hours=1))  # older: no move
        assert catalog.last_changed_at() == later
