"""Stars no schema expands: what is still known is that each column passes through.

``INSERT INTO t1 SELECT * FROM t2`` with nothing known about ``t2`` gives one wildcard
edge, output field ``*`` from input field ``*`` of ``t2``: every column of ``t1`` is the
same-named column of ``t2``. Through CTEs, derived tables, UNION branches and temporary
tables the wildcard keeps pointing at the base tables; a temporary table created from a
wildcard resolves a later reader's ``tmp.x`` to the source's ``x``.
"""

from __future__ import annotations

from sqlglot import exp
from sqlglot.optimizer.scope import Scope

from lineage.model import IDENTITY
from parsers.sql.sources import SourceColumns, TableResolver, TempTable, is_star
from parsers.sql.transformations import Edges, merge_edges

__all__ = ["WILDCARD", "Wildcards", "temp_column"]

#: The field of an unexpanded wildcard edge, on the output side and the input side.
WILDCARD = "*"


class Wildcards(SourceColumns):
    """The wildcard edges of a scope's unexpanded stars (a base of the tracer)."""

    def __init__(self, tables: TableResolver) -> None:
        super().__init__(tables)
        self._wildcards_open: set[int] = set()

    def wildcard_lineage(self, scope: Scope) -> Edges:
        """``(dataset, "*")`` edges for the part of a scope's stars no schema expands."""
        expression = scope.expression
        edges: Edges = {}
        if isinstance(expression, exp.SetOperation):
            merge_edges(edges, self.wildcard_lineage(scope.union_scopes[0]))
            if not isinstance(expression, exp.Except):
                merge_edges(edges, self.wildcard_lineage(scope.union_scopes[1]))
            return edges
        if not isinstance(expression, exp.Select):
            return edges
        for star in [p for p in expression.selects if is_star(p)]:
            if self._star_names(scope, star) is not None:
                continue
            for source_name in self._star_sources(scope, star):
                if self._source_columns(scope, source_name) is not None:
                    continue
                merge_edges(edges, self._source_wildcard(scope, source_name))
        return edges

    def _source_wildcard(self, scope: Scope, source_name: str) -> Edges:
        source = scope.sources.get(source_name)
        if isinstance(source, exp.Table):
            dataset = self.tables.dataset_of(source)
            if dataset is None:
                return {}
            temp = self.tables.temp_tables.get(dataset)
            if temp is not None:
                return {k: set(v) for k, v in temp.fields.get(WILDCARD, {}).items()}
            return {(dataset, WILDCARD): {IDENTITY}}
        if isinstance(source, Scope) and id(source.expression) not in self._wildcards_open:
            self._wildcards_open.add(id(source.expression))  # a recursive CTE's star
            try:
                return self.wildcard_lineage(source)
            finally:
                self._wildcards_open.discard(id(source.expression))
        return {}

    def wildcard_position(self, scope: Scope) -> int:
        """Where the first unexpanded star sits among a scope's output names."""
        expression = scope.expression
        while isinstance(expression, exp.SetOperation):
            scope = scope.union_scopes[0]
            expression = scope.expression
        position = 0
        if isinstance(expression, exp.Select):
            for projection in expression.selects:
                if not is_star(projection):
                    position += 1
                    continue
                names = self._star_names(scope, projection)
                if names is None:
                    return position
                position += len(names)
        return position


def temp_column(temp: TempTable, name: str) -> Edges:
    """A temporary table's column; through its wildcard, the same-named source column."""
    found = temp.fields.get(name)
    if found is not None:
        return {k: set(v) for k, v in found.items()}
    wildcard = temp.fields.get(WILDCARD, {})
    return {
        ((dataset, name) if field == WILDCARD else (dataset, field)): set(via)
        for (dataset, field), via in wildcard.items()
    }
