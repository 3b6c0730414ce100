"""The catalog store, on SQLite and on a real PostgreSQL server (``catalog_url``).

What users rely on: what is written reads back the same; writing the same scan twice
changes nothing; a changed job replaces exactly its own edges; schema history grows only
on real change, per observer; bare references never erase richer metadata; runs,
metrics and check results; migrations; and a 2,000-job project rewritten incrementally.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, inspect, select, text

import lineage.catalog.store as catalog_module
import lineage.catalog.write as write_module
from lineage.catalog import (
    CURRENT_VERSION,
    DEFAULT_CATALOG_URL,
    Catalog,
    SchemaVersion,
    WriteSummary,
)
from lineage.catalog import tables as cs
from lineage.errors import CatalogError, LineageError
from lineage.model import (
    ColumnEdge,
    ColumnId,
    Dataset,
    DatasetId,
    DatasetKind,
    DataTest,
    Field,
    Freshness,
    Job,
    LineageBatch,
    Schema,
    Transformation,
    TransformationSubtype,
)
from lineage.views import CheckResult, CheckStatus, MetricPoint, RunState

NS = "postgres://warehouse:5432"
IDENTITY = Transformation.direct(TransformationSubtype.IDENTITY)
HASHED = Transformation.direct(TransformationSubtype.TRANSFORMATION, masking=True)
FILTER = Transformation.indirect(TransformationSubtype.FILTER)
JOIN = Transformation.indirect(TransformationSubtype.JOIN)
T0 = datetime(2026, 11, 1, 6, 0, tzinfo=timezone.utc)

BRONZE_CUST = DatasetId(NS, "dev.bronze.erp_cust_az12")
BRONZE_LOC = DatasetId(NS, "dev.bronze.erp_loc_a101")
SILVER_CUST = DatasetId(NS, "dev.silver.erp_customers")
SILVER_LOC = DatasetId(NS, "dev.silver.erp_locations")


def ds(dataset: DatasetId, *columns: str, **kwargs: Any) -> Dataset:
    fields = tuple(Field(c, "varchar(50)") for c in columns)
    return Dataset(dataset, schema=Schema(fields) if columns else None, **kwargs)


def edge(
    source: DatasetId, field: str, target: DatasetId, target_field: str | None,
    job: str | None, *transformations: Transformation,
) -> ColumnEdge:
    return ColumnEdge(
        ColumnId(source, field), target, target_field, transformations or (IDENTITY,), job
    )


def customers_job(sql: str = "insert into silver.erp_customers select ...") -> Job:
    return Job(NS, "models/erp_customers.sql", kind="sql", sql=sql,
               source_file="models/erp_customers.sql", owners=("data-eng",),
               description="Cleans ERP customers", inputs=(BRONZE_CUST,), outputs=(SILVER_CUST,))


def locations_job() -> Job:
    return Job(NS, "models/erp_locations.sql", sql="insert into silver.erp_locations ...",
               inputs=(BRONZE_LOC,), outputs=(SILVER_LOC,))


CUSTOMERS_EDGES = (
    edge(BRONZE_CUST, "cid", SILVER_CUST, "customer_id", "models/erp_customers.sql"),
    edge(BRONZE_CUST, "gen", SILVER_CUST, "gender", "models/erp_customers.sql", HASHED),
    edge(BRONZE_CUST, "bdate", SILVER_CUST, None, "models/erp_customers.sql", FILTER),
)
LOCATIONS_EDGES = (
    edge(BRONZE_LOC, "cid", SILVER_LOC, "customer_id", "models/erp_locations.sql"),
    edge(BRONZE_LOC, "cntry", SILVER_LOC, "country", "models/erp_locations.sql"),
)


def rich_customers() -> Dataset:
    return Dataset(
        SILVER_CUST,
        kind=DatasetKind.TABLE,
        schema=Schema((
            Field("customer_id", "integer", "Surrogate key"),
            Field("gender", "varchar(10)", None),
            Field("birth_date", None, "Day of birth"),
        )),
        description="One row per ERP customer",
        owners=("alice@example.com", "data-eng"),
        tags=("pii", "silver"),
        meta='{"tier": 1}',
        tests=(
            DataTest("not_null", "customer_id"),
            DataTest("accepted_values", "gender", '{"values": ["F", "M"]}', "warn"),
        ),
        contract_enforced=True,
        freshness=Freshness("loaded_at", "24h", "48h"),
        source_file="models/erp_customers.sql",
    )


def base_batch(**overrides: Any) -> LineageBatch:
    values: dict[str, Any] = {
        "datasets": (rich_customers(), ds(SILVER_LOC, "customer_id", "country")),
        "jobs": (customers_job(), locations_job()),
        "edges": CUSTOMERS_EDGES + LOCATIONS_EDGES,
    }
    values.update(overrides)
    return LineageBatch(**values)


@pytest.fixture
def catalog(catalog_url: str) -> Iterator[Catalog]:
    with Catalog(catalog_url) as opened:
        yield opened


def row_counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                for table in cs.metadata.sorted_tables
            }
    finally:
        engine.dispose()


def execute(url: str, *statements: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        engine.dispose()


# -- round trip ----------------------------------------------------------------------------


def test_written_lineage_reads_back_the_same(catalog: Catalog) -> None:
    summary = catalog.write(base_batch(), observed_at=T0)

    assert summary == WriteSummary(
        datasets_added=4, datasets_updated=0, schema_versions_added=2, jobs_added=2,
        jobs_changed=0, jobs_unchanged=0, edges_added=5, edges_removed=0,
    )
    assert catalog.dataset(SILVER_CUST) == rich_customers()
    assert catalog.dataset(SILVER_LOC) == ds(SILVER_LOC, "customer_id", "country")
    # Referenced only by edges and job IO: created, kind unknown, no schema.
    assert catalog.dataset(BRONZE_CUST) == Dataset(BRONZE_CUST, kind=DatasetKind.UNKNOWN)
    assert catalog.dataset(DatasetId(NS, "dev.silver.nowhere")) is None
    assert [d.id for d in catalog.datasets()] == sorted(
        [BRONZE_CUST, BRONZE_LOC, SILVER_CUST, SILVER_LOC]
    )

    assert catalog.jobs() == [customers_job(), locations_job()]
    assert catalog.job(NS, "models/erp_customers.sql") == customers_job()
    assert catalog.job("other", "models/erp_customers.sql") is None

    edges = catalog.column_edges()
    assert set(edges) == set(CUSTOMERS_EDGES + LOCATIONS_EDGES)
    assert len(edges) == 5
    assert [(e.source, e.target) for e in edges] == sorted((e.source, e.target) for e in edges)
    dataset_level = next(e for e in edges if e.target_field is None)
    assert dataset_level.transformations == (FILTER,)
    assert set(catalog.edges_of_job("models/erp_customers.sql")) == set(CUSTOMERS_EDGES)
    assert catalog.edges_of_job("models/none.sql") == []


def test_transformations_are_stored_in_canonical_order(catalog: Catalog) -> None:
    # The same edge listed twice with different transformations is one edge with both.
    first = edge(BRONZE_CUST, "cid", SILVER_CUST, "customer_id", "j", JOIN, IDENTITY)
    second = edge(BRONZE_CUST, "cid", SILVER_CUST, "customer_id", "j", FILTER, IDENTITY)
    catalog.write(LineageBatch(jobs=(Job(NS, "j"),), edges=(first, second)))

    [stored] = catalog.column_edges()
    assert stored.transformations == tuple(sorted({IDENTITY, JOIN, FILTER}))


def test_an_edge_naming_a_job_missing_from_the_batch_is_refused(catalog: Catalog) -> None:
    bad = edge(BRONZE_CUST, "cid", SILVER_CUST, "customer_id", "models/ghost.sql")
    with pytest.raises(CatalogError, match=r"ghost\.sql"):
        catalog.write(LineageBatch(edges=(bad,)))
    assert catalog.datasets() == []


def test_a_failed_write_leaves_nothing_behind(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*_args: Any) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(write_module._Writer, "_write_job_edges", boom)
    with pytest.raises(RuntimeError, match="disk on fire"):
        catalog.write(base_batch())
    monkeypatch.undo()

    assert catalog.datasets() == [] and catalog.jobs() == []
    assert catalog.write(base_batch()).jobs_added == 2


# -- idempotence and incremental writes ----------------------------------------------------


def test_writing_the_same_batch_twice_changes_nothing(catalog: Catalog, catalog_url: str) -> None:
    catalog.write(base_batch(), observed_at=T0)
    before = row_counts(catalog_url)
    history = catalog.schema_history(SILVER_CUST)

    again = catalog.write(base_batch(), observed_at=T0 + timedelta(days=1))

    assert again == WriteSummary(jobs_unchanged=2)
    assert row_counts(catalog_url) == before
    assert catalog.schema_history(SILVER_CUST) == history
    assert catalog.dataset(SILVER_CUST) == rich_customers()


def test_a_changed_job_replaces_its_own_edges_only(catalog: Catalog, catalog_url: str) -> None:
    catalog.write(base_batch())
    new_edge = edge(BRONZE_CUST, "cst_key", SILVER_CUST, "customer_key", "models/erp_customers.sql")
    changed_edges = (CUSTOMERS_EDGES[0], CUSTOMERS_EDGES[2], new_edge)  # "gen" edge dropped
    extra_input = DatasetId(NS, "dev.bronze.crm_cust_info")
    changed_job = Job(NS, "models/erp_customers.sql", sql="-- v2",
                      inputs=(BRONZE_CUST, extra_input), outputs=(SILVER_CUST,))

    summary = catalog.write(
        base_batch(jobs=(changed_job, locations_job()), edges=changed_edges + LOCATIONS_EDGES)
    )

    assert summary == WriteSummary(
        datasets_added=1, jobs_changed=1, jobs_unchanged=1, edges_added=1, edges_removed=1
    )
    assert set(catalog.edges_of_job("models/erp_customers.sql")) == set(changed_edges)
    assert CUSTOMERS_EDGES[1] not in catalog.column_edges()
    assert set(catalog.edges_of_job("models/erp_locations.sql")) == set(LOCATIONS_EDGES)
    assert catalog.job(NS, "models/erp_customers.sql") == changed_job
    assert row_counts(catalog_url)["job_io"] == 3 + 2

    # A job that now has no edges keeps none.
    emptied = catalog.write(base_batch(jobs=(changed_job, locations_job()), edges=LOCATIONS_EDGES))
    assert emptied.edges_removed == 3 and emptied.edges_added == 0
    assert catalog.edges_of_job("models/erp_customers.sql") == []


def test_a_changed_transformation_replaces_the_edge(catalog: Catalog) -> None:
    catalog.write(base_batch())
    masked = edge(BRONZE_CUST, "cid", SILVER_CUST, "customer_id", "models/erp_customers.sql",
                  HASHED)

    summary = catalog.write(base_batch(edges=(masked, *CUSTOMERS_EDGES[1:], *LOCATIONS_EDGES)))

    assert (summary.jobs_changed, summary.edges_added, summary.edges_removed) == (1, 1, 1)
    assert masked in catalog.column_edges()
    assert CUSTOMERS_EDGES[0] not in catalog.column_edges()


def test_edges_without_a_job_are_kept_once(catalog: Catalog) -> None:
    loose = edge(BRONZE_LOC, "cid", SILVER_LOC, "customer_id", None)
    batch = LineageBatch(edges=(loose,), observed_by="openlineage")

    assert catalog.write(batch).edges_added == 1
    assert catalog.write(batch) == WriteSummary()
    assert catalog.column_edges() == [loose]


# -- schema history ------------------------------------------------------------------------


def test_schema_history_grows_only_on_real_change_per_observer(catalog: Catalog) -> None:
    v1 = ds(SILVER_LOC, "customer_id", "country")
    v2 = ds(SILVER_LOC, "customer_id", "country", "city")
    at = [T0 + timedelta(hours=h) for h in range(5)]

    assert catalog.write(LineageBatch(datasets=(v1,)), observed_at=at[0]).schema_versions_added == 1
    assert catalog.write(LineageBatch(datasets=(v1,)), observed_at=at[1]).schema_versions_added == 0
    assert catalog.write(LineageBatch(datasets=(v2,)), observed_at=at[2]).schema_versions_added == 1
    # Another observer keeps its own versions: the warehouse still has the old columns.
    warehouse = LineageBatch(datasets=(v1,), observed_by="warehouse")
    assert catalog.write(warehouse, observed_at=at[3]).schema_versions_added == 1
    assert catalog.write(warehouse, observed_at=at[4]).schema_versions_added == 0

    history = catalog.schema_history(SILVER_LOC)
    assert [(h.observed_by, h.version, h.observed_at) for h in history] == [
        ("parser", 1, at[0]), ("parser", 2, at[2]), ("warehouse", 1, at[3]),
    ]
    assert all(isinstance(h, SchemaVersion) and len(h.fingerprint) == 64 for h in history)
    assert history[0].schema == v1.schema and history[1].schema == v2.schema
    assert history[0].fingerprint == history[2].fingerprint
    assert [h.version for h in catalog.schema_history(SILVER_LOC, observed_by="parser")] == [1, 2]
    # The current columns are the newest schema observed.
    current = catalog.dataset(SILVER_LOC)
    assert current is not None and current.schema == v1.schema
    assert catalog.schema_history(DatasetId(NS, "dev.silver.nowhere")) == []


def test_a_column_description_change_is_a_new_version(catalog: Catalog) -> None:
    plain = Dataset(SILVER_LOC, schema=Schema((Field("country", "text"),)))
    documented = Dataset(SILVER_LOC, schema=Schema((Field("country", "text", "ISO code"),)))
    catalog.write(LineageBatch(datasets=(plain,)))

    summary = catalog.write(LineageBatch(datasets=(documented,)))

    assert (summary.schema_versions_added, summary.datasets_updated) == (1, 1)
    assert catalog.dataset(SILVER_LOC) == documented


def test_an_empty_schema_is_not_an_unknown_schema(catalog: Catalog) -> None:
    catalog.write(LineageBatch(datasets=(Dataset(SILVER_LOC, schema=Schema(())),)))
    stored = catalog.dataset(SILVER_LOC)
    assert stored is not None and stored.schema == Schema(())


# -- metadata ------------------------------------------------------------------------------


def test_references_never_erase_richer_metadata(catalog: Catalog) -> None:
    catalog.write(LineageBatch(datasets=(rich_customers(),)))
    # A later scan only reads the table (job IO and edges), it does not list it.
    reader = Job(NS, "models/customer_report.sql", inputs=(SILVER_CUST,),
                 outputs=(DatasetId(NS, "dev.gold.customer_report"),))
    uses = edge(SILVER_CUST, "customer_id", DatasetId(NS, "dev.gold.customer_report"), "id",
                "models/customer_report.sql")

    summary = catalog.write(LineageBatch(jobs=(reader,), edges=(uses,)))

    assert (summary.datasets_added, summary.datasets_updated) == (1, 0)
    assert catalog.dataset(SILVER_CUST) == rich_customers()
    assert catalog.dataset(DatasetId(NS, "dev.gold.customer_report")) == Dataset(
        DatasetId(NS, "dev.gold.customer_report"), kind=DatasetKind.UNKNOWN
    )


def test_listed_metadata_replaces_the_stored_one_when_it_differs(catalog: Catalog) -> None:
    catalog.write(LineageBatch(jobs=(customers_job(),), edges=CUSTOMERS_EDGES))
    assert catalog.dataset(SILVER_CUST) == Dataset(SILVER_CUST, kind=DatasetKind.UNKNOWN)

    assert catalog.write(LineageBatch(datasets=(rich_customers(),))).datasets_updated == 1
    assert catalog.dataset(SILVER_CUST) == rich_customers()

    retagged = Dataset(**{**rich_customers().__dict__, "tags": ("gold",), "description": None})
    summary = catalog.write(LineageBatch(datasets=(retagged,)))
    assert summary == WriteSummary(datasets_updated=1)
    assert catalog.dataset(SILVER_CUST) == retagged


def test_find_datasets_by_exact_name_then_by_suffix(catalog: Catalog) -> None:
    names = ["dev.silver.erp_customers", "prod.silver.erp_customers", "dev.silver.erpXcustomers",
             "dev.silver.crm_customers", "erp_customers"]
    catalog.write(LineageBatch(datasets=tuple(Dataset(DatasetId(NS, n)) for n in names)))

    def found(text: str) -> list[str]:
        return [d.id.name for d in catalog.find_datasets(text)]

    assert found("erp_customers") == ["erp_customers"]  # an exact name wins
    assert found("silver.ERP_Customers") == ["dev.silver.erp_customers",
                                             "prod.silver.erp_customers"]
    assert found("DEV.silver.erp_customers") == ["dev.silver.erp_customers"]
    assert found("customers") == []  # suffixes start at a dot
    assert found("p_customers") == []
    assert found("") == []
    assert found("%") == [] and found("_rp_customers") == []  # no LIKE wildcards


# -- runs, metrics, check results ----------------------------------------------------------


def test_run_events_update_one_run(catalog: Catalog) -> None:
    catalog.record_run("r1", "load_customers", "START", T0, {"nominalTime": {"t": 1}})
    catalog.record_run("r1", "load_customers", "complete", T0 + timedelta(minutes=5),
                       {"parent": {"run": "p"}})
    catalog.record_run("r2", "load_customers", "START", T0 + timedelta(hours=1))
    catalog.record_run("r2", "load_customers", "FAIL", T0 + timedelta(hours=1, minutes=2),
                       {"errorMessage": {"message": "relation bronze.x does not exist"}})
    catalog.record_run("r3", "load_locations", "START", T0 + timedelta(hours=2))
    # Events out of order: a late START does not reopen a finished run.
    catalog.record_run("r4", "load_locations", "COMPLETE", T0 + timedelta(hours=3, minutes=1))
    catalog.record_run("r4", "load_locations", "START", T0 + timedelta(hours=3))

    runs = catalog.runs("load_customers")
    assert [r.run_id for r in runs] == ["r2", "r1"]  # newest first
    r2, r1 = runs
    assert (r1.state, r1.started_at, r1.ended_at) == (
        RunState.COMPLETE, T0, T0 + timedelta(minutes=5)
    )
    assert r1.error is None
    assert r1.facets == {"nominalTime": {"t": 1}, "parent": {"run": "p"}}
    assert (r2.state, r2.error) == (RunState.FAIL, "relation bronze.x does not exist")

    r4 = catalog.runs("load_locations")[0]
    assert (r4.run_id, r4.state) == ("r4", RunState.COMPLETE)
    assert (r4.started_at, r4.ended_at) == (T0 + timedelta(hours=3),
                                            T0 + timedelta(hours=3, minutes=1))
    assert [r.run_id for r in catalog.runs()] == ["r4", "r3", "r2", "r1"]
    assert [r.run_id for r in catalog.runs(limit=2)] == ["r4", "r3"]
    assert catalog.runs("nobody") == []

    with pytest.raises(CatalogError, match="unknown run state"):
        catalog.record_run("r5", "load_customers", "EXPLODED", T0)


def test_metrics_round_trip_and_filter(catalog: Catalog) -> None:
    for day, rows in enumerate([100, 110, 120]):
        catalog.record_metric(SILVER_CUST, "row_count", rows, T0 + timedelta(days=day),
                              run_id=f"run-{day}")
    # A naive time is taken as UTC.
    catalog.record_metric(SILVER_CUST, "null_fraction", 0.25, datetime(2026, 11, 2, 6, 0),
                          column="gender")

    counts = catalog.metrics(SILVER_CUST, "row_count")
    assert [(m.value, m.observed_at, m.run_id) for m in counts] == [
        (100.0, T0, "run-0"), (110.0, T0 + timedelta(days=1), "run-1"),
        (120.0, T0 + timedelta(days=2), "run-2"),
    ]
    assert [m.value for m in catalog.metrics(SILVER_CUST, "row_count",
                                             since=T0 + timedelta(days=1))] == [110.0, 120.0]
    nulls = catalog.metrics(SILVER_CUST, "null_fraction")
    assert nulls == [MetricPoint(dataset=SILVER_CUST, name="null_fraction", column="gender",
                                 value=0.25, observed_at=T0 + timedelta(days=1), run_id=None)]
    assert len(catalog.metrics(SILVER_CUST)) == 4
    assert catalog.metrics(SILVER_LOC) == []
    # Recording a metric makes the dataset known (kind unknown) without clobbering anything.
    assert catalog.dataset(SILVER_CUST) == Dataset(SILVER_CUST, kind=DatasetKind.UNKNOWN)
    with pytest.raises(CatalogError, match="finite"):
        catalog.record_metric(SILVER_CUST, "row_count", float("nan"), T0)


def test_check_results_round_trip_and_filter(catalog: Catalog) -> None:
    catalog.write(LineageBatch(datasets=(rich_customers(),)))
    local = timezone(timedelta(hours=2))
    catalog.record_check_result(SILVER_CUST, "not_null", "pass", T0, column="customer_id",
                                run_id="r1")
    catalog.record_check_result(SILVER_LOC, "row_count_vs_7d_avg", "fail",
                                datetime(2026, 11, 1, 9, 0, tzinfo=local),
                                details={"expected": 100, "actual": 3})

    results = catalog.check_results()
    assert results == [
        CheckResult(dataset=SILVER_CUST, check="not_null", column="customer_id",
                    status=CheckStatus.PASSED, native_status="pass", observed_at=T0,
                    run_id="r1", details={}),
        CheckResult(dataset=SILVER_LOC, check="row_count_vs_7d_avg", column=None,
                    status=CheckStatus.FAILED, native_status="fail",
                    observed_at=T0 + timedelta(hours=1), run_id=None,
                    details={"actual": 3, "expected": 100}),
    ]
    assert catalog.check_results(SILVER_LOC) == results[1:]
    assert catalog.check_results(run_id="r1") == results[:1]
    assert catalog.check_results(SILVER_LOC, run_id="r1") == []
    assert catalog.dataset(SILVER_CUST) == rich_customers()


# -- opening, URLs and migrations ----------------------------------------------------------


def _version(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(cs.catalog_version.c.version)).scalar_one())
    finally:
        engine.dispose()


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_an_older_catalog_is_migrated_with_its_data(
    catalog_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Catalog(catalog_url) as catalog:
        catalog.write(base_batch())
    # Make it look like a version-0 catalog: no datasets.source_file, no name index.
    execute(catalog_url, "DROP INDEX ix_datasets_name",
            "ALTER TABLE datasets DROP COLUMN source_file",
            "UPDATE catalog_version SET version = 0")
    steps: list[int] = []

    def add_source_file(conn: Any) -> None:
        steps.append(0)
        conn.execute(text("ALTER TABLE datasets ADD COLUMN source_file TEXT"))
        conn.execute(text("CREATE INDEX ix_datasets_name ON datasets (name)"))

    monkeypatch.setitem(catalog_module.MIGRATIONS, 0, add_source_file)

    with Catalog(catalog_url) as catalog:
        assert steps == [0]
        stored = catalog.dataset(SILVER_CUST)
        assert stored is not None
        assert stored.description == "One row per ERP customer" and stored.source_file is None
        assert set(catalog.column_edges()) == set(CUSTOMERS_EDGES + LOCATIONS_EDGES)
    assert _version(catalog_url) == CURRENT_VERSION
    engine = create_engine(catalog_url)
    try:
        indexes = {ix["name"] for ix in inspect(engine).get_indexes("datasets")}
    finally:
        engine.dispose()
    assert "ix_datasets_name" in indexes
    with Catalog(catalog_url):
        assert steps == [0]  # applied once


def test_a_failing_or_missing_migration_leaves_the_catalog_as_it_was(
    catalog_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Catalog(catalog_url) as catalog:
        catalog.write(base_batch())
    execute(catalog_url, "UPDATE catalog_version SET version = 0")

    with pytest.raises(CatalogError, match="no migration from catalog schema version 0 to 1"):
        Catalog(catalog_url)

    def half_done(conn: Any) -> None:
        conn.execute(text("DELETE FROM column_edges"))
        raise RuntimeError("step crashed")

    monkeypatch.setitem(catalog_module.MIGRATIONS, 0, half_done)
    with pytest.raises(CatalogError, match="from schema version 0 to 1 failed: step crashed"):
        Catalog(catalog_url)
    assert _version(catalog_url) == 0
    assert row_counts(catalog_url)["column_edges"] == 5  # rolled back


def test_a_newer_catalog_is_refused(catalog_url: str) -> None:
    Catalog(catalog_url).close()
    execute(catalog_url, f"UPDATE catalog_version SET version = {CURRENT_VERSION + 1}")

    with pytest.raises(CatalogError) as caught:
        Catalog(catalog_url)
    assert f"version {CURRENT_VERSION + 1}" in str(caught.value)
    assert f"version {CURRENT_VERSION})" in str(caught.value)
    assert _version(catalog_url) == CURRENT_VERSION + 1


def test_a_database_of_other_tables_is_refused_not_recreated(catalog_url: str) -> None:
    execute(catalog_url, "CREATE TABLE orders (id INTEGER PRIMARY KEY, total INTEGER)",
            "INSERT INTO orders VALUES (1, 42)")

    with pytest.raises(CatalogError, match=r"other tables \(orders\).*no catalog_version"):
        Catalog(catalog_url)
    engine = create_engine(catalog_url)
    try:
        assert inspect(engine).get_table_names() == ["orders"]
    finally:
        engine.dispose()


def test_a_catalog_that_cannot_be_opened_names_the_url_without_password(
    catalog_url: str, tmp_path: Path
) -> None:
    if catalog_url.startswith("sqlite"):
        not_a_database = tmp_path / "notes.db"
        not_a_database.write_text("just some text, not SQLite " * 100)
        bad = f"sqlite:///{not_a_database}"
        shown = bad
    else:
        # Nothing listens on port 1 of the loopback interface.
        bad = "postgresql+psycopg://silverline:s3cret-pw@127.0.0.1:1/catalog?connect_timeout=5"
        shown = "postgresql+psycopg://silverline:***@127.0.0.1:1/catalog"

    with pytest.raises(CatalogError) as caught:
        Catalog(bad)
    assert isinstance(caught.value, LineageError)
    assert shown in str(caught.value) and "cannot open the catalog" in str(caught.value)
    assert "s3cret-pw" not in str(caught.value)


def test_lineage_catalog_url_is_honoured(
    catalog_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINEAGE_CATALOG_URL", catalog_url)
    assert Catalog.resolve_url(None) == catalog_url
    assert Catalog.resolve_url("sqlite:///elsewhere.db") == "sqlite:///elsewhere.db"

    with Catalog() as catalog:
        assert catalog.url == catalog_url
        catalog.write(base_batch())
    with Catalog(catalog_url) as catalog:
        assert len(catalog.jobs()) == 2


def test_the_default_catalog_is_a_sqlite_file_under_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LINEAGE_CATALOG_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    assert Catalog.resolve_url(None) == DEFAULT_CATALOG_URL
    assert Catalog.resolve_url("nested/dir/cat.db") == "sqlite:///nested/dir/cat.db"

    with Catalog() as catalog:
        catalog.write(base_batch())
    assert (tmp_path / ".lineage" / "catalog.db").is_file()
    with Catalog(DEFAULT_CATALOG_URL) as catalog:
        assert catalog.dataset(SILVER_CUST) == rich_customers()


def test_a_closed_catalog_says_so(catalog_url: str) -> None:
    catalog = Catalog(catalog_url)
    catalog.close()
    with pytest.raises(CatalogError, match="closed"):
        catalog.datasets()


def test_sqlite_catalogs_use_wal_and_foreign_keys(tmp_path: Path) -> None:
    with Catalog(f"sqlite:///{tmp_path / 'c.db'}") as catalog, catalog._engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


# -- scale ---------------------------------------------------------------------------------


def project_batch(jobs: int, edges_per_job: int) -> LineageBatch:
    """A dbt-sized project: one model per job, each reading one bronze table."""
    datasets, job_list, edge_list = [], [], []
    for i in range(jobs):
        source = DatasetId(NS, f"dev.bronze.table_{i:04d}")
        target = DatasetId(NS, f"dev.silver.model_{i:04d}")
        name = f"models/model_{i:04d}.sql"
        columns = [f"col_{k:02d}" for k in range(edges_per_job)]
        datasets.append(ds(target, *columns, description=f"model {i}"))
        job_list.append(Job(NS, name, sql=f"select * from {source.name}", inputs=(source,),
                            outputs=(target,)))
        edge_list.extend(edge(source, c, target, c, name) for c in columns)
    return LineageBatch(tuple(datasets), tuple(job_list), tuple(edge_list))


@pytest.mark.slow
def test_two_thousand_jobs_are_written_then_skipped(catalog: Catalog, catalog_url: str) -> None:
    batch = project_batch(2000, 30)

    first = catalog.write(batch)
    assert (first.jobs_added, first.edges_added, first.datasets_added) == (2000, 60_000, 4000)
    counts = row_counts(catalog_url)
    assert (counts["column_edges"], counts["columns"], counts["job_io"]) == (60_000, 60_000, 4000)

    second = catalog.write(batch)
    assert second == WriteSummary(jobs_unchanged=2000)
    assert row_counts(catalog_url) == counts

    # One model edited: only it is rewritten.
    edited = project_batch(2000, 30)
    jobs = list(edited.jobs)
    jobs[7] = Job(NS, jobs[7].name, sql="select 1", inputs=jobs[7].inputs,
                  outputs=jobs[7].outputs)
    third = catalog.write(LineageBatch(edited.datasets, tuple(jobs), edited.edges))
    assert (third.jobs_changed, third.jobs_unchanged, third.edges_added) == (1, 1999, 0)


def test_a_scan_of_another_file_does_not_erase_metadata(catalog_url: str) -> None:
    silver = DatasetId("redshift", "dev.silver.erp_customers")
    documented = Dataset(
        silver, kind=DatasetKind.TABLE, description="Clean ERP customers", owners=("data-eng",),
        schema=Schema((Field("customer_id", "varchar(50)", "Business key"),)),
        source_file="models/silver/erp_customers.sql",
    )
    from_script = Dataset(
        silver, kind=DatasetKind.VIEW, schema=Schema((Field("customer_id"),)),
        source_file="sql/adhoc.sql",
    )
    with Catalog(catalog_url) as catalog:
        catalog.write(LineageBatch(datasets=(documented,)))
        catalog.write(LineageBatch(datasets=(from_script,)))
        stored = catalog.dataset(silver)
        assert stored is not None
        assert stored.description == "Clean ERP customers"
        assert stored.owners == ("data-eng",)
        assert stored.kind is DatasetKind.TABLE
        assert stored.source_file == "models/silver/erp_customers.sql"
        # The defining file itself may clear its own description.
        catalog.write(LineageBatch(datasets=(replace(documented, description=None),)))
        assert catalog.dataset(silver).description is None  # type: ignore[union-attr]
