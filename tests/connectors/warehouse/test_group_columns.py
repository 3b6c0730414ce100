"""Columns in any order, or a stream that fails midway, assemble into whole tables or none."""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Sequence

from connectors.warehouse.introspect import ColumnFact, Relation, group_columns, observe
from lineage.model import DatasetKind, LiveColumn


def _facts(tables: int, columns: int) -> list[ColumnFact]:
    return [
        ColumnFact("s", f"t{t}", f"c{p}", p, "integer", p != 1, None, None, p == 1)
        for t in range(tables)
        for p in range(1, columns + 1)
    ]


def test_any_order_gives_each_table_its_columns_in_ordinal_order() -> None:
    ordered = _facts(30, 7)
    expected = group_columns(ordered)
    assert [c.name for c in expected[("s", "t3")]] == [f"c{p}" for p in range(1, 8)]
    assert expected[("s", "t3")][0] == LiveColumn("c1", "integer", False, primary_key=True)
    rng = random.Random(11)
    for _ in range(20):
        shuffled = list(ordered)
        rng.shuffle(shuffled)
        assert group_columns(shuffled) == expected
    # One table's rows in two runs, each run in order: merged, not overwritten.
    split = ordered[7:10] + ordered[:7] + ordered[10:14] + ordered[14:]
    assert group_columns(split) == expected


def test_separate_primary_keys_flag_their_columns() -> None:
    facts = [f._replace(primary_key=False) for f in _facts(2, 3)]
    grouped = group_columns(reversed(facts), {("s", "t1", "c2")})
    assert [c.primary_key for c in grouped[("s", "t1")]] == [False, True, False]
    assert not any(c.primary_key for c in grouped[("s", "t0")])


class _StreamingBackend:
    """A backend whose column stream for schema ``broken`` fails after some rows."""

    source = "test://warehouse"
    namespace = "test://warehouse"

    def __init__(self) -> None:
        self.failures: dict[tuple[str, str], str] = {}

    def dataset_name(self, schema: str, table: str) -> str:
        return f"{schema}.{table}"

    def schemas(self) -> list[str]:
        return ["broken", "fine"]

    def unreadable(self, schema: str) -> str | None:
        return None

    def relations(self, schema: str) -> list[Relation]:
        return [Relation(schema, f"t{t}", DatasetKind.TABLE) for t in range(3)]

    def columns(self, schema: str, relations: Sequence[Relation]) -> Iterable[ColumnFact]:
        def stream() -> Iterator[ColumnFact]:
            for fact in _facts(3, 4):
                if schema == "broken" and fact.table == "t1" and fact.position == 3:
                    raise RuntimeError("canceling statement due to statement timeout")
                yield fact._replace(schema=schema)

        return stream()

    def primary_keys(self, schema: str) -> set[tuple[str, str]]:
        return set()

    def close(self) -> None:
        pass


def test_a_stream_failing_midway_fails_its_schema_tables_and_the_rest_goes_on() -> None:
    observed = observe(_StreamingBackend())
    # No half-read table of "broken" (t0 was whole, but its schema's read failed).
    assert [t.id.name for t in observed.tables] == ["fine.t0", "fine.t1", "fine.t2"]
    assert all(len(t.columns) == 4 for t in observed.tables)
    assert [i.subject for i in observed.issues] == ["broken.t0", "broken.t1", "broken.t2"]
    assert all("statement timeout" in i.message for i in observed.issues)
