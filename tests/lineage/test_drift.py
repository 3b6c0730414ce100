"""The drift matrix: (old, new) column pairs over PostgreSQL, DuckDB, Redshift, Snowflake
and BigQuery type names, the change each must report and its grade, written from what a
reader of the column suffers; plus the other kinds (renames, nullability, partitions,
order, contracts) and the refusal of unknown kinds."""

from __future__ import annotations

import pytest

from lineage.contracts import Constraint, ConstraintKind, Contract, ContractField, Source
from lineage.drift import (
    SEVERITY,
    Change,
    ChangeKind,
    DatasetSchema,
    DriftSeverity,
    contract_changes,
    diff_datasets,
    diff_schemas,
    parse_kind,
    read_schema_document,
    schema_document,
    severity_of,
)
from lineage.errors import InputError
from lineage.model import ColumnId, DatasetId, LiveColumn

B, W, N = DriftSeverity.BREAKING, DriftSeverity.WARNING, DriftSeverity.INFO  # N: no harm
K = ChangeKind
_NS = {"postgres": "postgres://db:5432", "duckdb": "duckdb:///wh.duckdb",
       "redshift": "redshift://cluster:5439", "snowflake": "snowflake://acct",
       "bigquery": "bigquery", "files": "file:///lake"}  # fmt: skip


def _ds(dialect: str, *columns: LiveColumn) -> DatasetSchema:
    return DatasetSchema(DatasetId(_NS[dialect], "dwh.bronze.t"), columns, dialect=(
        None if dialect == "files" else dialect))  # fmt: skip


def _c(name: str, type_: str | None, **facts: object) -> LiveColumn:
    return LiveColumn(name, type_, **facts)  # type: ignore[arg-type]


# (dialect, old type, new type, expected kind or None for "no change", severity)
TYPES: list[tuple[str, str, str, ChangeKind | None, DriftSeverity | None]] = [
    ("postgres", "character varying(50)", "character varying(100)", K.TYPE_WIDENED, W),
    ("postgres", "character varying(50)", "character varying(20)", K.TYPE_NARROWED, B),
    ("postgres", "integer", "bigint", K.TYPE_WIDENED, W),
    ("postgres", "bigint", "integer", K.TYPE_NARROWED, B),
    ("postgres", "smallint", "integer", K.TYPE_WIDENED, W),
    ("postgres", "numeric(10,2)", "numeric(12,2)", K.TYPE_WIDENED, W),
    ("postgres", "numeric(10,2)", "numeric(10,1)", K.TYPE_NARROWED, B),  # cents lost
    ("postgres", "numeric(12,4)", "numeric(10,4)", K.TYPE_NARROWED, B),  # big values fail
    ("postgres", "date", "timestamp without time zone", K.TYPE_WIDENED, W),
    ("postgres", "timestamp without time zone", "date", K.TYPE_NARROWED, B),
    ("postgres", "text", "integer", K.TYPE_CHANGED, B),
    ("postgres", "int4", "integer", None, None),  # one type, two spellings
    ("postgres", "timestamp", "timestamp with time zone", K.TYPE_TIMEZONE_CHANGED, W),
    ("postgres", "character varying(50)", "text", K.TYPE_WIDENED, W),
    ("postgres", "text", "character varying(20)", K.TYPE_NARROWED, B),
    ("postgres", "real", "double precision", K.TYPE_WIDENED, W),
    ("postgres", "double precision", "numeric(10,2)", K.TYPE_NARROWED, B),
    ("postgres", "jsonb", "json", K.TYPE_CHANGED, B),  # jsonb operators fail on json
    ("postgres", "boolean", "character varying(5)", K.TYPE_CHANGED, B),
    ("postgres", "timestamp(6)", "timestamp(3)", K.TYPE_NARROWED, B),  # microseconds lost
    ("duckdb", "VARCHAR", "VARCHAR", None, None),
    ("duckdb", "VARCHAR", "INTEGER", K.TYPE_CHANGED, B),
    ("duckdb", "INTEGER", "HUGEINT", K.TYPE_WIDENED, W),
    ("duckdb", "HUGEINT", "BIGINT", K.TYPE_NARROWED, B),
    ("duckdb", "DECIMAL(18,3)", "DOUBLE", K.TYPE_NARROWED, B),  # exact -> approximate
    ("duckdb", "INTEGER", "DOUBLE", K.TYPE_WIDENED, W),  # every int4 fits a double exactly
    ("duckdb", "BIGINT", "DOUBLE", K.TYPE_NARROWED, B),  # above 2^53 they do not
    ("duckdb", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE", K.TYPE_TIMEZONE_CHANGED, W),
    ("duckdb", "DATE", "VARCHAR", K.TYPE_CHANGED, B),
    ("redshift", "VARCHAR", "VARCHAR(100)", K.TYPE_NARROWED, B),  # a bare VARCHAR is 256
    ("redshift", "VARCHAR(256)", "VARCHAR", None, None),
    ("redshift", "INT4", "INT8", K.TYPE_WIDENED, W),
    ("redshift", "FLOAT8", "FLOAT4", K.TYPE_NARROWED, B),
    ("redshift", "character varying(50)", "VARCHAR(65535)", K.TYPE_WIDENED, W),
    ("redshift", "NUMERIC", "NUMERIC(18,0)", None, None),  # Redshift's default precision
    ("snowflake", "NUMBER(38,0)", "NUMBER(10,0)", K.TYPE_NARROWED, B),
    ("snowflake", "NUMBER", "INT", None, None),  # INT is NUMBER(38,0) in Snowflake
    ("snowflake", "VARCHAR", "VARCHAR(16777216)", None, None),
    ("snowflake", "VARCHAR(100)", "STRING", K.TYPE_WIDENED, W),
    ("snowflake", "TIMESTAMP_NTZ", "TIMESTAMP_LTZ", K.TYPE_TIMEZONE_CHANGED, W),
    ("snowflake", "FLOAT", "NUMBER(38,2)", K.TYPE_NARROWED, B),
    ("snowflake", "VARIANT", "VARCHAR", K.TYPE_CHANGED, B),
    ("bigquery", "INT64", "NUMERIC", K.TYPE_WIDENED, W),
    ("bigquery", "NUMERIC", "BIGNUMERIC", K.TYPE_WIDENED, W),
    ("bigquery", "FLOAT64", "INT64", K.TYPE_NARROWED, B),
    ("bigquery", "DATE", "DATETIME", K.TYPE_WIDENED, W),
    ("bigquery", "DATETIME", "TIMESTAMP", K.TYPE_TIMEZONE_CHANGED, W),
    ("bigquery", "STRING", "BYTES", K.TYPE_CHANGED, B),
    ("bigquery", "INT64", "STRING", K.TYPE_CHANGED, B),
    ("postgres", "geography(point)", "frobnicate thing", K.TYPE_UNCOMPARABLE, W),
    # Parquet columns as pyarrow spells their types (files have no SQL dialect).
    ("files", "large_string", "string", K.TYPE_NARROWED, B),  # 64-bit -> 32-bit offsets
    ("files", "string", "large_string", K.TYPE_WIDENED, W),
    ("files", "int64", "int32", K.TYPE_NARROWED, B),
    ("files", "timestamp[us, tz=UTC]", "timestamp[ms, tz=UTC]", K.TYPE_NARROWED, B),
    ("files", "timestamp[us]", "timestamp[us, tz=UTC]", K.TYPE_TIMEZONE_CHANGED, W),
    ("files", "decimal128(18, 2)", "decimal128(10, 2)", K.TYPE_NARROWED, B),
    ("files", "date32[day]", "timestamp[us]", K.TYPE_WIDENED, W),
    ("files", "timestamp[ns]", "timestamp[ns]", None, None),
    ("files", "double", "string", K.TYPE_CHANGED, B),
]


@pytest.mark.parametrize(("dialect", "old", "new", "kind", "severity"), TYPES,
                         ids=[f"{d}:{o}->{n}" for d, o, n, *_ in TYPES])  # fmt: skip
def test_type_changes_per_dialect(
    dialect: str, old: str, new: str, kind: ChangeKind | None, severity: DriftSeverity | None
) -> None:
    changes = diff_schemas(_ds(dialect, _c("id", "int"), _c("c", old)),
                           _ds(dialect, _c("id", "int"), _c("c", new)))  # fmt: skip
    if kind is None:
        assert changes == []
        return
    assert [(c.kind, c.column, c.severity) for c in changes] == [(kind, "c", severity)]
    assert changes[0].old == old and changes[0].new == new


def test_types_compare_across_dialects() -> None:
    """A BigQuery baseline against the Snowflake copy; PostgreSQL docs against DuckDB."""
    bq = DatasetSchema(DatasetId("bigquery", "p.d.t"), (_c("s", "STRING"), _c("n", "INT64")))
    sf = DatasetSchema(DatasetId("bigquery", "p.d.t"), (_c("s", "VARCHAR"), _c("n", "NUMBER")),
                       dialect="snowflake")  # fmt: skip
    # STRING and VARCHAR are one unbounded string; INT64 (19 digits) fits NUMBER(38,0)
    assert [(c.kind, c.column) for c in diff_schemas(bq, sf)] == [(K.TYPE_WIDENED, "n")]
    pg = _ds("postgres", _c("cid", "character varying(50)"))
    duck = DatasetSchema(pg.id, (_c("cid", "VARCHAR"),), dialect="duckdb")
    [change] = diff_schemas(pg, duck)
    assert (change.kind, change.severity) == (K.TYPE_WIDENED, W)  # DuckDB keeps no length


# (what, old columns, new columns, expected (kind, column, severity) list)
COLUMNS: list[tuple[str, tuple[LiveColumn, ...], tuple[LiveColumn, ...],
                    list[tuple[ChangeKind, str | None, DriftSeverity]]]] = [
    ("not null relaxed", (_c("id", "int"), _c("c", "text", nullable=False)),
     (_c("id", "int"), _c("c", "text", nullable=True)), [(K.NULLABILITY_RELAXED, "c", W)]),
    ("not null added", (_c("id", "int"), _c("c", "text", nullable=True)),
     (_c("id", "int"), _c("c", "text", nullable=False)), [(K.NULLABILITY_TIGHTENED, "c", N)]),
    ("nullability unknown in baseline", (_c("id", "int"), _c("c", "text")),
     (_c("id", "int"), _c("c", "text", nullable=True)), []),
    ("default changed", (_c("id", "int"), _c("c", "text", default="'x'")),
     (_c("id", "int"), _c("c", "text", default="'y'")), [(K.DEFAULT_CHANGED, "c", N)]),
    ("description changed", (_c("id", "int"), _c("c", "text", comment="Birth date")),
     (_c("id", "int"), _c("c", "text", comment="Date of birth")),
     [(K.DESCRIPTION_CHANGED, "c", N)]),
    ("column dropped", (_c("id", "int"), _c("gen", "varchar(50)")), (_c("id", "int"),),
     [(K.COLUMN_REMOVED, "gen", B)]),
    ("column added", (_c("id", "int"),), (_c("id", "int"), _c("email", "text")),
     [(K.COLUMN_ADDED, "email", N)]),
    ("renamed in place, same type", (_c("id", "int"), _c("bdate", "date"), _c("x", "int")),
     (_c("id", "int"), _c("birth_dt", "date"), _c("x", "int")),
     [(K.COLUMN_RENAMED, "bdate", B)]),
    ("renamed and narrowed", (_c("id", "int"), _c("cid", "varchar(50)"), _c("x", "int")),
     (_c("id", "int"), _c("customer_id", "varchar(20)"), _c("x", "int")),
     [(K.COLUMN_RENAMED, "cid", B), (K.TYPE_NARROWED, "customer_id", B)]),
    ("drop and unrelated add are not a rename",
     (_c("id", "int"), _c("gen", "varchar(10)")),
     (_c("id", "int"), _c("loaded_at", "timestamp")),
     [(K.COLUMN_REMOVED, "gen", B), (K.COLUMN_ADDED, "loaded_at", N)]),
    ("order changed", (_c("a", "int"), _c("b", "int"), _c("c", "int")),
     (_c("b", "int"), _c("a", "int"), _c("c", "int")), [(K.COLUMN_ORDER_CHANGED, None, W)]),
    ("primary key dropped", (_c("id", "int", primary_key=True),), (_c("id", "int"),),
     [(K.PRIMARY_KEY_CHANGED, "id", W)]),
    ("partition added", (_c("year", "int"), _c("v", "int")),
     (_c("year", "int", partition=True), _c("v", "int")), [(K.PARTITION_ADDED, "year", W)]),
    ("partition removed", (_c("year", "int", partition=True), _c("v", "int")),
     (_c("year", "int"), _c("v", "int")), [(K.PARTITION_REMOVED, "year", B)]),
    ("partition re-typed", (_c("year", "int", partition=True), _c("v", "int")),
     (_c("year", "varchar", partition=True), _c("v", "int")),
     [(K.PARTITION_RETYPED, "year", B)]),
    ("names differ only in case (Snowflake)", (_c("cid", "varchar(5)"),),
     (_c("CID", "VARCHAR(5)"),), []),
]


@pytest.mark.parametrize(("what", "old", "new", "expected"), COLUMNS,
                         ids=[c[0] for c in COLUMNS])  # fmt: skip
def test_column_changes(
    what: str, old: tuple[LiveColumn, ...], new: tuple[LiveColumn, ...],
    expected: list[tuple[ChangeKind, str | None, DriftSeverity]],
) -> None:  # fmt: skip
    changes = diff_schemas(_ds("files" if "partition" in what else "postgres", *old),
                           _ds("files" if "partition" in what else "postgres", *new))
    assert [(c.kind, c.column, c.severity) for c in changes] == expected


def test_rename_confidence_and_lineage_evidence() -> None:
    old = _ds("postgres", _c("id", "int"), _c("a", "text"), _c("b", "int"))
    new = _ds("postgres", _c("id", "int"), _c("b", "int"), _c("zz", "varchar(9)"))
    # Moved to the end and re-typed: position and type say nothing, only the lineage.
    assert [c.kind for c in diff_schemas(old, new)][:2] == [K.COLUMN_REMOVED, K.COLUMN_ADDED]
    source = frozenset({ColumnId(DatasetId("pg", "crm.raw"), "name")})

    def inputs(column: ColumnId) -> frozenset[ColumnId]:
        return source if column.name in ("a", "zz") else frozenset()

    renamed = [c for c in diff_schemas(old, new, inputs_of=inputs) if c.kind is K.COLUMN_RENAMED]
    assert [(c.old, c.new) for c in renamed] == [("a", "zz")]
    assert renamed[0].confidence is not None and 0.5 <= renamed[0].confidence < 1.0
    # the bronze rename: bdate -> birth_dt beside a dropped gen and an added email
    old = _ds("postgres", _c("cid", "varchar(50)"), _c("gen", "varchar(50)"), _c("bdate", "date"))
    new = _ds("postgres", _c("cid", "varchar(20)"), _c("birth_dt", "date"), _c("email", "text"))
    kinds = {(c.kind, c.column) for c in diff_schemas(old, new)}
    assert kinds == {(K.TYPE_NARROWED, "cid"), (K.COLUMN_REMOVED, "gen"),
                     (K.COLUMN_RENAMED, "bdate"), (K.COLUMN_ADDED, "email")}  # fmt: skip


def test_datasets_added_and_removed_only_where_the_observation_is_complete() -> None:
    kept = _ds("postgres", _c("id", "int"))
    gone = DatasetSchema(DatasetId(_NS["postgres"], "dwh.bronze.gone"), (_c("id", "int"),))
    new = DatasetSchema(DatasetId(_NS["postgres"], "dwh.bronze.new"), (_c("id", "int"),))
    other = DatasetSchema(DatasetId("duckdb:///x", "x.main.t"), (_c("id", "int"),))
    assert diff_datasets([kept, gone], [kept, new, other]) == [
        Change(K.DATASET_ADDED, new.id, "dwh.bronze.new is new", new="dwh.bronze.new")]
    changes = diff_datasets([kept, gone], [kept, new], complete=lambda _: True)
    assert [(c.kind, c.severity) for c in changes] == [(K.DATASET_REMOVED, B),
                                                       (K.DATASET_ADDED, N)]  # fmt: skip


def test_table_description_changed() -> None:
    old = DatasetSchema(DatasetId("pg", "t"), (_c("id", "int"),), description="Customers")
    new = DatasetSchema(DatasetId("pg", "t"), (_c("id", "int"),), description="All customers")
    assert [(c.kind, c.severity) for c in diff_schemas(old, new)] == [(K.COMMENT_CHANGED, N)]


def _contract(*fields: ContractField) -> Contract:
    return Contract(Source("contracts/erp_cust_az12.yml", 1), "seed", "erp_cust_az12",
                    fields=fields)  # fmt: skip


CONTRACTS: list[tuple[str, ContractField, LiveColumn | None, str | None]] = [
    ("not_null on a column now nullable",
     ContractField("cid", constraints=(Constraint(ConstraintKind.NOT_NULL, "cid"),)),
     _c("cid", "varchar(20)", nullable=True), "now nullable"),
    ("required on a NOT NULL column holds", ContractField("cid", required=True),
     _c("cid", "varchar(20)", nullable=False), None),
    ("max_length 50 under varchar(20)",
     ContractField("cid", constraints=(Constraint(ConstraintKind.MAX_LENGTH, "cid", 50),)),
     _c("cid", "character varying(20)"), "at most 20 characters"),
    ("min_length 30 under varchar(20)",
     ContractField("cid", constraints=(Constraint(ConstraintKind.MIN_LENGTH, "cid", 30),)),
     _c("cid", "varchar(20)"), "at most 20 characters"),
    ("max_length 10 under varchar(20) holds",
     ContractField("cid", constraints=(Constraint(ConstraintKind.MAX_LENGTH, "cid", 10),)),
     _c("cid", "varchar(20)"), None),
    ("pattern on a column now integer",
     ContractField("cid", constraints=(Constraint(ConstraintKind.PATTERN, "cid", "^C"),)),
     _c("cid", "integer"), "no longer a string"),
    ("logical type string, column now date", ContractField("bdate", type="string"),
     _c("bdate", "date"), "promises string"),
    ("accepted value longer than the column",
     ContractField("gen", constraints=(
         Constraint(ConstraintKind.ACCEPTED_VALUES, "gen", ("Male", "Female")),)),
     _c("gen", "varchar(4)"), "an accepted value has 6"),
    ("the column is gone", ContractField("gen", required=True), None, "gone"),
]


@pytest.mark.parametrize(("what", "field", "column", "problem"), CONTRACTS,
                         ids=[c[0] for c in CONTRACTS])  # fmt: skip
def test_contract_constraints_the_schema_can_no_longer_satisfy(
    what: str, field: ContractField, column: LiveColumn | None, problem: str | None
) -> None:
    observed = _ds("postgres", _c("id", "int"), *((column,) if column else ()))
    changes = contract_changes(_contract(field), observed)
    if problem is None:
        assert changes == []
        return
    [change] = changes
    assert (change.kind, change.severity, change.column) == (K.CONTRACT_VIOLATED, B, field.name)
    assert problem in change.message and "contracts/erp_cust_az12.yml:1" in change.message


def test_against_a_baseline_only_newly_broken_promises_are_drift() -> None:
    contract = _contract(ContractField("cid", required=True))
    nullable = _ds("postgres", _c("cid", "varchar(50)", nullable=True))
    not_null = _ds("postgres", _c("cid", "varchar(50)", nullable=False))
    # Nullable all along: the not_null check's business, not a change.
    assert contract_changes(contract, nullable, nullable) == []
    # Nullable now, not before: the change broke the promise.
    [change] = contract_changes(contract, nullable, not_null)
    assert (change.kind, change.column) == (K.CONTRACT_VIOLATED, "cid")
    assert contract_changes(contract, nullable) == [change]  # no baseline: every break


def test_every_kind_has_a_grade_and_unknown_kinds_are_errors() -> None:
    assert set(SEVERITY) == set(ChangeKind)
    assert severity_of("column_renamed") is B
    with pytest.raises(InputError, match="unknown schema change kind 'column_teleported'"):
        parse_kind("column_teleported")
    with pytest.raises(InputError):
        severity_of("column_teleported")


def test_schema_json_round_trip_and_unknown_format() -> None:
    ds = DatasetSchema(DatasetId("duckdb:///wh.duckdb", "wh.bronze.t"),
                       (_c("cid", "VARCHAR", nullable=False, primary_key=True),
                        _c("year", "INTEGER", partition=True)), owners=("data-eng",))  # fmt: skip
    doc = schema_document([ds], generated_at="2026-12-01T06:00:00+00:00", generator="test")
    assert doc["datasets"][0]["partition_columns"] == ["year"]
    assert doc["datasets"][0]["layer"] == "bronze"
    [back] = read_schema_document(doc)
    assert back.columns == ds.columns and back.owners == ("data-eng",)
    with pytest.raises(InputError, match="unknown schema format 'silverline-schema/9'"):
        read_schema_document({**doc, "format": "silverline-schema/9"}, where="site/schema.json")
