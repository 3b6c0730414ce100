"""Golden tests of the SQL column-lineage parser (``parsers.sql.parse_sql``).

One case per ``fixtures/<stem>.sql`` with its expected ``fixtures/<stem>.json``; the
expectations are written from ``docs/sql-lineage.md`` and from what the SQL means, not
from the parser's output. Run ``pytest -vv`` to see full diffs.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlglot

from lineage.model import ScriptLineage, StatementKind
from tests.helpers import (
    COMPARED_KEYS,
    OPTIONAL_KEYS,
    dumps,
    load_expected,
    load_sql_fixture,
    parse_kwargs,
    project_script,
)

FIXTURES_DIR = Path(__file__).parent / "fixtures"
FIXTURES = sorted(FIXTURES_DIR.glob("*.sql"))
DIALECTS = {
    "redshift",
    "postgres",
    "snowflake",
    "bigquery",
    "spark",
    "databricks",
    "hive",
    "duckdb",
    "mysql",
    "tsql",
    "trino",
    "oracle",
}
# Procedures and script blocks: one sqlglot chunk per semicolon, but one expected entry
# per statement of the body (docs/sql-lineage.md, "Procedural bodies").
PROCEDURAL_MARKERS = ("_procedure_", "_scripting_")
# Kinds whose output column order is well defined (query / column list / target schema order).
ORDERED_KINDS = {
    "SELECT",
    "INSERT",
    "CREATE_TABLE_AS",
    "CREATE_VIEW",
    "CREATE_MATERIALIZED_VIEW",
    "UNLOAD",
}

cases = pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])


@pytest.fixture(scope="module")
def parse_sql() -> Callable[..., ScriptLineage]:
    from parsers.sql import parse_sql as fn

    return fn


def _run(
    parse_sql: Callable[..., ScriptLineage], path: Path
) -> tuple[dict[str, Any], ScriptLineage]:
    headers, sql = load_sql_fixture(path)
    return headers, parse_sql(sql, **parse_kwargs(headers))


def test_fixtures_found() -> None:
    assert len(FIXTURES) >= 45
    orphans = {p.stem for p in FIXTURES_DIR.glob("*.json")} - {p.stem for p in FIXTURES}
    assert not orphans, f"expected files without a .sql: {sorted(orphans)}"


# ---------------------------------------------------------------- the fixtures themselves


def _check_input_fields(where: str, fields: list[dict[str, Any]], indirect_only: bool) -> None:
    keys = [(f["namespace"], f["name"], f["field"]) for f in fields]
    assert keys == sorted(keys) and len(keys) == len(set(keys)), f"{where}: input fields order"
    for f in fields:
        assert set(f) == {"namespace", "name", "field", "transformations"}, where
        trs = [(t["type"], t["subtype"], t["masking"]) for t in f["transformations"]]
        assert trs and trs == sorted(set(trs)), f"{where}: transformations of {f['field']}"
        for t_type, subtype, masking in trs:
            assert t_type in ("DIRECT", "INDIRECT"), where
            if t_type == "DIRECT":
                assert subtype in ("IDENTITY", "TRANSFORMATION", "AGGREGATION"), where
            else:
                assert subtype in ("JOIN", "GROUP_BY", "FILTER", "SORT", "WINDOW", "CONDITIONAL"), (
                    where
                )
                assert masking is False, where
            assert not (indirect_only and t_type == "DIRECT"), f"{where}: DIRECT at dataset level"


@cases
def test_fixture_is_well_formed(path: Path) -> None:
    """The fixture follows the format: headers, sorted lists, known kinds, valid SQL."""
    headers, sql = load_sql_fixture(path)
    assert headers.get("dialect") in DIALECTS
    assert headers.get("description")
    assert isinstance(headers.get("schema", {}), dict)
    assert sql.count("\n") == path.read_text(encoding="utf-8").count("\n")

    expected = load_expected(path)
    assert set(expected) == {"statements"} and expected["statements"]
    kinds = {k.value for k in StatementKind}
    for i, stmt in enumerate(expected["statements"]):
        where = f"{path.stem}[{i}]"
        assert set(stmt) <= set(COMPARED_KEYS) | set(OPTIONAL_KEYS), where
        assert stmt["kind"] in kinds, where
        if "errors" in stmt:
            assert stmt["kind"] == "UNKNOWN", where
            assert all(set(e) == {"line"} and isinstance(e["line"], int) for e in stmt["errors"])
            continue
        assert set(COMPARED_KEYS) <= set(stmt), f"{where}: missing keys"
        for key in ("inputs", "outputs"):
            names = [(d["namespace"], d["name"]) for d in stmt[key]]
            assert all(set(d) == {"namespace", "name"} for d in stmt[key]), where
            assert names == sorted(set(names)), f"{where}: {key} order"
        for cl in stmt["columnLineage"]:
            assert set(cl) == {"output", "fields", "dataset"}, where
            for name, field in cl["fields"].items():
                assert set(field) == {"inputFields"}, where
                _check_input_fields(f"{where}.{name}", field["inputFields"], indirect_only=False)
            _check_input_fields(f"{where}.dataset", cl["dataset"], indirect_only=True)
        assert all(isinstance(c, str) for c in stmt.get("ambiguous", [])), where

    if any(marker in path.stem for marker in PROCEDURAL_MARKERS):
        assert sqlglot.tokenize(sql, read=headers["dialect"])
    elif not any("errors" in s for s in expected["statements"]):
        parsed = sqlglot.parse(sql, read=headers["dialect"])
        assert len([p for p in parsed if p is not None]) == len(expected["statements"])


# ---------------------------------------------------------------- the parser against them


@cases
def test_sql_golden(parse_sql: Callable[..., ScriptLineage], path: Path) -> None:
    _, result = _run(parse_sql, path)
    expected = load_expected(path)
    actual_doc = result.to_dict()
    actual = project_script(actual_doc, expected)
    assert dumps(actual) == dumps(expected)
    for stmt in actual_doc["statements"]:
        for error in stmt["errors"]:
            assert error.get("message"), f"statement {stmt['index']}: error without a message"


@cases
def test_sql_golden_field_order(parse_sql: Callable[..., ScriptLineage], path: Path) -> None:
    """``fields`` keys come in output order (the golden comparison ignores key order)."""
    _, result = _run(parse_sql, path)
    expected = load_expected(path)["statements"]
    actual = result.to_dict()["statements"]
    if len(actual) != len(expected):
        pytest.skip("statement count differs; see test_sql_golden")
    for i, (act, exp) in enumerate(zip(actual, expected, strict=True)):
        if exp["kind"] not in ORDERED_KINDS or "errors" in exp:
            continue
        for j, (a_cl, e_cl) in enumerate(
            zip(act["columnLineage"], exp["columnLineage"], strict=False)
        ):
            assert list(a_cl["fields"]) == list(e_cl["fields"]), f"statement {i}, lineage {j}"


@cases
def test_parse_sql_is_pure_and_repeatable(
    parse_sql: Callable[..., ScriptLineage], path: Path
) -> None:
    """Never raises, never mutates its arguments, and gives equal results when called again."""
    headers, sql = load_sql_fixture(path)
    kwargs = parse_kwargs(headers)
    before = copy.deepcopy(kwargs)
    first = parse_sql(sql, **kwargs)
    second = parse_sql(sql, **kwargs)
    assert kwargs == before, "parse_sql mutated its arguments"
    assert isinstance(first, ScriptLineage)
    assert first == second
    assert first.to_dict() == second.to_dict()
    json.dumps(first.to_dict())  # JSON-serialisable as is
    # A fresh copy of the schema gives the same result as the (possibly cached) first call.
    third = parse_sql(sql, **copy.deepcopy(kwargs))
    assert third.to_dict() == first.to_dict()
