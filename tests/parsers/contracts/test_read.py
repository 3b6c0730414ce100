"""A folder of contracts: formats told by content, broken files cost only themselves."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from parsers.contracts import ContractError, read_contract, read_contracts

FIXTURES = Path(__file__).parent / "fixtures"


def test_a_broken_file_among_good_ones_loses_nothing_else(tmp_path: Path) -> None:
    for name in ("erp_cust_az12.yaml", "erp_customers.odcs.yaml", "erp_customers_quality.json"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "broken.yml").write_text(
        "schema:\n  fields:\n    - name: a\n      constraints: [not_null\n", encoding="utf-8")
    (tmp_path / "nested" / "orders.yml").write_text(
        "dataset: silver.orders\nquality:\n  min_rows: 1\n", encoding="utf-8")
    (tmp_path / "RUNBOOK.md").write_text("# Who to call\n- ana\n", encoding="utf-8")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "x.yaml").write_text(": nope :", encoding="utf-8")
    contracts, issues = read_contracts(tmp_path)
    assert [(c.kind, c.stem) for c in contracts] == [
        ("seed", "erp_cust_az12"), ("odcs", "erp_customers"),
        ("great_expectations", "erp_customers"), ("seed", "orders")]
    unknown_expectation, broken = sorted(issues, key=lambda i: str(i.file))
    assert broken.file == str(tmp_path / "nested" / "broken.yml")
    assert broken.line == 5 and broken.message.startswith("not valid YAML")
    assert unknown_expectation.file == str(tmp_path / "erp_customers_quality.json")


def test_an_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\nquality: *a9\n", encoding="utf-8")
    started = time.monotonic()
    with pytest.raises(ContractError, match="expands past") as caught:
        read_contract(path)
    assert time.monotonic() - started < 2
    assert caught.value.file == str(path)


def test_an_unreadable_file_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("owner: Jos\xe9\n".encode("latin-1"))
    with pytest.raises(ContractError, match="cannot read the file") as caught:
        read_contract(path)
    assert caught.value.file == str(path)


def test_json_that_yaml_refuses_is_still_read(tmp_path: Path) -> None:
    path = tmp_path / "suite.json"
    path.write_text('{\t"expectations":\t[{"expectation_type":\t'
                    '"expect_column_values_to_be_unique", "kwargs": {"column": "id"}}]}',
                    encoding="utf-8")
    assert [c.label for c in read_contract(path).constraints] == ["unique(id)"]
