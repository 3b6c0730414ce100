"""Column statistics accumulated batch by batch (pyarrow.compute), so a profile never
holds more than one record batch and the distinct values it still counts.

``distinct_count`` is exact up to ``DISTINCT_LIMIT`` distinct values per column; above
it the column stops collecting and reports no ``distinct_count`` (memory stays bounded:
at most that many values per column). Nested columns (struct, list, map) report null
counts only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

__all__ = ["DISTINCT_LIMIT", "ColumnStats", "TableStats"]

#: Distinct values kept per column; above it ``distinct_count`` is not reported.
DISTINCT_LIMIT = 20_000
#: Text bounds are cut to this many characters.
BOUND_CHARS = 256


def _kind(kind: Any) -> str:
    import pyarrow as pa

    types = pa.types
    if types.is_dictionary(kind):
        return _kind(kind.value_type)
    if types.is_integer(kind) or types.is_floating(kind) or types.is_decimal(kind):
        return "number"
    if types.is_string(kind) or types.is_large_string(kind) or types.is_string_view(kind):
        return "text"
    if types.is_temporal(kind) and not types.is_duration(kind) and not types.is_interval(kind):
        return "time"
    if types.is_boolean(kind) or types.is_binary(kind) or types.is_large_binary(kind):
        return "plain"
    return "nested"


@dataclass
class ColumnStats:
    """What one column has shown so far."""

    kind: str
    nulls: int = 0
    low: Any = None
    high: Any = None
    distinct: Any = None  # a pyarrow array of the distinct values seen, None once over limit
    counting: bool = True

    def add(self, column: Any) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        if pa.types.is_dictionary(column.type):
            column = column.dictionary_decode()
        self.nulls += column.null_count
        if self.kind == "nested":
            self.counting = False
            return
        if self.kind != "plain" and len(column) > column.null_count:
            bounds = pc.min_max(column)
            self._bound(bounds["min"].as_py(), bounds["max"].as_py())
        if self.counting:
            seen = pc.unique(column.drop_null())
            if self.distinct is not None:
                seen = pc.unique(pa.concat_arrays([self.distinct, seen]))
            if len(seen) > DISTINCT_LIMIT:
                self.counting, self.distinct = False, None
            else:
                self.distinct = seen

    def _bound(self, low: Any, high: Any) -> None:
        if low is not None and (self.low is None or low < self.low):
            self.low = low
        if high is not None and (self.high is None or high > self.high):
            self.high = high

    def merge(self, other: ColumnStats) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        self.nulls += other.nulls
        self._bound(other.low, other.high)
        if not (self.counting and other.counting):
            self.counting, self.distinct = False, None
        elif other.distinct is not None:
            merged = other.distinct
            if self.distinct is not None:
                merged = pc.unique(pa.concat_arrays([self.distinct, other.distinct]))
            if len(merged) > DISTINCT_LIMIT:
                self.counting, self.distinct = False, None
            else:
                self.distinct = merged

    @property
    def distinct_count(self) -> int | None:
        if not self.counting:
            return None
        return 0 if self.distinct is None else len(self.distinct)

    def text_bounds(self) -> tuple[str | None, str | None]:
        return _text(self.low), _text(self.high)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return str(value)[:BOUND_CHARS]


@dataclass
class TableStats:
    """Rows and per-column statistics; ``merge`` folds in a finished fragment's."""

    schema: Any
    rows: int = 0
    columns: dict[str, ColumnStats] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for item in self.schema:
            self.columns.setdefault(item.name, ColumnStats(_kind(item.type)))

    def add(self, batch: Any) -> None:
        self.rows += batch.num_rows
        for name, stats in self.columns.items():
            stats.add(batch.column(name))

    def merge(self, other: TableStats) -> None:
        self.rows += other.rows
        for name, stats in self.columns.items():
            stats.merge(other.columns[name])
