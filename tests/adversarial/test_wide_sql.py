"""Wide statements cost linear work: thousands of columns in one SELECT.

Nothing here is timed (a shared CI machine makes timings noise). Instead the tests count
work that must not grow with each column: the Python function calls ``parse_sql`` makes
(doubling the columns must no more than double them), the projection scans behind
``is_star`` (a constant number per column), and the schema look-ups (a constant number
per statement). Before the memos in ``parsers.sql.tracer`` / ``parsers.sql.sources``
each output column rescanned the whole projection list and rebuilt the source's column
list, so 10,000 columns took minutes.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import pytest

from lineage.model import IDENTITY, ScriptLineage
from parsers.sql import sources, tracer
from parsers.sql.binding import ScriptState
from parsers.sql.parse import clear_cache, parse_sql

WIDE = 1_000


def _columns(n: int) -> list[str]:
    return [f"c{i}" for i in range(n)]


def _schema(n: int) -> dict[str, dict[str, str]]:
    return {"bronze.s": dict.fromkeys(_columns(n), "int")}


def _renaming(n: int) -> str:
    return ", ".join(f"c{i} AS o{i}" for i in range(n))


def _plain(n: int) -> tuple[str, dict[str, Any] | None]:
    return f"INSERT INTO silver.t SELECT {_renaming(n)} FROM bronze.s", None


def _plain_with_schema(n: int) -> tuple[str, dict[str, Any] | None]:
    return f"INSERT INTO silver.t SELECT {_renaming(n)} FROM bronze.s", _schema(n)


def _star(n: int) -> tuple[str, dict[str, Any] | None]:
    return "INSERT INTO silver.t SELECT * FROM bronze.s", _schema(n)


def _cte(n: int) -> tuple[str, dict[str, Any] | None]:
    passed = ", ".join(_columns(n))
    sql = (
        f"INSERT INTO silver.t WITH x AS (SELECT {passed} FROM bronze.s) "
        f"SELECT {_renaming(n)} FROM x"
    )
    return sql, _schema(n)


def _cte_star(n: int) -> tuple[str, dict[str, Any] | None]:
    sql = f"INSERT INTO silver.t WITH x AS (SELECT * FROM bronze.s) SELECT {_renaming(n)} FROM x"
    return sql, _schema(n)


def _union(n: int) -> tuple[str, dict[str, Any] | None]:
    right = ", ".join(_columns(n))
    sql = (
        f"INSERT INTO silver.t SELECT {_renaming(n)} FROM bronze.s "
        f"UNION ALL SELECT {right} FROM bronze.s"
    )
    return sql, None


SHAPES: dict[str, Callable[[int], tuple[str, dict[str, Any] | None]]] = {
    "plain": _plain,
    "plain with schema": _plain_with_schema,
    "star over schema": _star,
    "cte": _cte,
    "cte star": _cte_star,
    "union": _union,
}


def _parse(shape: str, n: int) -> ScriptLineage:
    clear_cache()  # a cached result would cost nothing and prove nothing
    sql, schema = SHAPES[shape](n)
    return parse_sql(sql, dialect="redshift", schema=schema)


@contextmanager
def _counting_calls() -> Iterator[list[int]]:
    """Count every Python function call made inside the block (deterministic, untimed)."""
    count = [0]

    def profile(frame: FrameType, event: str, arg: object) -> None:
        if event == "call":
            count[0] += 1

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        yield count
    finally:
        sys.setprofile(previous)


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_output_column_comes_from_its_input_column(shape: str) -> None:
    result = _parse(shape, WIDE)
    (statement,) = result.statements
    assert not statement.warnings
    assert statement.confidence >= 0.9
    (lineage,) = statement.column_lineage
    fields = lineage.field_map()
    expected = [f"c{i}" for i in range(WIDE)] if shape == "star over schema" else None
    names = [name for name, _ in lineage.fields]
    assert names == (expected or [f"o{i}" for i in range(WIDE)])
    for i, name in enumerate(names):
        inputs = fields[name]
        assert [(f.dataset.name, f.field) for f in inputs] == [("bronze.s", f"c{i}")], name
        assert inputs[0].transformations == (IDENTITY,), name


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_doubling_the_columns_no_more_than_doubles_the_work(shape: str) -> None:
    _parse(shape, 50)  # warm up: first-use caches and imports are not per column
    with _counting_calls() as small:
        _parse(shape, 300)
    with _counting_calls() as large:
        _parse(shape, 600)
    # Quadratic work would make this about 4; fixed costs make it a little under 2.
    assert large[0] <= 2.1 * small[0], (small[0], large[0])


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_projections_are_scanned_a_constant_number_of_times_per_column(
    shape: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = [0]
    original = sources.is_star

    def counted(projection: Any) -> bool:
        calls[0] += 1
        return original(projection)

    monkeypatch.setattr(sources, "is_star", counted)
    monkeypatch.setattr(tracer, "is_star", counted)
    _parse(shape, WIDE)
    # Each projection is looked at a few times in all, never once per other column.
    assert calls[0] <= 10 * WIDE, calls[0]


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_schemas_are_looked_up_a_constant_number_of_times(
    shape: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = [0]
    original = ScriptState.columns_of

    def counted(self: ScriptState, dataset: Any) -> Any:
        calls[0] += 1
        return original(self, dataset)

    monkeypatch.setattr(ScriptState, "columns_of", counted)
    _parse(shape, WIDE)
    assert calls[0] <= 10, calls[0]
