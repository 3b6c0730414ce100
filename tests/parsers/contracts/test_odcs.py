"""Open Data Contract Standard v3: the seed's contract as ODCS, and what the standard refuses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lineage.contracts import ConstraintKind, RuleKind, RuleSeverity
from lineage.model import ParseIssue
from parsers.contracts import ContractError, load_contracts, read_contract

FIXTURES = Path(__file__).parent / "fixtures"
ODCS = FIXTURES / "erp_customers.odcs.yaml"


def test_the_odcs_contract_says_what_the_seed_contract_says_and_more() -> None:
    contract = read_contract(ODCS)
    assert (contract.kind, contract.dataset, contract.stem) == (
        "odcs", "silver.erp_cust_az12", "erp_customers")
    assert contract.source.line == 23  # physicalName, the binding key
    assert (contract.version, contract.owners) == ("1.2.0", ("ana@example.com",))
    assert contract.description == "Customers from the ERP, cleaned for the silver layer."
    fields = {f.name: f for f in contract.fields}
    assert list(fields) == ["customer_id", "birth_date", "gender"]
    assert (fields["customer_id"].type, fields["customer_id"].required) == ("varchar(50)", True)
    assert fields["birth_date"].sensitive and not fields["gender"].sensitive  # restricted
    assert [(c.label, c.value, c.source and c.source.line) for c in contract.constraints] == [
        ("not_null(customer_id)", None, 37),
        ("unique(customer_id)", None, 38),
        ("max_length(customer_id)", 50, 40),
        ("pattern(customer_id)", "^CUST[0-9]{4}$", 41),
        ("min(birth_date)", "1900-01-01", 46),
        ("accepted_values(gender)", ("Male", "Female", "Unknown"), 55),
    ]
    null_rate, row_count, sql, freshness = contract.rules
    assert (null_rate.kind, null_rate.column, null_rate.max_rate, null_rate.source) == (
        RuleKind.NULL_RATE, "birth_date", 0.05, null_rate.source)
    assert null_rate.source is not None and null_rate.source.line == 48
    assert (row_count.kind, row_count.minimum, row_count.severity) == (
        RuleKind.ROW_COUNT_MIN, 1000, RuleSeverity.WARNING)  # mustBeGreaterThan: 999
    # A thresholded SQL rule returns a row exactly when the threshold is broken.
    assert sql.kind is RuleKind.CUSTOM_SQL and sql.sql == (
        "SELECT * FROM (SELECT COUNT(*) AS observed_value FROM silver.erp_cust_az12 WHERE "
        "birth_date > CURRENT_DATE) AS odcs_result WHERE NOT (observed_value = 0)")
    assert (freshness.kind, freshness.column, freshness.max_age_seconds) == (
        RuleKind.FRESHNESS, "loaded_at", 86400)
    assert freshness.source is not None and freshness.source.line == 61


def _odcs(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    return path


HEAD = "apiVersion: v3.1.0\nkind: DataContract\nid: c1\nversion: 1.0.0\nstatus: active\n"


@pytest.mark.parametrize(
    ("drop", "missing"), [("id: c1\n", "id"), ("version: 1.0.0\n", "version"),
                          ("status: active\n", "status")])
def test_a_missing_required_key_is_an_error_naming_file_line_and_key(
    tmp_path: Path, drop: str, missing: str
) -> None:
    path = _odcs(tmp_path, HEAD.replace(drop, "") + "schema:\n  - name: t\n")
    with pytest.raises(ContractError) as caught:
        read_contract(path)
    assert caught.value.file == str(path) and caught.value.line == 1
    assert f"missing required key '{missing}'" in str(caught.value)


def test_unknown_keys_and_wrong_types_are_each_one_error_with_their_line(
    tmp_path: Path,
) -> None:
    path = _odcs(tmp_path, HEAD + (
        "schema:\n"                       # 6
        "  - name: t\n"                   # 7
        "    properties:\n"               # 8
        "      - name: a\n"               # 9
        "        required: yes please\n"  # 10
        "        colour: blue\n"          # 11
        "slaProperties:\n"                # 12
        "  - property: freshness\n"       # 13
        "    value: 24\n"                 # 14
        "    unt: h\n"))                  # 15
    with pytest.raises(ContractError) as caught:
        read_contract(path)
    found = [(i.line, i.message.rpartition(": ")[2]) for i in caught.value.issues]
    assert found == [
        (11, "unknown key 'colour'"),
        (10, "'yes please' is not of type 'boolean'"),
        (15, "unknown key 'unt'"),
    ]
    assert "schema/0/properties/0/colour" in caught.value.issues[0].message


def test_rules_odcs_cannot_state_here_are_issues_and_the_rest_is_read(tmp_path: Path) -> None:
    path = _odcs(tmp_path, HEAD + (
        "schema:\n"                                                     # 6
        "  - name: orders\n"                                            # 7
        "    quality:\n"                                                # 8
        "      - {metric: rowCount, mustBeBetween: [10, 20]}\n"         # 9
        "      - {metric: rowCount, mustBeLessThan: 20}\n"              # 10
        "      - {type: sql, query: 'SELECT COUNT(*) FROM {object} WHERE amount < 0',\n"  # 11
        "         mustBeLessOrEqualTo: 5}\n"
        "      - {type: text, description: Orders are complete.}\n"    # 13
        "    properties:\n"                                             # 14
        "      - name: id\n"                                            # 15
        "        primaryKey: true\n"                                    # 16
        "        quality:\n"                                            # 17
        "          - {metric: nullValues, mustBeLessThan: 3}\n"         # 18
        "          - {metric: duplicateValues, mustBe: 0, name: ids are unique}\n"  # 19
        "          - {type: custom, engine: soda, implementation: x}\n"))  # 20
    issues: list[ParseIssue] = []
    contract = read_contract(path, issues=issues)
    assert [i.line for i in issues] == [18, 20, 9, 10]
    assert "only the lower bound is checked" in issues[2].message
    assert contract.dataset is None and contract.stem == "c"  # no physicalName: the stem
    (field,) = contract.fields
    assert field.primary_key and [c.label for c in field.constraints] == [
        "not_null(id)", "unique(id)"]  # the named duplicate rule is the same promise
    assert [(r.kind, r.minimum, r.sql) for r in contract.rules] == [
        (RuleKind.ROW_COUNT_MIN, 10, None),
        (RuleKind.CUSTOM_SQL, None, "SELECT * FROM (SELECT COUNT(*) AS observed_value FROM "
         "orders WHERE amount < 0) AS odcs_result WHERE NOT (observed_value <= 5)"),
    ]


def test_several_schema_objects_are_several_contracts(tmp_path: Path) -> None:
    path = _odcs(tmp_path, HEAD + "schema:\n  - name: a\n  - name: b\n    physicalName: s.b\n")
    contracts, issues = load_contracts(path)
    assert issues == []
    assert [(c.stem, c.dataset) for c in contracts] == [("a", "a"), ("b", "s.b")]
    with pytest.raises(ContractError, match="holds 2 contracts"):
        read_contract(path)


def test_the_fixture_is_valid_for_the_standards_own_model() -> None:
    from open_data_contract_standard.model import OpenDataContractStandard

    model = OpenDataContractStandard.from_file(str(ODCS))
    assert model.id == "6c1f4f0e-erp-customers"
    assert ConstraintKind.PATTERN in {c.kind for c in read_contract(ODCS).constraints}


def test_exclusive_bounds_are_kept_inclusive_and_said(tmp_path: Path) -> None:
    path = _odcs(tmp_path, HEAD + (
        "schema:\n  - name: t\n    properties:\n      - name: d\n        logicalType: date\n"
        "        logicalTypeOptions: {exclusiveMinimum: '1900-01-01'}\n"))
    issues: list[ParseIssue] = []
    contract = read_contract(path, issues=issues)
    assert [(c.label, c.value) for c in contract.constraints] == [("min(d)", "1900-01-01")]
    assert [(i.line, "inclusive" in i.message) for i in issues] == [(11, True)]


def test_patterns_search_as_ecma_262_does_and_sql_sees_the_servers_schema(
    tmp_path: Path,
) -> None:
    """Found side by side with datacontract-cli (benchmarks/compare_datacontract.py): an
    ODCS ``pattern`` searches (ECMA-262, JSON Schema), and a rule's ``${table}`` is read
    from the server's ``schema``, as datacontract-cli runs it."""
    path = _odcs(tmp_path, HEAD + (
        "servers:\n  - {server: local, type: duckdb, database: wh.duckdb, schema: silver}\n"
        "schema:\n  - name: erp_customers\n    physicalName: erp_customers\n"
        "    quality:\n      - {type: sql, query: 'SELECT COUNT(*) FROM ${table}', mustBe: 0}\n"
        "    properties:\n"
        "      - {name: crm_key, logicalTypeOptions: {pattern: '[0-9]{6}'}}\n"
        "      - {name: customer_id, logicalTypeOptions: {pattern: '^CUST[0-9]{4}$'}}\n"
        "      - name: code\n        quality:\n"
        "          - {metric: invalidValues, arguments: {pattern: '^A|B$'}, mustBe: 0}\n"))
    contract = read_contract(path)
    patterns = {c.column: str(c.value) for c in contract.constraints}
    assert patterns == {"crm_key": ".*[0-9]{6}.*", "customer_id": "^CUST[0-9]{4}$",
                        "code": ".*(?:^A|B$).*"}
    written = {"crm_key": "[0-9]{6}", "customer_id": "^CUST[0-9]{4}$", "code": "^A|B$"}
    for value in ("CRM-123456", "123456", "CRM-12", "CUST0001", "XCUST0001", "CUST00011",
                  "AX", "XB", "XA", ""):
        for column, regex in written.items():  # the check's whole-value match == a search
            assert bool(re.fullmatch(patterns[column], value)) is bool(re.search(regex, value))
    assert contract.dataset == "erp_customers"  # binding is unchanged: a dotted suffix
    [sql] = contract.rules
    assert sql.sql == ("SELECT * FROM (SELECT COUNT(*) AS observed_value FROM silver.erp_customers)"
                       " AS odcs_result WHERE NOT (observed_value = 0)")
