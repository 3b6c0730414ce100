"""Datasets of decorated jobs: naming rules, SQLAlchemy tables, DuckDB relations, data
frames (schema, row and null counts), SQL column lineage and metrics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import sqlalchemy.orm

from lineage.config import OpenLineageSection, ProjectConfig
from lineage.model import DatasetId, Field, Schema, SqlContext, namespace_of
from lineage.run import configure, current_run, flush, job, reset, run
from lineage.run.datasets import frame_facts, resolve_dataset
from tests.lineage.run.test_support import ValidatingSink, events

__all__ = ["events"]

NAMES = SqlContext(namespace="redshift://analytics:5439", default_database="dev")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "bronze.erp_cust_az12",
            DatasetId("redshift://analytics:5439", "dev.bronze.erp_cust_az12"),
        ),
        (
            "Bronze.ERP_Cust_AZ12",
            DatasetId("redshift://analytics:5439", "dev.bronze.erp_cust_az12"),
        ),
        ("dwh.bronze.t", DatasetId("redshift://analytics:5439", "dwh.bronze.t")),
        (
            "postgres://db:5432/dwh.silver.customers",
            DatasetId("postgres://db:5432", "dwh.silver.customers"),
        ),
        ("s3://bucket/bronze/erp/cust_az12/", DatasetId("s3://bucket", "bronze/erp/cust_az12")),
        ("/data/landing/x.csv", DatasetId("file", "/data/landing/x.csv")),
        ("file:///data/x.parquet", DatasetId("file", "/data/x.parquet")),
        (
            "reports/monthly retention",
            DatasetId("redshift://analytics:5439", "reports/monthly retention"),
        ),
    ],
)
def test_names(text: str, expected: DatasetId) -> None:
    assert resolve_dataset(text, NAMES) == (expected, None)


def test_dataset_ids_and_namespace_argument() -> None:
    given = DatasetId("kafka://broker:9092", "erp.customers")
    assert resolve_dataset(given, NAMES)[0] is given
    assert resolve_dataset("t", NAMES, "warehouse")[0] == DatasetId("warehouse", "t")
    assert resolve_dataset("bronze.t", SqlContext(namespace="sql"), "hive://metastore:9083")[
        0
    ] == DatasetId("hive://metastore:9083", "bronze.t")
    with pytest.raises(TypeError):
        resolve_dataset(object(), NAMES)


def test_engine_namespaces(tmp_path: Path) -> None:
    assert namespace_of("postgresql+psycopg://u:secret@db.example.com:6543/dwh") == (
        "postgres://db.example.com:6543",
        "dwh",
    )
    assert namespace_of("mysql+pymysql://u@db/shop") == ("mysql://db:3306", "shop")
    duck = tmp_path / "wh.duckdb"
    assert namespace_of(f"duckdb:///{duck}") == (f"duckdb://{duck}", "wh")
    assert namespace_of("snowflake://u@ACME-xy/db") == ("snowflake://acme-xy", "db")


def test_sqlalchemy_tables() -> None:
    metadata = sa.MetaData()
    table = sa.Table(
        "erp_cust_az12",
        metadata,
        sa.Column("cid", sa.String(50), comment="customer id"),
        sa.Column("bdate", sa.Date),
        schema="bronze",
    )
    engine = sa.create_engine("postgresql+psycopg://etl:pw@db.example.com/dwh")
    dataset, schema = resolve_dataset(table, NAMES, engine)
    assert dataset == DatasetId("postgres://db.example.com:5432", "dwh.bronze.erp_cust_az12")
    assert schema is not None
    assert [(f.name, f.type, f.description) for f in schema.fields] == [
        ("cid", "VARCHAR(50)", "customer id"),
        ("bdate", "DATE", None),
    ]
    # No engine: the table's full name in the project namespace, completed like SQL names.
    assert resolve_dataset(table, NAMES)[0] == DatasetId(
        "redshift://analytics:5439", "dev.bronze.erp_cust_az12"
    )

    light = sa.table("erp_loc_a101", sa.column("cid"), schema="bronze")  # a TableClause
    assert resolve_dataset(light, NAMES, engine) == (
        DatasetId("postgres://db.example.com:5432", "dwh.bronze.erp_loc_a101"),
        Schema((Field("cid", None),)),
    )

    class Base(sa.orm.DeclarativeBase):
        pass

    class Customer(Base):
        __tablename__ = "customers"
        __table_args__ = {"schema": "silver"}  # noqa: RUF012 - SQLAlchemy's own idiom
        customer_id: sa.orm.Mapped[str] = sa.orm.mapped_column(sa.String(50), primary_key=True)

    assert resolve_dataset(Customer, NAMES, engine)[0].name == "dwh.silver.customers"


def test_duckdb_relations(tmp_path: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    con.execute("CREATE SCHEMA bronze; CREATE TABLE bronze.erp (cid VARCHAR, gen VARCHAR, n INT)")
    con.execute("INSERT INTO bronze.erp VALUES ('a', NULL, 1), ('b', 'M', NULL), (NULL, 'F', 3)")
    relation = con.table("bronze.erp")
    dataset, schema = resolve_dataset(relation, SqlContext(namespace="duckdb"))
    assert dataset == DatasetId("duckdb", "erp")
    assert schema is not None and [(f.name, f.type) for f in schema.fields] == [
        ("cid", "VARCHAR"),
        ("gen", "VARCHAR"),
        ("n", "INTEGER"),
    ]
    facts = frame_facts(con.sql("SELECT cid, gen FROM bronze.erp"))
    assert facts is not None and facts.row_count == 3
    assert facts.null_counts == {"cid": 1, "gen": 1}
    with pytest.raises(TypeError, match="no name"):
        resolve_dataset(con.sql("SELECT 1"), SqlContext(namespace="duckdb"))


def test_pandas_and_arrow_frames() -> None:
    pandas = pytest.importorskip("pandas")
    pyarrow = pytest.importorskip("pyarrow")
    frame = pandas.DataFrame({"customer_id": ["C1", None, "C3"], "age": [30, 41, None]})
    facts = frame_facts(frame)
    assert facts is not None and facts.row_count == 3
    assert facts.null_counts == {"customer_id": 1, "age": 1}
    assert facts.schema is not None and facts.schema.names == ("customer_id", "age")
    table = pyarrow.table({"customer_id": ["C1", None], "age": [1, 2]})
    facts = frame_facts(table)
    assert (
        facts is not None
        and facts.row_count == 2
        and facts.null_counts == {"customer_id": 1, "age": 0}
    )
    assert facts.schema is not None and facts.schema.fields[1].type == "int64"
    assert frame_facts({"not": "a frame"}) is None


# -- in events -----------------------------------------------------------------------------


def _complete(events: ValidatingSink, name: str) -> dict[str, Any]:
    flush()
    found = [e for e in events.of_job(name) if e["eventType"] == "COMPLETE"]
    assert len(found) == 1
    return dict(found[0])


def test_returned_frame_describes_the_only_output(events: ValidatingSink) -> None:
    pandas = pytest.importorskip("pandas")

    @job(name="erp.frame", inputs=["bronze.erp_cust_az12"], outputs=["silver.erp_customers"])
    def build() -> Any:
        return pandas.DataFrame({"customer_id": ["C1", None], "gender": ["Male", "Female"]})

    frame = build()
    assert list(frame.columns) == ["customer_id", "gender"]
    output = _complete(events, "erp.frame")["outputs"][0]
    assert output["facets"]["schema"]["fields"] == [
        {"name": "customer_id", "type": str(frame.dtypes.iloc[0])},
        {"name": "gender", "type": str(frame.dtypes.iloc[1])},
    ]
    assert output["outputFacets"]["outputStatistics"]["rowCount"] == 2
    assert output["facets"]["dataQualityMetrics"]["columnMetrics"] == {
        "customer_id": {"nullCount": 1},
        "gender": {"nullCount": 0},
    }
    start = events.of_job("erp.frame")[0]
    assert start["outputs"] == [{"namespace": "sql", "name": "silver.erp_customers"}]


def test_mapping_of_outputs_and_add_output(events: ValidatingSink, tmp_path: Path) -> None:
    pyarrow = pytest.importorskip("pyarrow")
    duckdb = pytest.importorskip("duckdb")

    @job(name="erp.two_outputs", outputs=["silver.customers", "silver.locations"])
    def build() -> dict[str, Any]:
        return {
            "silver.customers": pyarrow.table({"id": [1, 2, None]}),
            "silver.locations": pyarrow.table({"cid": ["a"], "country": [None]}),
        }

    build()
    outputs = {o["name"]: o for o in _complete(events, "erp.two_outputs")["outputs"]}
    assert outputs["silver.customers"]["outputFacets"]["outputStatistics"]["rowCount"] == 3
    assert outputs["silver.locations"]["facets"]["dataQualityMetrics"]["columnMetrics"][
        "country"
    ] == {"nullCount": 1}

    con = duckdb.connect()
    con.execute("CREATE TABLE gold_ages AS SELECT 30 AS age_group, 2 AS n UNION ALL SELECT NULL, 1")
    with run("erp.duck") as r:
        r.add_input(con.table("gold_ages"))
        r.add_output(con.sql("SELECT * FROM gold_ages"), name="gold.customer_age_groups")
        r.add_output(pyarrow.table({"x": [1]}))  # no name, no single output: left out
    complete = _complete(events, "erp.duck")
    assert complete["inputs"][0]["name"] == "gold_ages"
    assert complete["inputs"][0]["facets"]["schema"]["fields"][0] == {
        "name": "age_group",
        "type": "INTEGER",
    }
    output = complete["outputs"][0]
    assert output["name"] == "gold.customer_age_groups"
    assert output["outputFacets"]["outputStatistics"]["rowCount"] == 2
    assert len(complete["outputs"]) == 1


def test_stats_off_keeps_schema_only(events: ValidatingSink) -> None:
    pyarrow = pytest.importorskip("pyarrow")

    @job(name="erp.nostats", outputs=["silver.x"], stats=False)
    def build() -> Any:
        return pyarrow.table({"id": [1, None]})

    build()
    output = _complete(events, "erp.nostats")["outputs"][0]
    assert "schema" in output["facets"] and "outputFacets" not in output
    assert "dataQualityMetrics" not in output["facets"]


def test_metrics(events: ValidatingSink) -> None:
    @job(name="erp.metrics", inputs=["bronze.erp_cust_az12"], outputs=["silver.erp_customers"])
    def build() -> None:
        r = current_run()
        assert r is not None
        r.add_metric("row_count", 1200, dataset="silver.erp_customers")
        r.add_metric("null_count", 3, dataset="silver.erp_customers", column="birth_date")
        r.add_metric("max", 99.5, dataset="silver.erp_customers", column="age")
        r.add_metric("row_count", 1300, dataset="bronze.erp_cust_az12")
        r.add_metric("rejected_rows", 100, dataset="bronze.erp_cust_az12")
        r.add_metric("duration_s", 1.5)

    build()
    complete = _complete(events, "erp.metrics")
    output = complete["outputs"][0]["facets"]["dataQualityMetrics"]
    assert output["rowCount"] == 1200
    assert output["columnMetrics"] == {"birth_date": {"nullCount": 3}, "age": {"max": 99.5}}
    assert complete["inputs"][0]["inputFacets"]["dataQualityMetrics"]["rowCount"] == 1300
    assert complete["run"]["facets"]["silverline_metrics"]["metrics"] == [
        {
            "name": "rejected_rows",
            "value": 100.0,
            "namespace": "sql",
            "dataset": "bronze.erp_cust_az12",
        },
        {"name": "duration_s", "value": 1.5},
    ]


ERP_SQL = """
INSERT INTO silver.erp_customers
SELECT cid::VARCHAR(50) AS customer_id,
       TRY_CAST(bdate AS DATE) AS birth_date,
       CASE gen WHEN 'M' THEN 'Male' WHEN 'F' THEN 'Female' ELSE 'Unknown' END AS gender
FROM bronze.erp_cust_az12
WHERE _airbyte_extracted_at > CURRENT_DATE - 1
"""


def test_sql_adds_tables_and_column_lineage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sink = ValidatingSink()
    (tmp_path / "lineage.yml").write_text(
        "namespace: redshift://analytics:5439\ndialect: redshift\ndefault_database: dev\n"
    )
    monkeypatch.chdir(tmp_path)
    from lineage.config import load_config

    configure(
        sinks=[sink],
        config=load_config(tmp_path),
        spool_dir=tmp_path / "spool",
        register_atexit=False,
    )
    try:

        @job(name="erp.silver_sql", inputs=["bronze.erp_cust_az12"], sql=ERP_SQL)
        def build() -> None:
            r = current_run()
            assert r is not None
            r.add_sql(
                "CREATE TABLE gold.ages AS SELECT customer_id, FLOOR(age / 10) * 10 AS "
                "age_group FROM silver.erp_customers"
            )

        build()
        flush()
    finally:
        reset()
    assert not sink.errors, sink.errors[:2]
    start, complete = sink.events
    namespace = "redshift://analytics:5439"
    assert start["inputs"] == [{"namespace": namespace, "name": "dev.bronze.erp_cust_az12"}]
    assert [o["name"] for o in start["outputs"]] == ["dev.silver.erp_customers"]
    lineage = start["outputs"][0]["facets"]["columnLineage"]
    assert set(lineage["fields"]) == {"customer_id", "birth_date", "gender"}
    assert lineage["fields"]["customer_id"]["inputFields"][0]["field"] == "cid"
    assert {i["field"] for i in lineage["dataset"]} == {"_airbyte_extracted_at"}
    assert start["job"]["facets"]["sql"]["dialect"] == "redshift"
    assert [o["name"] for o in complete["outputs"]] == ["dev.silver.erp_customers", "dev.gold.ages"]
    assert [i["name"] for i in complete["inputs"]] == [
        "dev.bronze.erp_cust_az12",
        "dev.silver.erp_customers",
    ]
    assert "CREATE TABLE gold.ages" in complete["job"]["facets"]["sql"]["query"]
    ages = complete["outputs"][1]["facets"]
    assert ages["columnLineage"]["fields"]["age_group"]["inputFields"][0]["field"] == "age"
    assert [f["name"] for f in ages["schema"]["fields"]] == ["customer_id", "age_group"]


def test_bad_sql_is_logged_not_raised(
    events: ValidatingSink, caplog: pytest.LogCaptureFixture
) -> None:
    @job(name="erp.bad_sql", sql="SELEC oops FROM", outputs=["silver.x"])
    def build() -> int:
        return 1

    assert build() == 1
    flush()
    assert events.types("erp.bad_sql") == ["START", "COMPLETE"]
    assert "not analysed" in caplog.text


def test_namespace_from_lineage_yml_openlineage_section(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lineage.errors import ConfigError
    from lineage.run.wiring import build_runtime

    monkeypatch.delenv("OPENLINEAGE_NAMESPACE", raising=False)
    config = ProjectConfig(
        root=tmp_path, openlineage=OpenLineageSection(namespace="erp-jobs", queue_size=5)
    )
    runtime = build_runtime(config, sinks=[], register_atexit=False)
    assert runtime.job_namespace == "erp-jobs"
    assert runtime.emitter is not None and runtime.emitter.queue_size == 5
    (tmp_path / "lineage.yml").write_text("namespace: duckdb\nopenlineage:\n  nmespace: x\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"unknown setting\(s\) openlineage\.nmespace"):
        build_runtime(sinks=[], strict=True, register_atexit=False)
    # A job's run never fails over its lineage settings: defaults, and the error logged.
    lenient = build_runtime(sinks=[], strict=False, register_atexit=False)
    assert lenient.job_namespace == "default" and lenient.sql == SqlContext()


def test_a_returned_relation_describes_the_declared_output(events: ValidatingSink) -> None:
    duckdb = pytest.importorskip("duckdb")
    con = duckdb.connect()
    con.execute("CREATE TABLE staged AS SELECT 'C1' AS customer_id UNION ALL SELECT NULL")

    @job(name="erp.returns_relation", outputs=["silver.erp_customers"])
    def build() -> Any:
        return con.table("staged")  # named "staged", but it is what the job writes

    build()
    (output,) = _complete(events, "erp.returns_relation")["outputs"]
    assert output["name"] == "silver.erp_customers"
    assert output["outputFacets"]["outputStatistics"]["rowCount"] == 2


def test_standard_metrics_of_other_datasets_are_kept_as_custom(events: ValidatingSink) -> None:
    with run("erp.checks", inputs=["bronze.a"]) as r:
        r.add_metric("row_count", 7, dataset="bronze.elsewhere")
        r.add_metric("null_count", 1.5, dataset="bronze.a", column="x")  # not a whole number
    complete = _complete(events, "erp.checks")
    assert "inputFacets" not in complete["inputs"][0]
    assert [m["name"] for m in complete["run"]["facets"]["silverline_metrics"]["metrics"]] == [
        "row_count",
        "null_count",
    ]
