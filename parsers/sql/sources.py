"""What the sources of a scope are known to contain, and the stars expanded from them.

The statement layer describes base tables through a ``TableResolver`` (their
``DatasetId`` and known columns) and the temporary tables of the script as
``TempTable``s. ``SourceColumns`` answers, per scope, which columns each source (base
table, CTE, derived table, UNION) holds and which output names a ``*`` or ``t.*`` that
the qualifier left unexpanded stands for; ``parsers.sql.tracer`` builds on it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from sqlglot import exp
from sqlglot.optimizer.scope import Scope

from lineage.model import DatasetId, ParseWarning
from parsers.sql.transformations import Edges

__all__ = ["SourceColumns", "TableResolver", "TempTable", "is_star"]


@dataclass(frozen=True)
class TempTable:
    """A temporary table created earlier in the script, resolved away by later readers."""

    fields: Mapping[str, Edges]
    dataset: Edges
    inputs: frozenset[DatasetId]


class TableResolver:
    """What the tracer needs to know about base tables (filled in by the statement layer)."""

    def __init__(
        self,
        dataset_of: Callable[[exp.Table], DatasetId | None],
        columns_of: Callable[[DatasetId], Sequence[str] | None],
        temp_tables: Mapping[DatasetId, TempTable],
        dialect: str | None = None,
    ) -> None:
        self.dataset_of = dataset_of
        self.columns_of = columns_of
        self.temp_tables = temp_tables
        # Nested field access (``x['a']``, ``v:a.b``) reads differently per engine.
        self.dialect = dialect


class SourceColumns:
    """The output names of scopes and the columns of their sources (base of the tracer)."""

    def __init__(self, tables: TableResolver) -> None:
        self.tables = tables
        self.warnings: list[ParseWarning] = []
        self.unexpanded_star = False
        self._warned: set[tuple[str, str | None]] = set()
        self._qualified_memo: dict[int, dict[str, set[str]]] = {}
        # Per-scope and per-dataset memos: a wide SELECT asks about each of its n columns,
        # and answering from a list rebuilt (or scanned) per column would cost O(n**2).
        self._output_memo: dict[int, list[str]] = {}
        self._output_index: dict[int, dict[str, int]] = {}
        self._columns_memo: dict[tuple[int, str], tuple[list[str], frozenset[str]] | None] = {}
        self._known_memo: dict[DatasetId, frozenset[str] | None] = {}

    # -- outputs ---------------------------------------------------------------------

    def output_names(self, scope: Scope) -> list[str]:
        """Output column names of a scope; stars that stay unexpanded are skipped.

        Memoised per scope: the list returned is shared and must not be modified.
        """
        memo = self._output_memo.get(id(scope))
        if memo is None:
            memo = self._output_names(scope)
            self._output_memo[id(scope)] = memo
        return memo

    def output_position(self, scope: Scope, name: str) -> int | None:
        """The position of the first output column called ``name``, or None."""
        index = self._output_index.get(id(scope))
        if index is None:
            index = {}
            for position, output in enumerate(self.output_names(scope)):
                index.setdefault(output, position)
            self._output_index[id(scope)] = index
        return index.get(name)

    def _output_names(self, scope: Scope) -> list[str]:
        expression = scope.expression
        if isinstance(expression, exp.SetOperation):
            return self.output_names(scope.union_scopes[0])
        if isinstance(expression, exp.Select):
            names: list[str] = []
            for projection in expression.selects:
                if is_star(projection):
                    known = self._star_names(scope, projection)
                    if known is None:
                        self.unexpanded_star = True
                        self._warn(
                            f"{projection.sql()} could not be expanded: the schema of its "
                            "sources is unknown (reported as an unexpanded wildcard, field '*')",
                        )
                    else:
                        names.extend(known)
                else:
                    names.append(projection.alias_or_name)
            return names
        return list(expression.named_selects) if isinstance(expression, exp.Query) else []

    def _star_names(self, scope: Scope, projection: exp.Expr) -> list[str] | None:
        names: list[str] = []
        for source_name in self._star_sources(scope, projection):
            columns = self._source_columns(scope, source_name)
            if columns is None:
                return None
            names.extend(columns)
        return names

    # -- what a source is known to contain ---------------------------------------------

    def _source_columns(self, scope: Scope, source_name: str) -> list[str] | None:
        """The columns of a source, in order (memoised: do not modify the list)."""
        known = self._source_column_memo(scope, source_name)
        return known[0] if known is not None else None

    def _source_column_memo(
        self, scope: Scope, source_name: str
    ) -> tuple[list[str], frozenset[str]] | None:
        key = (id(scope), source_name)
        if key not in self._columns_memo:
            columns = self._compute_source_columns(scope, source_name)
            self._columns_memo[key] = (columns, frozenset(columns)) if columns is not None else None
        return self._columns_memo[key]

    def known_columns(self, dataset: DatasetId) -> frozenset[str] | None:
        """The columns the schema (or script) knows for a base table, as a set (memoised)."""
        if dataset not in self._known_memo:
            known = self.tables.columns_of(dataset)
            self._known_memo[dataset] = frozenset(known) if known is not None else None
        return self._known_memo[dataset]

    def _compute_source_columns(self, scope: Scope, source_name: str) -> list[str] | None:
        source = scope.sources.get(source_name)
        if isinstance(source, exp.Table):
            dataset = self.tables.dataset_of(source)
            if dataset is None:
                return None
            temp = self.tables.temp_tables.get(dataset)
            if temp is not None:
                return None if "*" in temp.fields else list(temp.fields)
            known = self.tables.columns_of(dataset)
            return list(known) if known is not None else None
        if isinstance(source, Scope):
            expression = source.expression
            if isinstance(expression, exp.Select) and any(is_star(p) for p in expression.selects):
                star_free = [p.alias_or_name for p in expression.selects if not is_star(p)]
                stars = [p for p in expression.selects if is_star(p)]
                expanded: list[str] = list(star_free)
                for star in stars:
                    names = self._star_names(source, star)
                    if names is None:
                        return None
                    expanded.extend(names)
                return expanded
            if isinstance(expression, exp.SetOperation):
                return self._source_columns_of_scope(source.union_scopes[0])
            return list(expression.named_selects) if isinstance(expression, exp.Query) else None
        return None

    def _source_columns_of_scope(self, scope: Scope) -> list[str] | None:
        expression = scope.expression
        if isinstance(expression, exp.SetOperation):
            return self._source_columns_of_scope(scope.union_scopes[0])
        if isinstance(expression, exp.Select) and any(is_star(p) for p in expression.selects):
            return None
        return list(expression.named_selects) if isinstance(expression, exp.Query) else None

    def _source_may_have(self, scope: Scope, source_name: str, name: str) -> bool:
        columns = self._source_column_memo(scope, source_name)
        return columns is None or name in columns[1]

    def _source_has(self, scope: Scope, source_name: str, name: str) -> bool:
        columns = self._source_column_memo(scope, source_name)
        if columns is not None:
            return name in columns[1]
        # Unknown schema, but the query itself names ``source.column`` somewhere: valid SQL
        # then cannot have another source with that column unqualified.
        return name in self._qualified_names(scope).get(source_name, ())

    def _qualified_names(self, scope: Scope) -> dict[str, set[str]]:
        memo = self._qualified_memo.get(id(scope))
        if memo is None:
            memo = {}
            for column in scope.expression.find_all(exp.Column):
                if column.table and not isinstance(column.this, exp.Star):
                    memo.setdefault(column.table, set()).add(column.name)
            self._qualified_memo[id(scope)] = memo
        return memo

    def _star_sources(self, scope: Scope, projection: exp.Expr) -> list[str]:
        if isinstance(projection, exp.Column) and projection.table:
            return [projection.table]
        return list(scope.selected_sources)

    def _warn(self, message: str, column: str | None = None) -> None:
        if (message, column) not in self._warned:
            self._warned.add((message, column))
            self.warnings.append(ParseWarning(message, column))


def is_star(projection: exp.Expr) -> bool:
    return isinstance(projection, exp.Star) or (
        isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star)
    )
