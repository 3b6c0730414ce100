"""The seed's contract shape: the seed's own file verbatim, and the rest of its grammar."""

from __future__ import annotations

from pathlib import Path

import pytest

from lineage.contracts import TODAY, ConstraintKind, RuleKind, RuleSeverity, Source
from lineage.model import ParseIssue
from parsers.contracts import ContractError, parse_row_count_phrase, read_contract

FIXTURES = Path(__file__).parent / "fixtures"
SEED = FIXTURES / "erp_cust_az12.yaml"


def test_the_seed_file_is_kept_verbatim() -> None:
    # The mojibake "Â±" is how the seed's text has it: the fixture must not be "fixed".
    assert "Â±15% from 7d avg" in SEED.read_text(encoding="utf-8")


def test_the_seeds_own_contract_reads_into_every_promise_with_its_line() -> None:
    contract = read_contract(SEED)
    file = str(SEED)
    assert (contract.kind, contract.stem, contract.dataset) == ("seed", "erp_cust_az12", None)
    assert [(f.name, f.type, f.required, f.source) for f in contract.fields] == [
        ("customer_id", "string", True, Source(file, 3)),
        ("birth_date", "date", False, Source(file, 8)),
    ]
    assert [(c.kind, c.column, c.value, c.severity, c.source, c.label)
            for c in contract.constraints] == [
        (ConstraintKind.NOT_NULL, "customer_id", None, RuleSeverity.ERROR, Source(file, 6),
         "not_null(customer_id)"),
        (ConstraintKind.MAX_LENGTH, "customer_id", 50, RuleSeverity.ERROR, Source(file, 7),
         "max_length(customer_id)"),
        (ConstraintKind.MIN, "birth_date", "1900-01-01", RuleSeverity.ERROR, Source(file, 11),
         "min(birth_date)"),
    ]
    freshness, row_count = contract.rules
    assert (freshness.kind, freshness.max_age_seconds, freshness.severity, freshness.source) == (
        RuleKind.FRESHNESS, 86400, RuleSeverity.ERROR, Source(file, 13))
    assert (row_count.kind, row_count.tolerance, row_count.window_days, row_count.severity,
            row_count.source, row_count.label) == (
        RuleKind.ROW_COUNT_VS_AVERAGE, 0.15, 7, RuleSeverity.WARNING, Source(file, 15),
        "row_count_vs_average(7d)")


@pytest.mark.parametrize(
    ("phrase", "kind", "tolerance", "window"),
    [
        ("±15% from 7d avg", RuleKind.ROW_COUNT_VS_AVERAGE, 0.15, 7),
        ("+-15% from 7d avg", RuleKind.ROW_COUNT_VS_AVERAGE, 0.15, 7),
        ("+/-20% vs 30-day average", RuleKind.ROW_COUNT_VS_AVERAGE, 0.20, 30),
        ("±10% of the previous day", RuleKind.ROW_COUNT_VS_PREVIOUS, 0.10, None),
        ("±10% vs previous day", RuleKind.ROW_COUNT_VS_PREVIOUS, 0.10, None),
        ("5% day over day", RuleKind.ROW_COUNT_VS_PREVIOUS, 0.05, None),
    ],
)
def test_row_count_phrases(phrase: str, kind: RuleKind, tolerance: float,
                           window: int | None) -> None:
    parsed = parse_row_count_phrase(phrase)
    assert (parsed.kind, parsed.window_days) == (kind, window)
    assert parsed.tolerance == pytest.approx(tolerance)


def test_the_full_grammar(tmp_path: Path) -> None:
    path = tmp_path / "customers.yml"
    path.write_text(
        "dataset: silver.erp_customers\n"                      # 1
        "owners: [ana@example.com, data-platform]\n"           # 2
        "version: 2\n"                                         # 3
        "schema:\n"                                            # 4
        "  fields:\n"                                          # 5
        "    - name: cid\n"                                    # 6
        "      pii: true\n"                                    # 7
        "      constraints:\n"                                 # 8
        "        - unique\n"                                   # 9
        "        - pattern: '^CUST[0-9]{4}$'\n"                # 10
        "        - min_length: {value: 8}\n"                   # 11 (bad: not a number)
        "        - {max_length: 9, severity: warning}\n"       # 12
        "    - name: gender\n"                                 # 13
        "      constraints:\n"                                 # 14
        "        - enum: [Male, Female]\n"                     # 15
        "        - type: varchar\n"                            # 16
        "        - sparkly\n"                                  # 17 (bad: unknown)
        "      quality:\n"                                     # 18
        "        null_rate: '< 5%'\n"                          # 19
        "    - name: bdate\n"                                  # 20
        "      constraints: [{min: 1900-01-01}, {max: today}]\n"  # 21
        "quality:\n"                                           # 22
        "  freshness: {warning: 1h30m, error: PT2H, column: loaded_at}\n"  # 23
        "  row_count:\n"                                       # 24
        "    error: +/-10% vs previous day\n"                  # 25
        "    min: 1000\n"                                      # 26
        "  null_rate: {column: bdate, max: 2%}\n"              # 27
        "  custom_sql:\n"                                      # 28
        "    - SELECT * FROM t WHERE bdate > CURRENT_DATE\n"   # 29
        "    - {name: no_orphans, sql: SELECT 1, severity: warn}\n"  # 30
        "  sparkle: 3\n",                                      # 31 (bad: unknown rule)
        encoding="utf-8",
    )
    issues: list[ParseIssue] = []
    contract = read_contract(path, issues=issues)
    assert [(i.line, i.message.split(":")[0].split(" (")[0]) for i in issues] == [
        (11, "field 'cid'"), (17, "field 'gender'"), (31, "unknown quality rule 'sparkle'")]
    assert all(i.file == str(path) for i in issues)
    assert contract.dataset == "silver.erp_customers" and contract.source.line == 1
    assert contract.owners == ("ana@example.com", "data-platform") and contract.version == "2"
    cid, gender, bdate = contract.fields
    assert cid.sensitive and not gender.sensitive
    assert [(c.kind, c.value, c.severity, c.source and c.source.line)
            for c in cid.constraints] == [
        (ConstraintKind.UNIQUE, None, RuleSeverity.ERROR, 9),
        (ConstraintKind.PATTERN, "^CUST[0-9]{4}$", RuleSeverity.ERROR, 10),
        (ConstraintKind.MAX_LENGTH, 9, RuleSeverity.WARNING, 12),
    ]
    assert [(c.kind, c.value) for c in gender.constraints] == [
        (ConstraintKind.ACCEPTED_VALUES, ("Male", "Female")), (ConstraintKind.TYPE, "varchar")]
    # An unquoted YAML date means its ISO text; "today" is the day the check runs.
    assert [c.value for c in bdate.constraints] == ["1900-01-01", TODAY]
    rules = [(r.kind, r.severity, r.column, r.max_age_seconds, r.tolerance, r.minimum,
              r.max_rate, r.source and r.source.line) for r in contract.rules]
    assert rules == [
        (RuleKind.NULL_RATE, RuleSeverity.ERROR, "gender", None, None, None, 0.05, 19),
        (RuleKind.FRESHNESS, RuleSeverity.ERROR, "loaded_at", 7200, None, None, None, 23),
        (RuleKind.FRESHNESS, RuleSeverity.WARNING, "loaded_at", 5400, None, None, None, 23),
        (RuleKind.ROW_COUNT_VS_PREVIOUS, RuleSeverity.ERROR, None, None, 0.10, None, None, 25),
        (RuleKind.ROW_COUNT_MIN, RuleSeverity.ERROR, None, None, None, 1000, None, 26),
        (RuleKind.NULL_RATE, RuleSeverity.ERROR, "bdate", None, None, None, 0.02, 27),
        (RuleKind.CUSTOM_SQL, RuleSeverity.ERROR, None, None, None, None, None, 29),
        (RuleKind.CUSTOM_SQL, RuleSeverity.WARNING, None, None, None, None, None, 30),
    ]
    assert contract.rules[-1].label == "no_orphans"
    assert contract.rules[-2].sql == "SELECT * FROM t WHERE bdate > CURRENT_DATE"


def test_item_problems_raise_without_an_issue_list_and_keep_what_was_read(
    tmp_path: Path,
) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("quality:\n  freshness: 24 parsecs\n  min_rows: 5\n", encoding="utf-8")
    with pytest.raises(ContractError) as caught:
        read_contract(path)
    assert caught.value.line == 2 and caught.value.file == str(path)
    assert "unknown duration unit 'parsecs'" in str(caught.value)
    assert [r.minimum for r in caught.value.contract.rules] == [5]


def test_a_contract_that_is_no_mapping_is_one_error_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(ContractError, match="a contract is a mapping") as caught:
        read_contract(path)
    assert caught.value.line == 1


def test_a_misspelt_key_is_an_issue_not_a_silently_dropped_promise(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("schema:\n  fields:\n    - name: a\n      constraint: [not_null]\n"
                    "qualty:\n  freshness: 1h\n", encoding="utf-8")
    issues: list[ParseIssue] = []
    read_contract(path, issues=issues)
    assert [(i.line, i.message.split(" (")[0]) for i in issues] == [
        (5, "unknown key 'qualty'"), (4, "field 'a': unknown key 'constraint'")]
