"""Great Expectations suites as contracts and validation results as check results."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from lineage.contracts import TODAY, ConstraintKind, RuleKind, RuleSeverity
from lineage.model import DatasetId, ParseIssue
from lineage.views import CheckStatus
from parsers.contracts import ContractError, read_contract, read_validation_results

FIXTURES = Path(__file__).parent / "fixtures"
DATASET = DatasetId("postgres://db:5432", "dwh.silver.erp_cust_az12")


def test_the_seeds_three_expectations_and_an_unknown_one() -> None:
    path = FIXTURES / "erp_customers_quality.json"
    issues: list[ParseIssue] = []
    contract = read_contract(path, issues=issues)
    assert (contract.kind, contract.stem, contract.dataset) == (
        "great_expectations", "erp_customers", None)  # "_quality" is no part of the name
    assert [(c.kind, c.column, c.value, c.severity, c.source and c.source.line)
            for c in contract.constraints] == [
        (ConstraintKind.NOT_NULL, "customer_id", None, RuleSeverity.ERROR, 5),
        (ConstraintKind.MIN, "birth_date", "1900-01-01", RuleSeverity.ERROR, 10),
        (ConstraintKind.MAX, "birth_date", TODAY, RuleSeverity.ERROR, 10),  # now()
        (ConstraintKind.ACCEPTED_VALUES, "gender", ("Male", "Female", "Unknown"),
         RuleSeverity.ERROR, 19),
    ]
    (issue,) = issues
    assert (issue.file, issue.line) == (str(path), 24)
    assert "expectation 3 (expect_column_kl_divergence_to_be_less_than)" in issue.message


def test_the_1x_shape_mostly_strict_bounds_and_table_expectations(tmp_path: Path) -> None:
    suite = {"name": "orders.warning", "meta": {"dataset": "silver.orders"}, "expectations": [
        {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "id", "mostly": 0.95}},
        {"type": "expect_column_values_to_be_between",
         "kwargs": {"column": "amount", "min_value": 0, "strict_min": True}},
        {"type": "expect_column_values_to_match_regex",
         "kwargs": {"column": "code", "regex": "^[A-Z]{3}"}},
        {"type": "expect_column_value_lengths_to_be_between",
         "kwargs": {"column": "code", "min_value": 3, "max_value": 8}},
        {"type": "expect_column_values_to_be_of_type",
         "kwargs": {"column": "code", "type_": "TEXT"}},
        {"type": "expect_column_to_exist", "kwargs": {"column": "note"}},
        {"type": "expect_table_row_count_to_be_between",
         "kwargs": {"min_value": 100, "max_value": 900}, "severity": "warning"},
    ]}
    path = tmp_path / "orders.json"
    path.write_text(json.dumps(suite, indent=1), encoding="utf-8")
    issues: list[ParseIssue] = []
    contract = read_contract(path, issues=issues)
    assert contract.dataset == "silver.orders"
    assert [f.name for f in contract.fields] == ["id", "amount", "code", "note"]
    note = contract.field("note")
    assert note is not None and note.constraints == ()
    assert [(c.label, c.value, c.severity) for c in contract.constraints] == [
        ("unique(id)", None, RuleSeverity.WARNING),  # mostly < 1: may not fail the run
        ("min(amount)", 0, RuleSeverity.ERROR),
        ("pattern(code)", "^[A-Z]{3}.*", RuleSeverity.ERROR),  # GE searches; PATTERN is whole
        ("min_length(code)", 3, RuleSeverity.ERROR),
        ("max_length(code)", 8, RuleSeverity.ERROR),
        ("type(code)", "TEXT", RuleSeverity.ERROR),
    ]
    (rule,) = contract.rules
    assert (rule.kind, rule.minimum, rule.severity) == (
        RuleKind.ROW_COUNT_MIN, 100, RuleSeverity.WARNING)
    assert [i.message.split(": ", 1)[1] for i in issues] == [
        "strict_min is checked as an inclusive bound (at expectations/1)",
        "max_value 900 is not checked (only the minimum) (at expectations/6)",
    ]


def test_validation_results_become_check_results_named_like_the_constraints() -> None:
    results = read_validation_results(FIXTURES / "erp_customers_validation.json", DATASET,
                                      sensitive=["birth_date"])
    assert [(r.check, r.status, r.column) for r in results] == [
        ("not_null(customer_id)", CheckStatus.PASSED, "customer_id"),
        ("min(birth_date)", CheckStatus.FAILED, "birth_date"),
        ("max(birth_date)", CheckStatus.FAILED, "birth_date"),
        ("accepted_values(gender)", CheckStatus.WARNING, "gender"),  # mostly 0.9
        ("pattern(email)", CheckStatus.ERROR, "email"),  # the expectation raised
    ]
    assert {r.dataset for r in results} == {DATASET}
    assert {r.run_id for r in results} == {"nightly-2026-12-01"}
    assert {r.observed_at for r in results} == {datetime(2026, 12, 1, 2, tzinfo=timezone.utc)}
    between = results[1].details
    assert between["unexpected_count"] == 3 and between["unexpected_percent"] == 0.3
    assert "sample" not in between  # birth_date is sensitive: no offending values shown
    assert between["expectation_covers"] == ["min(birth_date)", "max(birth_date)"]
    assert results[3].details["observed_value"] == ["F", "Female", "M", "Male"]
    assert results[4].details["error"] == "column email does not exist"
    assert results[4].native_status == "exception" and results[0].native_status == "success"


def test_samples_are_kept_for_columns_that_are_not_sensitive(tmp_path: Path) -> None:
    raw = json.loads((FIXTURES / "erp_customers_validation.json").read_text(encoding="utf-8"))
    raw["results"][1]["result"]["partial_unexpected_list"] = [f"18{i:02d}-01-01"
                                                              for i in range(30)]
    del raw["meta"]["run_id"]
    raw["meta"]["validation_time"] = "20261201T020301.000000Z"  # GE 0.x
    path = tmp_path / "v.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    results = read_validation_results(path, DATASET)
    assert results[1].details["sample"][:2] == ["1800-01-01", "1801-01-01"]
    assert len(results[1].details["sample"]) == 20  # bounded
    assert results[1].run_id is None
    assert results[1].observed_at == datetime(2026, 12, 1, 2, 3, 1, tzinfo=timezone.utc)


def test_a_file_without_results_is_no_validation_result() -> None:
    with pytest.raises(ContractError, match="not a Great Expectations validation result"):
        read_validation_results(FIXTURES / "erp_customers_quality.json", DATASET)
