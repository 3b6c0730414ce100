"""The upstream cause of a failed check, through column lineage.

A failed column check names its DIRECT chain down to the root column and the expression
on the way (``<- bronze.erp_cust_az12.bdate, TRY_CAST``), then the INDIRECT columns
(filters, joins) that shape it, so the person on call starts at the cause.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from lineage.graph import LineageGraph
from lineage.model import ColumnId, Job
from lineage.views import CheckResult, CheckStatus

__all__ = ["JobExpressions", "with_cause"]

_CAUSE_LIMIT = 5  # INDIRECT upstream columns named per failed check (DIRECT: all)


class JobExpressions:
    """What a job's SQL computes an output column with (``TRY_CAST``, ``CASE``), from
    the SQL of ``jobs`` (those of the lineage walked); None for a plain column or no SQL.
    Each job's SQL is parsed on first use only."""

    def __init__(self, jobs: Iterable[Job], dialect: str | None) -> None:
        self._dialect = dialect
        self._sql: dict[str, list[str]] = {}
        for job in jobs:
            if job.sql:
                self._sql.setdefault(job.name, []).append(job.sql)
        self._parsed: dict[str, list[Any]] = {}

    def name(self, job: str | None, column: str) -> str | None:
        if job is None:
            return None
        for statements in self._statements(job):
            for projection in statements:
                if projection.alias_or_name.lower() == column.lower():
                    return _function_name(projection)
        return None

    def _statements(self, job: str) -> list[Any]:
        """Per SQL text of ``job``: the projections of its outermost SELECTs."""
        if job not in self._parsed:
            import sqlglot
            from sqlglot import exp
            from sqlglot.errors import SqlglotError

            found: list[Any] = []
            for text in self._sql.get(job, []):
                try:
                    parsed = sqlglot.parse(text, read=self._dialect)
                except SqlglotError:
                    continue  # not SQL sqlglot reads: no name rather than a guess
                for statement in parsed:
                    query = (
                        statement
                        if isinstance(statement, exp.Query)
                        else (statement.expression if statement is not None else None)
                    )
                    if isinstance(query, exp.Query):
                        found.append(query.selects)
            self._parsed[job] = found
        return self._parsed[job]


def _function_name(projection: Any) -> str | None:
    from sqlglot import exp

    node = projection.unalias()
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.Column):
        return None  # the column itself, renamed at most
    if isinstance(node, exp.Anonymous):
        return str(node.name).upper()
    if isinstance(node, exp.Func):
        return str(node.sql_name())
    return type(node).__name__.upper()


def with_cause(
    graph: LineageGraph, result: CheckResult, expressions: JobExpressions
) -> CheckResult:
    """A failed column check with the upstream columns it comes from: the DIRECT chain
    first, nearest to root (``bronze.erp_cust_az12.bdate``), each with the expression
    that made it (``TRY_CAST``), then the INDIRECT columns (filters, joins) that shape
    it; the message ends with the root: ``... <- bronze.erp_cust_az12.bdate, TRY_CAST``."""
    if result.status not in (CheckStatus.FAILED, CheckStatus.WARNING) or result.column is None:
        return result
    impact = graph.upstream(ColumnId(result.dataset, result.column))
    direct = [e for e in impact.columns if e.direct]
    indirect = [e for e in impact.columns if not e.direct][:_CAUSE_LIMIT]
    if not direct and not indirect:
        return result
    # A root: a DIRECT column no other DIRECT column's path goes through.
    through = {n for e in direct for h in e.path for n in (h.source, h.target) if n != e.node}
    roots = [e for e in direct if e.node not in through]
    details = dict(result.details)
    details["upstream"] = [_cause(e, expressions) for e in (*direct, *indirect)]
    message = details.get("message")
    if roots:
        names = [_column_name(e.node) for e in roots]
        functions = list(dict.fromkeys(
            f for e in roots for h in e.path
            if isinstance(h.target, ColumnId)
            and (f := expressions.name(h.job, h.target.name)) is not None
        ))  # fmt: skip
        details["root_cause"] = names
        if functions:
            details["transformation"] = ", ".join(functions)
        cause = " + ".join(names) + "".join(f", {f}" for f in functions)
    else:
        cause = details["upstream"][0]
    if isinstance(message, str):
        details["message"] = f"{message} <- {cause}"
    return replace(result, details=details)


def _cause(entry: Any, expressions: JobExpressions) -> str:
    """``bronze.erp_cust_az12.bdate (DIRECT/TRANSFORMATION via erp.stg, TRY_CAST)``."""
    hop = entry.path[-1] if entry.path else None
    how = (
        ", ".join(f"{t.type.value}/{t.subtype.value}" for t in hop.transformations)
        if (hop is not None and hop.transformations)
        else ("DIRECT" if entry.direct else "INDIRECT")
    )
    via = f" via {hop.job}" if hop is not None and hop.job else ""
    function = None
    if entry.direct and hop is not None and isinstance(hop.target, ColumnId):
        function = expressions.name(hop.job, hop.target.name)
    return f"{_column_name(entry.node)} ({how}{via}{f', {function}' if function else ''})"


def _column_name(node: Any) -> str:
    assert isinstance(node, ColumnId)
    return f"{node.dataset.name}.{node.name}"
