"""Column lineage of one qualified query: walk sqlglot's scope tree once, memoised.

``trace_query`` is the entry point. The query must already be qualified (tables
flattened and aliased, stars expanded where the schema allows) by
``parsers.sql.query_tracing``.
Every column reference is resolved to the scope that defines it and followed down
through CTEs, derived tables, UNION branches, lateral subqueries and UNNEST/explode
sources to base tables, composing the transformation met at each hop::

    WITH c AS (SELECT UPPER(name) AS n FROM crm.customers)   -- n <- name: TRANSFORMATION
    SELECT MAX(n) AS top FROM c                              -- top <- name: AGGREGATION

Results are memoised per (scope, column) so wide CTE chains are walked once. Inputs are
never guessed: an unqualified column that could come from two sources is reported as a
warning and left out.

How each hop is typed lives in ``parsers.sql.transformations``; what a source contains
and what a star expands to, in ``parsers.sql.sources``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlglot import exp
from sqlglot.optimizer.scope import Scope, walk_in_scope

from lineage.model import IDENTITY, ParseWarning, Transformation
from lineage.model import TransformationSubtype as Sub
from parsers.sql.nested import access_of, base_column, with_path
from parsers.sql.sources import TableResolver, is_star
from parsers.sql.transformations import (
    CONDITIONAL,
    FILTER,
    JOIN,
    TRANSFORMATION,
    Edges,
    classify,
    merge_edges,
    strip,
)
from parsers.sql.wildcards import WILDCARD, Wildcards, temp_column

__all__ = ["WILDCARD", "QueryLineage", "trace_query"]


@dataclass
class QueryLineage:
    """Column lineage of a query: per output column, and the row-shaping inputs."""

    columns: list[tuple[str, Edges]]
    dataset: Edges
    warnings: list[ParseWarning] = field(default_factory=list)
    unexpanded_star: bool = False
    relied_on_query: bool = False


def trace_query(root: Scope, tables: TableResolver) -> QueryLineage:
    """Trace every output column of the query whose root scope is ``root``.

    Args:
        root: ``build_scope`` of a qualified query.
        tables: how to name base tables and look up their columns.

    Returns:
        The lineage of each output column (in output order) and the dataset-level inputs.
    """
    tracer = _Tracer(root, tables)
    names = tracer.output_names(root)
    columns = [(name, tracer.field_lineage(root, name)) for name in names]
    if tracer.unexpanded_star:
        # What is known of a ``*`` over unknown sources: each column passes through.
        wildcard = tracer.wildcard_lineage(root)
        if wildcard:
            columns.insert(tracer.wildcard_position(root), (WILDCARD, wildcard))
    dataset = tracer.dataset_lineage(root)
    return QueryLineage(
        columns=columns,
        dataset=dataset,
        warnings=tracer.warnings,
        unexpanded_star=tracer.unexpanded_star,
        relied_on_query=tracer.relied_on_query,
    )


class _Tracer(Wildcards):
    def __init__(self, root: Scope, tables: TableResolver) -> None:
        super().__init__(tables)
        self.relied_on_query = False
        self._field_memo: dict[tuple[int, str], Edges] = {}
        self._dataset_memo: dict[int, Edges] = {}
        self._in_progress: set[tuple[int, str]] = set()
        self._aliases_in_progress: set[int] = set()
        self._projection_memo: dict[int, _Projections] = {}
        # Child scopes by the id of the node that starts them, to follow subqueries.
        self._scope_of: dict[int, Scope] = {id(s.expression): s for s in root.traverse()}

    # -- per output column -----------------------------------------------------------

    def field_lineage(self, scope: Scope, name: str) -> Edges:
        # sqlglot builds a second Scope object for a recursive CTE's self-reference; use
        # the one from the tree walk so memoisation and resolution see one scope per node.
        scope = self._scope_of.get(id(scope.expression), scope)
        key = (id(scope), name)
        memo = self._field_memo.get(key)
        if memo is not None:
            return memo
        if key in self._in_progress:  # a recursive CTE reading itself
            return {}
        self._in_progress.add(key)
        try:
            edges = self._field_lineage(scope, name)
        finally:
            self._in_progress.discard(key)
        self._field_memo[key] = edges
        return edges

    def _field_lineage(self, scope: Scope, name: str) -> Edges:
        expression = scope.expression
        if isinstance(expression, exp.SetOperation):
            return self._set_operation_field(scope, name)
        if not isinstance(expression, exp.Select):
            return {}
        projections = self._projections(expression)
        projection = projections.by_name.get(name)
        if projection is not None:
            return self.expression_lineage(scope, projection)
        # Not an explicit projection: it may come through an unexpanded star.
        candidates = [s for p in projections.stars for s in self._star_sources(scope, p)]
        having = [s for s in candidates if self._source_may_have(scope, s, name)]
        if len(having) == 1:
            return self._column_in_source(scope, having[0], name)
        if len(having) > 1:
            self._warn(
                f"column {name!r} is ambiguous: it may come from any of "
                f"{', '.join(sorted(having))}",
                name,
            )
        return {}

    def _set_operation_field(self, scope: Scope, name: str) -> Edges:
        left, right = scope.union_scopes[0], scope.union_scopes[1]
        self.output_names(left)  # warns about its unexpanded stars, as the right side does
        edges: Edges = {}
        merge_edges(edges, self.field_lineage(left, name))
        if isinstance(scope.expression, exp.Except):
            return edges  # the right side only removes rows: dataset-level FILTER
        right_names = self.output_names(right)
        position = self.output_position(left, name)
        if position is not None and position < len(right_names):
            merge_edges(edges, self.field_lineage(right, right_names[position]))
        return edges

    def expression_lineage(self, scope: Scope, root: exp.Expr) -> Edges:
        """Lineage of one projection (or any expression) evaluated in ``scope``."""
        edges: Edges = {}
        for node in walk_in_scope(root):
            if isinstance(node, exp.Column):
                if isinstance(node.this, exp.Star):
                    continue
                # A nested path (``widget.asset.id``) is typed by its whole access.
                access = access_of(node, self.tables.dialect)
                merge_edges(
                    edges,
                    with_path(self._column_lineage(scope, node), access.path),
                    classify(access.node, root),
                )
            elif node is not root and id(node) in self._scope_of:
                child = self._scope_of[id(node)]
                via = classify(node, root)
                # A scalar subquery yields its one column; a predicate (IN, EXISTS) reads all.
                names = self.output_names(child)
                for child_name in names[:1] if via.is_direct else names:
                    merge_edges(edges, self.field_lineage(child, child_name), via)
                # A scalar subquery's own filters decide its value: INDIRECT for this field.
                merge_edges(edges, self.dataset_lineage(child))
        return edges

    # -- resolving one column reference ------------------------------------------------

    def column_lineage(self, scope: Scope, column: exp.Column) -> Edges:
        """Inputs of one column reference, to the nested field it reads (``c.a.b``)."""
        access = access_of(column, self.tables.dialect)
        return with_path(self._column_lineage(scope, column), access.path)

    def _column_lineage(self, scope: Scope, column: exp.Column) -> Edges:
        table = column.table
        name = column.name
        if table:
            owner = _scope_with_source(scope, table)
            if owner is None:
                pivoted = self._pivot_lineage(scope, table, name)
                if pivoted is not None:
                    return pivoted
                root = column.parts[0].name
                if _scope_with_source(scope, root) is None:
                    # ``payload.x`` where no source is called ``payload``: the field ``x``
                    # of a struct column ``payload`` (Trino, Spark, BigQuery without schema).
                    struct = exp.column(root)
                    struct.parent = column.parent
                    found = self._unqualified(scope, struct, quiet=True)
                    if found:
                        return with_path(found, tuple(p.name for p in column.parts[1:]))
                self._warn(f"column {column.sql()!r} refers to an unknown source {table!r}", name)
                return {}
            return self._column_in_source(owner, table, name)
        return self._unqualified(scope, column)

    def _unqualified(self, scope: Scope, column: exp.Column, quiet: bool = False) -> Edges:
        name = column.name
        select = scope.expression
        if isinstance(select, exp.Select) and _in_clause(column, select, "order"):
            # ORDER BY names an output column before an input one.
            aliased = self._projections(select).aliases.get(name)
            if aliased is not None and not _within(column, aliased):
                return self._alias_lineage(scope, aliased)
        # The only table of the innermost SELECT, should no source be known to have it.
        only_table: tuple[Scope, str] | None = None
        current: Scope | None = scope
        while current is not None:
            sources = list(current.selected_sources) or list(current.sources)
            if isinstance(current.expression, exp.Select):
                maybe = [s for s in sources if self._source_may_have(current, s, name)]
                surely = [s for s in maybe if self._source_has(current, s, name)]
                if len(surely) == 1 or len(maybe) == 1:
                    chosen = surely[0] if len(surely) == 1 else maybe[0]
                    if not surely:
                        self.relied_on_query = True
                    return self._column_in_source(current, chosen, name)
                if len(maybe) > 1:
                    self._warn(
                        f"column {name!r} is ambiguous: it may come from any of "
                        f"{', '.join(sorted(maybe))}",
                        name,
                    )
                    return {}
                # GROUP BY / HAVING / QUALIFY may name a projection alias of the same
                # SELECT; a projection itself only through sqlglot's lateral alias
                # expansion, done already where the dialect has lateral aliases.
                aliased = self._projections(current.expression).aliases.get(name)
                if (
                    aliased is not None
                    and current is scope
                    and not _within(column, aliased)
                    and any(_in_clause(column, current.expression, c) for c in _ALIAS_CLAUSES)
                ):
                    return self._alias_lineage(current, aliased)
                if (
                    only_table is None
                    and len(sources) == 1
                    and isinstance(current.sources.get(sources[0]), exp.Table)
                ):
                    only_table = (current, sources[0])
            current = current.parent if _may_correlate(current) else None
        if only_table is not None and not quiet:
            # A stale or partial schema: the query's only table must have the column.
            self.relied_on_query = True
            return self._column_in_source(*only_table, name)
        if not quiet:
            self._warn(f"column {name!r} could not be resolved to any source", name)
        return {}

    def _alias_lineage(self, scope: Scope, alias: exp.Alias) -> Edges:
        """Lineage of a projection named by its alias, guarded against cycles."""
        key = id(alias)
        if key in self._aliases_in_progress:
            return {}
        self._aliases_in_progress.add(key)
        try:
            return self.expression_lineage(scope, alias.this)
        finally:
            self._aliases_in_progress.discard(key)

    def _column_in_source(self, scope: Scope, source_name: str, name: str) -> Edges:
        source = scope.sources.get(source_name)
        if isinstance(source, exp.Table):
            dataset = self.tables.dataset_of(source)
            if dataset is None:
                return {}
            temp = self.tables.temp_tables.get(dataset)
            if temp is not None:
                return temp_column(temp, name)
            known = self.known_columns(dataset)
            if known is None:
                self.relied_on_query = True
            elif name not in known:
                self._warn(_not_in_schema(name, dataset.name, known), name)
            return {(dataset, name): {IDENTITY}}
        if isinstance(source, Scope):
            expression = source.expression
            if isinstance(expression, (exp.Select, exp.SetOperation)):
                return self.field_lineage(source, name)
            if isinstance(expression, exp.Lateral) and isinstance(expression.this, exp.Query):
                inner = self._scope_of.get(id(_unwrap(expression.this)))
                return self.field_lineage(inner, name) if inner else {}
            if isinstance(expression, exp.Values):
                return {}
            # UNNEST / explode / FLATTEN: each produced value is derived from the array.
            edges: Edges = {}
            for node in walk_in_scope(expression):
                if isinstance(node, exp.Column) and not isinstance(node.this, exp.Star):
                    merge_edges(edges, self.column_lineage(source, node), TRANSFORMATION)
            return edges
        return {}

    def _pivot_lineage(self, scope: Scope, alias: str, name: str) -> Edges | None:
        """Columns of ``src PIVOT (...) AS alias`` / ``UNPIVOT``; None if no such pivot.

        PIVOT: a value column (``'jan'``) aggregates the measure for rows whose FOR column
        matches, so measure -> AGGREGATION and FOR column -> CONDITIONAL. UNPIVOT: the value
        column takes each IN column in turn; the name column holds only their names.
        Any other column passes through from the pivoted source.
        """
        for source_name, (node, _source) in scope.selected_sources.items():
            for pivot in node.args.get("pivots") or []:
                if pivot.alias != alias:
                    continue
                edges: Edges = {}
                fields = pivot.args.get("fields") or []
                if pivot.args.get("unpivot"):
                    values = {e.name for e in pivot.expressions}
                    names = {f.this.name for f in fields if isinstance(f, exp.In)}
                    if name in names:
                        return edges
                    if name in values:
                        for field_in in fields:
                            for column in field_in.expressions:
                                if isinstance(column, exp.Column):
                                    merge_edges(edges, self.column_lineage(scope, column))
                        return edges
                elif name in {c.name for c in pivot.args.get("columns") or []}:
                    for measure in pivot.expressions:
                        merge_edges(
                            edges,
                            self.expression_lineage(scope, measure),
                            Transformation.direct(Sub.AGGREGATION),
                        )
                    for field_in in fields:
                        if isinstance(field_in, exp.In):
                            merge_edges(
                                edges, self.expression_lineage(scope, field_in.this), CONDITIONAL
                            )
                    return edges
                return self._column_in_source(scope, source_name, name)
        return None

    def _projections(self, select: exp.Select) -> _Projections:
        """The projections of a SELECT indexed by name (memoised: one pass per SELECT)."""
        memo = self._projection_memo.get(id(select))
        if memo is None:
            memo = _Projections.of(select)
            self._projection_memo[id(select)] = memo
        return memo

    # -- rows: dataset-level lineage ---------------------------------------------------

    def dataset_lineage(self, scope: Scope) -> Edges:
        scope = self._scope_of.get(id(scope.expression), scope)
        memo = self._dataset_memo.get(id(scope))
        if memo is not None:
            return memo
        self._dataset_memo[id(scope)] = {}  # guards recursive CTEs
        edges = self._dataset_lineage(scope)
        self._dataset_memo[id(scope)] = edges
        return edges

    def _dataset_lineage(self, scope: Scope) -> Edges:
        expression = scope.expression
        edges: Edges = {}
        if isinstance(expression, exp.SetOperation):
            left, right = scope.union_scopes[0], scope.union_scopes[1]
            merge_edges(edges, self.dataset_lineage(left))
            merge_edges(edges, self.dataset_lineage(right))
            if isinstance(expression, exp.Except):
                for name in self.output_names(right):
                    merge_edges(edges, self.field_lineage(right, name), FILTER)
            return edges
        if not isinstance(expression, exp.Select):
            return edges

        where = expression.args.get("where")
        if where is not None:
            for condition in _conjuncts(where.this):
                via = JOIN if _joins_two_sources(condition) else FILTER
                merge_edges(edges, self._clause_lineage(scope, condition), via)
        group_by = Transformation.indirect(Sub.GROUP_BY)
        for clause, via in (
            ("having", FILTER),
            ("qualify", FILTER),
            ("group", group_by),
            ("order", Transformation.indirect(Sub.SORT)),
        ):
            node = expression.args.get(clause)
            if node is not None:
                merge_edges(edges, self._clause_lineage(scope, node), via)
        group = expression.args.get("group")
        if group is not None and group.args.get("all"):
            # GROUP BY ALL groups by every projection that is not an aggregate.
            for projection in expression.selects:
                if not is_star(projection) and not projection.find(exp.AggFunc):
                    merge_edges(edges, self.expression_lineage(scope, projection), group_by)
        distinct = expression.args.get("distinct")
        if distinct is not None and distinct.args.get("on") is not None:
            # DISTINCT ON (k) keeps one row per k: a grouping of the rows.
            merge_edges(edges, self._clause_lineage(scope, distinct.args["on"]), group_by)
        for join in expression.args.get("joins") or []:
            on = join.args.get("on")
            if on is not None:
                merge_edges(edges, self._clause_lineage(scope, on), JOIN)
            for using in join.args.get("using") or []:
                for source_name in scope.selected_sources:
                    if self._source_may_have(scope, source_name, using.name):
                        merge_edges(
                            edges, self._column_in_source(scope, source_name, using.name), JOIN
                        )
        # Rows of CTEs, derived tables and temporary tables feed these rows.
        for source_name in scope.selected_sources:
            source = scope.sources.get(source_name)
            if isinstance(source, Scope):
                inner = source
                if isinstance(source.expression, exp.Lateral) and isinstance(
                    source.expression.this, exp.Query
                ):
                    inner = self._scope_of.get(id(_unwrap(source.expression.this)), source)
                merge_edges(edges, self.dataset_lineage(inner))
            elif isinstance(source, exp.Table):
                dataset = self.tables.dataset_of(source)
                temp = self.tables.temp_tables.get(dataset) if dataset else None
                if temp is not None:
                    merge_edges(edges, temp.dataset)
        return edges

    def _clause_lineage(self, scope: Scope, node: exp.Expr) -> Edges:
        """Every column and subquery of a WHERE/ON/GROUP BY/... clause, as DIRECT."""
        edges: Edges = {}
        for inner in walk_in_scope(node):
            if isinstance(inner, exp.Column) and not isinstance(inner.this, exp.Star):
                merge_edges(edges, self.column_lineage(scope, inner))
            elif isinstance(inner, exp.Identifier) and isinstance(inner.parent, exp.Group):
                # sqlglot leaves a BigQuery GROUP BY name that may be an output alias as a
                # bare identifier: the alias's expression, else the source column.
                named = exp.column(inner.copy())
                named.parent = inner.parent
                merge_edges(edges, self._unqualified(scope, named))
            elif inner is not node and id(inner) in self._scope_of:
                child = self._scope_of[id(inner)]
                for name in self.output_names(child):
                    merge_edges(edges, self.field_lineage(child, name))
                merge_edges(edges, self.dataset_lineage(child))
        return edges


@dataclass
class _Projections:
    """A SELECT's projections by output name: the first of each name wins, as in a scan."""

    by_name: dict[str, exp.Expr]
    aliases: dict[str, exp.Alias]
    stars: list[exp.Expr]

    @classmethod
    def of(cls, select: exp.Select) -> _Projections:
        by_name: dict[str, exp.Expr] = {}
        aliases: dict[str, exp.Alias] = {}
        stars: list[exp.Expr] = []
        for projection in select.selects:
            if is_star(projection):
                stars.append(projection)
                continue
            by_name.setdefault(projection.alias_or_name, projection)
            if isinstance(projection, exp.Alias):
                aliases.setdefault(projection.alias, projection)
        return cls(by_name, aliases, stars)


#: Clauses where an unqualified name may be a projection alias of the same SELECT.
_ALIAS_CLAUSES = ("group", "having", "qualify", "order")


def _not_in_schema(name: str, table: str, known: frozenset[str]) -> str:
    folded = [k for k in known if k.lower() == name.lower()]
    if folded:
        return (
            f"column {name!r} is not in the schema of {table}, which has {folded[0]!r} "
            "(identifiers differ in case)"
        )
    return f"column {name!r} is not in the schema of {table}"


def _within(node: exp.Expr, ancestor: exp.Expr) -> bool:
    parent = node.parent
    while parent is not None:
        if parent is ancestor:
            return True
        parent = parent.parent
    return False


def _unwrap(query: exp.Expr) -> exp.Expr:
    while isinstance(query, exp.Subquery):
        query = query.this
    return query


def _in_clause(node: exp.Expr, select: exp.Select, clause: str) -> bool:
    target = select.args.get(clause)
    parent = node.parent
    while parent is not None and parent is not select:
        if parent is target:
            return True
        parent = parent.parent
    return False


def _scope_with_source(scope: Scope, name: str) -> Scope | None:
    """The scope (this one or an enclosing one, for correlated subqueries) defining ``name``."""
    current: Scope | None = scope
    while current is not None:
        if name in current.sources:
            return current
        current = current.parent if _may_correlate(current) else None
    return None


def _may_correlate(scope: Scope) -> bool:
    # Subqueries and lateral sources may read enclosing scopes; CTEs and derived tables
    # may not (their names would not be visible there).
    return scope.parent is not None and not (scope.is_cte or scope.is_derived_table)


def _conjuncts(node: exp.Expr) -> Iterator[exp.Expr]:
    node = strip(node)
    if isinstance(node, exp.And):
        yield from _conjuncts(node.this)
        yield from _conjuncts(node.expression)
    else:
        yield node


def _joins_two_sources(condition: exp.Expr) -> bool:
    """``a.id = b.id`` between two different sources is a join written in WHERE."""
    if not isinstance(condition, exp.EQ):
        return False
    left, right = base_column(condition.this), base_column(condition.expression)
    return (
        isinstance(left, exp.Column)
        and isinstance(right, exp.Column)
        and bool(left.table)
        and bool(right.table)
        and left.table != right.table
    )
