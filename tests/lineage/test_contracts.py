"""Contract semantics: durations, dbt tests as a contract, binding, lint, init templates."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from lineage.contracts import (
    DBT_COLUMNS_KEY,
    TODAY,
    Constraint,
    ConstraintKind,
    Contract,
    ContractField,
    QualityRule,
    RuleKind,
    RuleSeverity,
    Source,
    bind,
    contract_from_dataset,
    contract_template,
    dbt_test_labels,
    lint,
    looks_sensitive,
    parse_duration,
    resolve_bound,
    sensitive_columns,
)
from lineage.errors import InputError
from lineage.model import (
    Dataset,
    DatasetId,
    DatasetKind,
    DatasetProfile,
    DataTest,
    Field,
    Freshness,
    LiveColumn,
    LiveTable,
    ProfileMetric,
    Schema,
)
from parsers.contracts import read_contract

SEED = Path(__file__).parents[1] / "parsers" / "contracts" / "fixtures" / "erp_cust_az12.yaml"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("24h", 86400), ("1h30m", 5400), ("90 min", 5400), ("2 days", 172800), ("1w", 604800),
     ("PT1H", 3600), ("P1DT2H", 93600), ("< 1 h", 3600), ("45s", 45), (30, 30), ("3600", 3600)],
)
def test_durations(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["24 parsecs", "soon", "", "P", "-1h", "h"])
def test_what_is_no_duration(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_today_is_the_day_the_check_runs() -> None:
    assert resolve_bound(TODAY, date(2026, 12, 1)) == "2026-12-01"
    assert resolve_bound("1900-01-01", date(2026, 12, 1)) == "1900-01-01"


# -- dbt -------------------------------------------------------------------------------------


def _test(name: str, column: str | None, severity: str = "error", **args: object) -> DataTest:
    return DataTest(name, column, json.dumps(args, sort_keys=True), severity)


def test_a_dbt_models_tests_and_enforced_contract_are_one_contract() -> None:
    dataset = Dataset(
        DatasetId("duckdb:///dwh.duckdb", "dwh.silver.erp_customers"),
        schema=Schema((Field("customer_id", "varchar"), Field("gender", "varchar"),
                       Field("amount", "decimal(10,2)"), Field("loaded_at", "timestamp"))),
        owners=("ana",), description="Customers.", contract_enforced=True,
        source_file="models/silver/schema.yml",
        tests=(
            _test("not_null", "customer_id"),
            _test("unique", "customer_id"),
            _test("accepted_values", "gender", "warn", values=["Male", "Female", "Unknown"]),
            _test("relationships", "customer_id", to="ref('crm')", field="id"),
            _test("dbt_utils.expression_is_true", None, expression="amount >= 0"),
            _test("dbt_expectations.expect_column_values_to_be_between", "amount",
                  min_value=0, max_value=10000),
            _test("dbt_utils.recency", None, datepart="hour", interval=6, field="loaded_at"),
            _test("dbt_utils.not_null_proportion", "gender", at_least=0.95),
            _test("my_pkg.not_null", "amount"),
        ),
        freshness=Freshness("loaded_at", "12h", "1d"),
    )
    contract = contract_from_dataset(dataset)
    assert contract is not None
    assert (contract.kind, contract.dataset, contract.stem, contract.owners) == (
        "dbt", "dwh.silver.erp_customers", "erp_customers", ("ana",))
    assert contract.source == Source("models/silver/schema.yml")
    assert [(f.name, f.type, f.required) for f in contract.fields] == [
        ("customer_id", "varchar", True), ("gender", "varchar", False),
        ("amount", "decimal(10,2)", False), ("loaded_at", "timestamp", False)]
    assert [(c.label, c.value, c.severity) for c in contract.constraints] == [
        ("not_null(customer_id)", None, RuleSeverity.ERROR),
        ("unique(customer_id)", None, RuleSeverity.ERROR),
        ("type(customer_id)", "varchar", RuleSeverity.ERROR),  # contract: enforced
        ("accepted_values(gender)", ("Male", "Female", "Unknown"), RuleSeverity.WARNING),
        ("type(gender)", "varchar", RuleSeverity.ERROR),
        ("min(amount)", 0, RuleSeverity.ERROR),
        ("max(amount)", 10000, RuleSeverity.ERROR),
        ("type(amount)", "decimal(10,2)", RuleSeverity.ERROR),
        ("type(loaded_at)", "timestamp", RuleSeverity.ERROR),
    ]
    assert [(r.kind, r.column, r.max_age_seconds, r.max_rate, r.severity)
            for r in contract.rules] == [
        (RuleKind.FRESHNESS, "loaded_at", 21600, None, RuleSeverity.ERROR),
        (RuleKind.NULL_RATE, "gender", None, pytest.approx(0.05), RuleSeverity.ERROR),
        (RuleKind.FRESHNESS, "loaded_at", 43200, None, RuleSeverity.WARNING),
        (RuleKind.FRESHNESS, "loaded_at", 86400, None, RuleSeverity.ERROR),
    ]


def test_a_model_that_promises_nothing_has_no_contract() -> None:
    plain = Dataset(DatasetId("duckdb", "m"), schema=Schema((Field("a", "int"),)),
                    tests=(_test("relationships", "a", to="ref('b')", field="id"),))
    assert contract_from_dataset(plain) is None


def _with_columns(columns: dict[str, object], tags: tuple[str, ...] = ()) -> Dataset:
    """A dbt model whose properties mark columns as the scan keeps them in ``meta``."""
    return Dataset(
        DatasetId("duckdb:///dwh.duckdb", "dwh.silver.erp_customers"),
        schema=Schema((Field("customer_id", "varchar"), Field("email", "varchar"),
                       Field("phone", "varchar"), Field("ssn", "varchar"),
                       Field("birth_date", "date"), Field("gender", "varchar"))),
        meta=json.dumps({DBT_COLUMNS_KEY: columns}), tests=(_test("not_null", "customer_id"),),
        tags=tags,
    )


def test_columns_marked_pii_or_sensitive_in_dbt_properties_are_sensitive_fields() -> None:
    dataset = _with_columns({
        "email": {"meta": {"pii": True}},
        "phone": {"tags": ["sensitive"]},
        "ssn": {"meta": {"sensitive": True}, "tags": ["finance"]},
        "birth_date": {"meta": {"classification": "confidential"}},
        "gender": {"meta": {"pii": False}, "tags": ["demographics"]},
        "customer_id": {"description": "no marks"},
    })
    contract = contract_from_dataset(dataset)
    assert contract is not None
    assert {f.name: f.sensitive for f in contract.fields} == {
        "customer_id": False, "email": True, "phone": True, "ssn": True, "birth_date": True,
        "gender": False}
    assert [c.label for c in contract.constraints] == ["not_null(customer_id)"]


def test_a_model_tagged_pii_hides_every_column_and_marks_alone_make_a_contract() -> None:
    tagged = contract_from_dataset(_with_columns({}, tags=("silver", "PII")))
    assert tagged is not None and all(f.sensitive for f in tagged.fields)
    meta_marked = Dataset(DatasetId("duckdb", "m"), meta='{"sensitive": true}')
    assert sensitive_columns(meta_marked) == {"*"}
    # No test at all, one sensitive column: still a contract, so the mark is not lost.
    only_marked = Dataset(DatasetId("duckdb", "m"), schema=Schema((Field("email"),)),
                          meta=json.dumps({DBT_COLUMNS_KEY: {"email": {"tags": ["pii"]}}}))
    contract = contract_from_dataset(only_marked)
    assert contract is not None and [(f.name, f.sensitive) for f in contract.fields] == [
        ("email", True)]
    for meta in ("not json", "[1, 2]", json.dumps({DBT_COLUMNS_KEY: ["email"]})):
        assert sensitive_columns(Dataset(DatasetId("duckdb", "m"), meta=meta)) == frozenset()


@pytest.mark.parametrize(("test", "labels"), [
    (_test("not_null", "customer_id"), ("not_null(customer_id)",)),
    (_test("accepted_values", "gender", values=["M", "F"]), ("accepted_values(gender)",)),
    (_test("dbt_utils.accepted_range", "amount", min_value=0, max_value=9),
     ("min(amount)", "max(amount)")),
    (_test("dbt_utils.recency", None, datepart="day", interval=1, field="at"), ("freshness",)),
    (_test("relationships", "customer_id", to="ref('crm')", field="id"), ()),
    (_test("dbt_expectations.expect_table_row_count_to_be_between", None, min_value="x"), ()),
])
def test_a_dbt_tests_labels_are_the_names_its_contract_checks_get(
    test: DataTest, labels: tuple[str, ...]
) -> None:
    assert dbt_test_labels(test) == labels
    contract = contract_from_dataset(Dataset(DatasetId("duckdb", "m"), tests=(test,)))
    made = () if contract is None else (*contract.constraints, *contract.rules)
    assert tuple(m.label for m in made) == labels


# -- bind ------------------------------------------------------------------------------------

PG = "postgres://db:5432"
DATASETS = [DatasetId(PG, "dwh.silver.erp_cust_az12"), DatasetId(PG, "dwh.silver.orders"),
            DatasetId(PG, "dwh.gold.orders"), DatasetId("duckdb:///x.duckdb", "x.main.orders")]


def _contract(dataset: str | None, stem: str = "c") -> Contract:
    return Contract(Source("contracts/c.yaml", 1), "seed", stem, dataset)


def test_the_seeds_contract_binds_by_its_file_stem() -> None:
    assert bind(read_contract(SEED), DATASETS) == DATASETS[0]


@pytest.mark.parametrize(
    ("key", "expected"),
    [("dwh.silver.orders", DATASETS[1]), ("SILVER.ORDERS", DATASETS[1]),
     ("gold.orders", DATASETS[2]), (f"{PG}/dwh.gold.orders", DATASETS[2]),
     ("duckdb:///x.duckdb/x.main.orders", DATASETS[3])],
)
def test_bind_by_dataset_key(key: str, expected: DatasetId) -> None:
    assert bind(_contract(key), DATASETS) == expected


def test_an_ambiguous_match_names_the_file_and_the_candidates() -> None:
    with pytest.raises(InputError) as caught:
        bind(_contract(None, stem="orders"), DATASETS)
    message = str(caught.value)
    assert message.startswith("contracts/c.yaml:1: file stem 'orders' is ambiguous")
    assert f"{PG}/dwh.gold.orders" in message and "duckdb:///x.duckdb/x.main.orders" in message


def test_an_unknown_dataset_names_the_file_and_the_closest_names() -> None:
    with pytest.raises(InputError) as caught:
        bind(_contract("silver.erp_cust_az21"), DATASETS)
    assert caught.value.file == "contracts/c.yaml"
    assert "matches none of the 4 known datasets; candidates: dwh.silver.erp_cust_az12" in str(
        caught.value)


def test_candidates_are_capped_at_ten() -> None:
    many = [DatasetId(PG, f"db.s{i}.t") for i in range(15)]
    with pytest.raises(InputError) as caught:
        bind(_contract(None, stem="t"), many)
    assert "matches 15 datasets" in str(caught.value)
    assert str(caught.value).count(PG) == 10


# -- lint ------------------------------------------------------------------------------------

LIVE = LiveTable(DatasetId(PG, "dwh.silver.erp_cust_az12"), DatasetKind.TABLE, (
    LiveColumn("customer_id", "character varying(50)", True),
    LiveColumn("birth_date", "date", True),
    LiveColumn("age", "integer", True),
))


def _src(line: int) -> Source:
    return Source("contracts/erp_cust_az12.yaml", line)


def test_lint_the_seeds_contract_against_the_live_table_finds_nothing() -> None:
    # not_null over a nullable live column is fine: the check tests the rows.
    assert lint(read_contract(SEED), documented=None, live=LIVE, dialect="postgres") == []


def test_lint_reports_each_problem_with_its_line() -> None:
    contract = Contract(_src(1), "seed", "erp_cust_az12", fields=(
        ContractField("customer_id", "integer", source=_src(3)),
        ContractField("age", "int", source=_src(6), constraints=(
            Constraint(ConstraintKind.MAX_LENGTH, "age", 3, source=_src(8)),
            Constraint(ConstraintKind.MIN, "age", "old", source=_src(9)))),
        ContractField("birth_date", "frobnicate", source=_src(11), constraints=(
            Constraint(ConstraintKind.MIN, "birth_date", "someday", source=_src(13)),
            Constraint(ConstraintKind.MAX, "birth_date", TODAY, source=_src(14)))),
        ContractField("email", "text", source=_src(16)),
    ), rules=(QualityRule(RuleKind.NULL_RATE, column="phone", max_rate=0.05, source=_src(20)),))
    found = [(i.line, i.message) for i in
             lint(contract, documented=None, live=LIVE, dialect="postgres")]
    assert found == [
        (3, "column 'customer_id': declared type 'integer' (number) contradicts the live type "
            "'character varying(50)' (string)"),
        (8, "max_length(age): max_length makes no sense for a number column"),
        (9, "min(age): 'old' is not a number, the column is one"),
        (11, "column 'birth_date': 'frobnicate' is not a type of postgres"),
        (13, "min(birth_date): 'someday' is not an ISO date, the column is a date"),
        (16, "unknown column 'email': not in the live schema of dwh.silver.erp_cust_az12"),
        (20, "null_rate(phone): unknown column 'phone': not in the live schema of "
             "dwh.silver.erp_cust_az12"),
    ]
    assert {i.file for i in lint(contract, live=LIVE)} == {"contracts/erp_cust_az12.yaml"}


def test_lint_falls_back_to_the_documented_schema_and_says_so() -> None:
    documented = Schema((Field("customer_id", "varchar"),))
    (issue,) = lint(read_contract(SEED), documented=documented, live=None, dialect="duckdb")
    assert (issue.line, issue.message) == (
        8, "unknown column 'birth_date': not in the documented schema")


# -- init ------------------------------------------------------------------------------------


def _profiled() -> tuple[LiveTable, DatasetProfile]:
    live = LiveTable(DatasetId(PG, "dwh.silver.erp_cust_az12"), DatasetKind.TABLE, (
        LiveColumn("customer_id", "character varying(50)", False, primary_key=True),
        LiveColumn("birth_date", "date", True),
        LiveColumn("Gender Code", "text", True, comment="M/F: it's coded"),
        LiveColumn("amount", "numeric(10,2)", True),
        LiveColumn("loaded_at", "timestamp with time zone", True),
    ))
    profile = DatasetProfile(live.id, datetime(2026, 12, 1, 3, tzinfo=timezone.utc), (
        ProfileMetric("row_count", 1234),
        ProfileMetric("null_rate", 0.012, "birth_date"),
        ProfileMetric("min", 3.5, "amount"), ProfileMetric("max", 99, "amount"),
        ProfileMetric("last_loaded_at",
                      datetime(2026, 12, 1, 1, tzinfo=timezone.utc).timestamp(), "loaded_at"),
    ), bounds=(("birth_date", "1924-01-01", "2008-05-01"),))
    return live, profile


def test_the_template_reads_back_binding_to_the_same_dataset(tmp_path: Path) -> None:
    live, profile = _profiled()
    text = contract_template(live, profile, dataset_name="dwh.silver.erp_cust_az12")
    assert "        # - min: '1924-01-01'   # observed min\n" in text
    assert "      #   null_rate: '<= 2%'   # observed 1.20%\n" in text
    assert "  #   warning: ±15% from 7d avg   # observed 1234 rows\n" in text
    path = tmp_path / "erp_cust_az12.yaml"
    path.write_text(text, encoding="utf-8")
    contract = read_contract(path)
    assert bind(contract, DATASETS) == live.id
    assert [(f.name, f.type, f.description) for f in contract.fields] == [
        (c.name, c.type, c.comment) for c in live.columns]
    # Promised: what the warehouse itself enforces. Everything observed stays commented.
    assert [c.label for c in contract.constraints] == [
        "not_null(customer_id)", "unique(customer_id)"]
    assert contract.rules == ()
    assert lint(contract, live=live, dialect="postgres") == []


def test_every_suggestion_uncommented_is_a_valid_contract(tmp_path: Path) -> None:
    live, profile = _profiled()
    text = contract_template(live, profile, dataset_name="dwh.silver.erp_cust_az12")
    uncommented = re.sub(r"^( +)# ", r"\1", text, flags=re.MULTILINE)
    path = tmp_path / "t.yaml"
    path.write_text(uncommented, encoding="utf-8")
    contract = read_contract(path)  # raises on any problem
    assert [(c.label, c.value) for c in contract.constraints] == [
        ("not_null(customer_id)", None), ("unique(customer_id)", None),
        ("min(birth_date)", "1924-01-01"), ("max(birth_date)", "2008-05-01"),
        ("min(amount)", 3.5), ("max(amount)", 99)]
    assert [(r.label, r.column, r.max_rate, r.max_age_seconds, r.minimum)
            for r in contract.rules] == [
        ("null_rate(birth_date)", "birth_date", 0.02, None, None),
        ("freshness", "loaded_at", None, 86400, None),
        ("row_count_vs_average(7d)", None, None, None, None),
        ("row_count_min", None, None, None, 1234),
    ]
    assert contract.rules[2].severity is RuleSeverity.WARNING


def test_a_template_without_profile_still_lists_every_column(tmp_path: Path) -> None:
    live, _ = _profiled()
    path = tmp_path / "t.yaml"
    path.write_text(contract_template(live, None, dataset_name="x"), encoding="utf-8")
    contract = read_contract(path)
    assert contract.dataset == "x" and len(contract.fields) == len(live.columns)


def test_dbt_arguments_of_the_wrong_kind_are_skipped_not_raised() -> None:
    dataset = Dataset(DatasetId("duckdb", "m"), tests=(
        _test("dbt_expectations.expect_table_row_count_to_be_between", None, min_value="many"),
        _test("dbt_utils.recency", None, datepart="month", interval=1, field="at"),
        _test("not_null", "a")))
    contract = contract_from_dataset(dataset)
    assert contract is not None and contract.rules == ()
    assert [c.label for c in contract.constraints] == ["not_null(a)"]


def _audited() -> tuple[LiveTable, DatasetProfile]:
    """The audit's table: text ids and emails whose alphabetical ranges mean nothing."""
    live = LiveTable(DatasetId(PG, "wh.silver.erp_customers"), DatasetKind.TABLE, (
        LiveColumn("customer_id", "text", True),
        LiveColumn("email", "text", True),
        LiveColumn("birth_date", "date", True),
        LiveColumn("credit_limit", "numeric(10,2)", True),
        LiveColumn("phone_number", "bigint", True),
        LiveColumn("dwh_loaded_at", "timestamp with time zone", True),
        LiveColumn("notes", None, True),
    ))
    profile = DatasetProfile(live.id, datetime(2026, 12, 2, 4, tzinfo=timezone.utc), (
        ProfileMetric("row_count", 5),
        ProfileMetric("max_length", 8, "customer_id"),
        ProfileMetric("max_length", 3, "email"),
        ProfileMetric("min", 10, "credit_limit"), ProfileMetric("max", 900, "credit_limit"),
        ProfileMetric("min", 4930000000, "phone_number"),
        ProfileMetric("max", 4939999999, "phone_number"),
    ), bounds=(("customer_id", "BAD-3", "CUST0002"), ("email", "a@x", "e@x"),
               ("birth_date", "1850-01-01", "2001-01-01"),
               ("dwh_loaded_at", "2026-12-02T04:43:52+00:00", "2026-12-02T04:43:52+00:00"),
               ("notes", "aardvark", "zebra")))
    return live, profile


def test_init_suggests_ranges_only_for_numbers_and_dates(tmp_path: Path) -> None:
    live, profile = _audited()
    text = contract_template(live, profile, dataset_name=live.id.name, dialect="postgres")
    for observed in ("BAD-3", "CUST0002", "a@x", "e@x", "aardvark", "zebra", "4930000000"):
        assert observed not in text, observed
    uncommented = re.sub(r"^( +)# ", r"\1", text, flags=re.MULTILINE)
    path = tmp_path / "erp_customers.yaml"
    path.write_text(uncommented, encoding="utf-8")
    contract = read_contract(path)
    assert [(c.label, c.value) for c in contract.constraints] == [
        ("max_length(customer_id)", 8),  # text: the longest value, not an alphabetical range
        ("max_length(email)", 3),  # a length is no value of a sensitive column
        ("min(birth_date)", "1850-01-01"), ("max(birth_date)", "2001-01-01"),
        ("min(credit_limit)", 10), ("max(credit_limit)", 900),
        ("min(dwh_loaded_at)", "2026-12-02T04:43:52+00:00"),
        ("max(dwh_loaded_at)", "2026-12-02T04:43:52+00:00"),
    ]
    assert {f.name for f in contract.fields if f.sensitive} == {"email", "phone_number"}
    assert lint(contract, live=live, dialect="postgres") == []


@pytest.mark.parametrize(("name", "sensitive"), [
    ("email", True), ("customer_email", True), ("E_Mail", True), ("firstName", True),
    ("last_name", True), ("api_key", True), ("card_number", True), ("ip_address", True),
    ("password_hash", True), ("PhoneNumber", True), ("street", True),
    ("customer_id", False), ("gender", False), ("birth_date", False), ("emailed_at", False),
    ("product_name", False), ("amount", False),
])
def test_sensitive_looking_column_names(name: str, sensitive: bool) -> None:
    assert looks_sensitive(name) is sensitive
