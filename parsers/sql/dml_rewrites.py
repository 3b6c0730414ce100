"""MERGE, UPDATE and DELETE, rewritten into one synthetic SELECT over the target joined
to its sources, then traced like any query::

    MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET t.x = s.x
    -- traced as: SELECT s.x AS __p0 FROM t JOIN s ON t.id = s.id   (x <- __p0)

Each assigned value (and each WHEN condition) is one ``__pN`` projection; the traced
projections are mapped back to the target columns they are assigned to.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from lineage.model import ColumnLineage, DatasetId
from lineage.model import StatementKind as Kind
from parsers.sql.query_tracing import TracedStatement
from parsers.sql.transformations import (
    CONDITIONAL,
    Edges,
    edges_to_input_fields,
    input_fields_to_edges,
    merge_edges,
)

__all__ = ["DmlRewrites"]


class DmlRewrites(TracedStatement):
    """The handlers of MERGE, UPDATE and DELETE."""

    def _merge(self) -> None:
        merge = self.expression
        self.kind = Kind.MERGE
        target_node = merge.this
        target = self._dataset(target_node)
        using = merge.args.get("using")
        if target is None or using is None:
            return
        self.outputs.append(target)
        source_alias = using.alias_or_name
        projections: list[exp.Expr] = []
        # target column -> [(value projection, condition projection or None)]
        assignments: dict[str, list[tuple[str, str | None]]] = {}

        def project(node: exp.Expr) -> str:
            alias = f"__p{len(projections)}"
            projections.append(exp.alias_(node.copy(), alias))
            return alias

        whens = merge.args.get("whens")
        for when in whens.expressions if whens is not None else []:
            then = when.args.get("then")
            condition = when.args.get("condition")
            cond_alias = project(condition) if condition is not None else None
            pairs: list[tuple[str, exp.Expr]] = []
            if isinstance(then, exp.Update):
                for assignment in then.expressions:
                    if isinstance(assignment, exp.Star):
                        pairs.extend(self._star_pairs(using, source_alias))
                    elif isinstance(assignment, exp.EQ):
                        pairs.append((assignment.this.name, assignment.expression))
            elif isinstance(then, exp.Insert):
                if isinstance(then.this, exp.Star) or then.this is None:
                    pairs.extend(self._star_pairs(using, source_alias))
                else:
                    names = [c.name for c in then.this.expressions]
                    values = then.expression.expressions if then.expression is not None else []
                    pairs.extend(zip(names, values, strict=False))
            for name, value in pairs:
                assignments.setdefault(name, []).append((project(value), cond_alias))
        select = exp.Select(expressions=projections or [exp.Literal.number(1)])
        select.set("from_", exp.From(this=_without_joins(target_node)))
        on = merge.args.get("on")
        select.set("joins", [exp.Join(this=using.copy(), on=on.copy() if on is not None else None)])
        if merge.args.get("with_") is not None:  # WITH s AS (...) MERGE INTO t USING s
            select.set("with_", merge.args["with_"].copy())
        self._trace_assignments(select, target, assignments)

    def _star_pairs(self, source: exp.Expr, alias: str) -> list[tuple[str, exp.Expr]]:
        names: Sequence[str] | None = None
        dataset = self._dataset(source)
        if dataset is not None:
            names = self.state.columns_of(dataset)
        elif isinstance(source, exp.Subquery) and not any(
            isinstance(p, exp.Star) for p in source.this.selects
        ):
            names = source.this.named_selects
        if not names:
            self._warn(f"MERGE ... * needs the columns of {source.sql()!r}, which are unknown")
            self.confidence = min(self.confidence, 0.5)
            return []
        return [(name, exp.column(name, table=alias)) for name in names]

    def _update(self) -> None:
        update = self.expression
        self.kind = Kind.UPDATE
        target_node = update.this
        # T-SQL ``UPDATE t SET ... FROM tab1 t JOIN ...``: ``t`` names a FROM table.
        aliased = self._target_in_from(update)
        target = self._dataset(aliased if aliased is not None else target_node)
        if target is None:
            return
        self.outputs.append(target)
        projections: list[exp.Expr] = []
        assignments: dict[str, list[tuple[str, str | None]]] = {}

        def project(column: exp.Expr, value: exp.Expr) -> None:
            alias = f"__p{len(projections)}"
            projections.append(exp.alias_(value.copy(), alias))
            assignments.setdefault(column.name, []).append((alias, None))

        for assignment in update.expressions:
            if not isinstance(assignment, exp.EQ):
                continue
            for column, value in _assigned_pairs(assignment):
                project(column, value)
        select = exp.Select(expressions=projections or [exp.Literal.number(1)])
        if aliased is not None:
            select.set("from_", exp.From(this=_without_joins(aliased)))
            select.set("joins", [j.copy() for j in aliased.args.get("joins") or []])
        else:
            select.set("from_", exp.From(this=_without_joins(target_node)))
            select.set("joins", self._joins(update))
        _copy_clauses(update, select)
        self._trace_assignments(select, target, assignments)

    def _target_in_from(self, update: exp.Expr) -> exp.Table | None:
        """The FROM table an UPDATE's target names by its alias (T-SQL), if any."""
        target = update.this
        from_ = update.args.get("from_")
        if not isinstance(target, exp.Table) or from_ is None or target.args.get("joins"):
            return None
        first = from_.this
        if isinstance(first, exp.Table) and first.alias_or_name == target.alias_or_name:
            return first
        return None

    def _delete(self) -> None:
        delete = self.expression
        self.kind = Kind.DELETE
        target_node = delete.this
        target = self._dataset(target_node)
        if target is None:
            return
        self.outputs.append(target)
        select = exp.Select(expressions=[exp.Literal.number(1)])
        select.set("from_", exp.From(this=_without_joins(target_node)))
        joins = self._joins(delete)
        joins.extend(exp.Join(this=u.copy()) for u in delete.args.get("using") or [])
        select.set("joins", joins)
        _copy_clauses(delete, select)
        self._trace_assignments(select, target, {})

    def _joins(self, statement: exp.Expr) -> list[exp.Join]:
        joins: list[exp.Join] = [j.copy() for j in statement.this.args.get("joins") or []]
        from_ = statement.args.get("from_")
        if from_ is not None:
            joins.append(exp.Join(this=_without_joins(from_.this)))
            joins.extend(j.copy() for j in from_.this.args.get("joins") or [])
        return joins

    def _trace_assignments(
        self,
        select: exp.Select,
        target: DatasetId,
        assignments: dict[str, list[tuple[str, str | None]]],
    ) -> None:
        """Map synthetic projections back to target columns.

        The target's own columns that pick which of its rows change (MERGE's ON, UPDATE's
        and DELETE's WHERE) stay in ``dataset``; the target is an input only when one of
        its values is read into a column (``SET n = t.n + s.n``).
        """
        traced = self._trace(select, None)
        self.inputs.discard(target)
        if traced is None:
            return
        by_alias = {name: inputs for name, inputs in traced.fields}
        fields = []
        for column, sources in assignments.items():
            edges: Edges = {}
            for value_alias, cond_alias in sources:
                merge_edges(edges, input_fields_to_edges(by_alias.get(value_alias, ())))
                if cond_alias is not None:
                    merge_edges(
                        edges, input_fields_to_edges(by_alias.get(cond_alias, ())), CONDITIONAL
                    )
            fields.append((column, edges_to_input_fields(edges)))
            # A target column that only picks the row (a correlated subquery's
            # ``s.id = t.id``) is not a value read: the target is an input only by a DIRECT one.
            self.inputs |= {
                d for (d, _f), via in edges.items() if d != target or any(t.is_direct for t in via)
            }
        self.lineage.append(ColumnLineage(target, tuple(fields), traced.dataset))
        self.inputs |= {i.dataset for i in traced.dataset if i.dataset != target}


def _assigned_pairs(assignment: exp.EQ) -> list[tuple[exp.Expr, exp.Expr]]:
    """``SET c = v`` -> [(c, v)]; ``SET (a, b) = (x, y)`` or ``= (SELECT x, y ...)`` -> one
    pair per column, each with its own value (a subquery keeps only that select item)."""
    column, value = assignment.this, assignment.expression
    if isinstance(column, exp.Paren):
        column = column.this
    if not isinstance(column, exp.Tuple):
        return [(column, value)]
    columns = column.expressions
    if isinstance(value, exp.Tuple):
        return list(zip(columns, value.expressions, strict=False))
    query = value.this if isinstance(value, exp.Subquery) else None
    if isinstance(query, exp.Select) and len(query.expressions) == len(columns):
        pairs: list[tuple[exp.Expr, exp.Expr]] = []
        for position, item in enumerate(columns):
            single = value.copy()
            single.this.set("expressions", [query.expressions[position].copy()])
            pairs.append((item, single))
        return pairs
    # ``SET (a, b) = ROW(...)`` or a query we cannot split: every column from all of it.
    return [(item, value) for item in columns]


def _copy_clauses(statement: exp.Expr, select: exp.Select) -> None:
    """The statement's WHERE and its CTEs (``WITH s AS (...) UPDATE ...``) on ``select``."""
    if statement.args.get("where") is not None:
        select.set("where", statement.args["where"].copy())
    with_ = statement.args.get("with_")
    if with_ is not None:
        select.set("with_", with_.copy())


def _without_joins(table: exp.Expr) -> exp.Expr:
    copy = table.copy()
    copy.set("joins", None)
    return copy
