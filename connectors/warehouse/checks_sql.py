"""The queries of contract checks, built with sqlglot: one scan per table, one sample each.

``connectors.warehouse.checks`` runs them; this module only builds them, so the SQL can
be read and tested without a warehouse. Every row-level constraint is a *violation
predicate* over one column; the scan counts every predicate in one pass::

    SELECT SUM(CASE WHEN "customer_id" IS NULL THEN 1 ELSE 0 END) AS "_c0",   -- not_null
           COUNT("customer_id") - COUNT(DISTINCT "customer_id") AS "_c1",     -- unique
           SUM(CASE WHEN LENGTH("customer_id") > 50 THEN 1 ELSE 0 END) AS "_c2",
           SUM(CASE WHEN NOT "customer_id" IS NULL
                     AND NOT "customer_id" ~ '^(?:CUST[0-9]{4})$' THEN 1 ELSE 0 END) ...
    FROM "silver"."erp_customers"

and a failing constraint gets a bounded ``SELECT <columns> WHERE <predicate> LIMIT n``.
Semantics, as dbt and datacontract-cli have them: NULLs pass every constraint but
not_null; ``unique`` counts the rows beyond the first of each repeated value
(``COUNT(col) - COUNT(DISTINCT col)``, one pass; datacontract-cli counts the repeated
values instead, so the figures differ, never the verdict; the sample reads the repeated
values through a ``GROUP BY ... HAVING COUNT(*) > 1`` subquery); a pattern constraint
must match the *whole* value (anchored as ``^(?:pattern)$``, rendered as the dialect's
regexp: ``~`` on PostgreSQL, ``REGEXP_MATCHES`` on DuckDB) -- readers of formats whose
regexps search (ODCS, Great Expectations) open the unanchored sides with ``.*``; min/max
compare numbers as numbers, dates and timestamps against the ISO text cast to the
column's own type, and text columns as text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from connectors.warehouse.profile_sql import ColumnKind, column_kind, table_expression
from lineage.contracts import Constraint, ConstraintKind
from lineage.errors import InputError
from lineage.model import LiveColumn, LiveTable
from lineage.model.sql_text import sql_text

__all__ = [
    "ConstraintPlan",
    "count_query",
    "plan_constraint",
    "read_only_query",
    "rows_query",
    "sample_query",
    "scan_query",
    "type_mismatch",
    "violation_message",
]

# Statements (anywhere in the tree, CTEs included) a read-only check must never run.
_WRITES: tuple[type[exp.Expr], ...] = (
    exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Create, exp.Drop, exp.Alter,
    exp.TruncateTable, exp.Command, exp.Copy, exp.Grant, exp.Set, exp.Use,
    exp.Transaction, exp.Commit, exp.Rollback, exp.Into, exp.Lock,
)  # fmt: skip


@dataclass(frozen=True)
class ConstraintPlan:
    """One row-level constraint as SQL: how the scan counts it, how a sample finds it.

    ``violation`` is the predicate of an offending row (None for ``unique``, whose
    offence is a property of several rows); ``counted`` the aggregate the scan holds;
    ``threshold`` the human-readable promise (``length <= 50``).
    """

    constraint: Constraint
    column: LiveColumn
    counted: exp.Expr
    violation: exp.Expr | None
    threshold: str


def plan_constraint(constraint: Constraint, column: LiveColumn, dialect: str) -> ConstraintPlan:
    """The SQL of ``constraint`` on ``column`` (the live one) in ``dialect``.

    Raises:
        ValueError: the constraint's value does not fit it or the column (a length that
            is not a whole number, a date bound on a number column, a ``type`` constraint,
            which needs no query).
    """
    kind = constraint.kind
    ref = _column(column.name)
    counted: exp.Expr
    if kind is ConstraintKind.UNIQUE:
        counted = exp.Sub(
            this=exp.Count(this=ref.copy()),
            expression=exp.Count(this=exp.Distinct(expressions=[ref.copy()])),
        )
        return ConstraintPlan(constraint, column, counted, None, "<= 0 duplicates")
    violation, threshold = _violation(constraint, column, dialect)
    counted = exp.Sum(
        this=exp.Case().when(violation.copy(), exp.Literal.number(1)).else_(exp.Literal.number(0))
    )
    return ConstraintPlan(constraint, column, counted, violation, threshold)


def scan_query(table: LiveTable, plans: Sequence[ConstraintPlan], dialect: str) -> exp.Select:
    """One SELECT counting every plan's violations: result position i is plan i's count."""
    projections = [
        exp.Alias(this=plan.counted.copy(), alias=exp.to_identifier(f"_c{index}"))
        for index, plan in enumerate(plans)
    ]
    return exp.select(*projections).from_(table_expression(table.id.name, dialect))


def sample_query(
    table: LiveTable,
    plan: ConstraintPlan,
    columns: Sequence[str],
    limit: int,
    dialect: str,
) -> exp.Select:
    """At most ``limit`` offending rows of ``plan``, showing only ``columns``.

    Repeated values of a unique constraint come sorted by that value, so the copies of
    one value sit together in the sample.
    """
    source = table_expression(table.id.name, dialect)
    select = exp.select(*(_column(name) for name in columns)).from_(source)
    if plan.violation is not None:
        return select.where(plan.violation.copy()).limit(limit)
    ref = _column(plan.column.name)
    repeated = (
        exp.select(ref.copy())
        .from_(table_expression(table.id.name, dialect))
        .where(exp.Not(this=exp.Is(this=ref.copy(), expression=exp.Null())))
        .group_by(ref.copy())
        .having(exp.GT(this=exp.Count(this=exp.Star()), expression=exp.Literal.number(1)))
    )
    return (
        select.where(exp.In(this=ref.copy(), query=exp.Subquery(this=repeated)))
        .order_by(ref.copy())
        .limit(limit)
    )


def type_mismatch(column: LiveColumn, declared: str, dialect: str) -> str | None:
    """Why ``column``'s live type is not ``declared``, or None when it is.

    Both types are read by ``sqlglot.exp.DataType.build`` in the warehouse's dialect, so
    spellings of one type agree (``character varying(50)`` is ``varchar(50)``, DuckDB's
    ``STRING`` is ``VARCHAR``); a declared type without parameters (``varchar``,
    ``numeric``) accepts any length or precision of that type.

    Raises:
        ValueError: ``declared`` is not a type of the dialect.
    """
    if not column.type:
        return f"the warehouse does not say the type of {column.name}"
    try:
        wanted = exp.DataType.build(declared, dialect=dialect)
    except (SqlglotError, ValueError) as exc:
        raise ValueError(f"{declared!r} is not a {dialect} type: {exc}") from exc
    try:
        live = exp.DataType.build(column.type, dialect=dialect)
    except (SqlglotError, ValueError):
        # A type sqlglot does not know: only the same spelling can be the same type.
        same = column.type.strip().lower() == declared.strip().lower()
        return None if same else f"{column.name} is {column.type}, the contract says {declared}"
    if wanted.this == live.this and (not wanted.expressions or wanted == live):
        return None
    shown = sql_text(live, dialect)
    return f"{column.name} is {shown}, the contract says {sql_text(wanted, dialect)}"


def violation_message(constraint: Constraint, column: str, count: int) -> str:
    """One line for the person on call: what ``count`` offending rows of ``column`` did."""
    kind, value = constraint.kind, constraint.value
    values = _count(count, "value")
    if kind is ConstraintKind.NOT_NULL:
        return f"{_count(count, 'row')} of {column} are null"
    if kind is ConstraintKind.UNIQUE:
        return f"{_count(count, 'row')} repeat a value of {column} already seen"
    if kind is ConstraintKind.MAX_LENGTH:
        return f"{values} of {column} are longer than {value} characters"
    if kind is ConstraintKind.MIN_LENGTH:
        return f"{values} of {column} are shorter than {value} characters"
    if kind is ConstraintKind.MIN:
        return f"{values} of {column} are below {value}"
    if kind is ConstraintKind.MAX:
        return f"{values} of {column} are above {value}"
    if kind is ConstraintKind.ACCEPTED_VALUES:
        return f"{values} of {column} are not accepted values"
    return f"{values} of {column} do not match {value}"


def read_only_query(sql: str, dialect: str) -> exp.Query:
    """``sql`` parsed as one read-only query (SELECT, WITH ... SELECT, UNION ...).

    Raises:
        InputError: it does not parse, holds more or fewer than one statement, is not a
            query, or writes anywhere inside (a data-modifying CTE, ``SELECT INTO``,
            ``FOR UPDATE``).
    """
    try:
        statements = [s for s in sqlglot.parse(sql, dialect=dialect) if s is not None]
    except SqlglotError as exc:
        raise InputError(f"the custom SQL does not parse: {exc}") from exc
    if len(statements) != 1:
        raise InputError(f"the custom SQL must be one query, not {len(statements)} statements")
    query = statements[0]
    if not isinstance(query, exp.Query):
        raise InputError(f"the custom SQL must be a SELECT query, not {query.key.upper()}")
    for node in query.walk():
        if isinstance(node, _WRITES):
            raise InputError(f"the custom SQL must only read: it holds {node.key.upper()}")
    return query


def rows_query(query: exp.Query, limit: int) -> exp.Select:
    """``SELECT * FROM (<query>) AS _rows LIMIT limit`` (``query`` is not changed)."""
    return exp.select(exp.Star()).from_(query.copy().subquery("_rows")).limit(limit)


def count_query(query: exp.Query) -> exp.Select:
    """``SELECT COUNT(*) FROM (<query>) AS _rows`` (``query`` is not changed)."""
    return exp.select(exp.Count(this=exp.Star())).from_(query.copy().subquery("_rows"))


def _violation(constraint: Constraint, column: LiveColumn, dialect: str) -> tuple[exp.Expr, str]:
    """The predicate of an offending row and the threshold text of a row-level constraint."""
    kind, value = constraint.kind, constraint.value
    ref = _column(column.name)
    not_null = exp.Not(this=exp.Is(this=ref.copy(), expression=exp.Null()))
    if kind is ConstraintKind.NOT_NULL:
        return exp.Is(this=ref, expression=exp.Null()), "<= 0 nulls"
    if kind in (ConstraintKind.MAX_LENGTH, ConstraintKind.MIN_LENGTH):
        length = _whole_number(value, kind.value)
        measured = exp.Length(this=_as_text(ref, column, dialect))
        limit = exp.Literal.number(length)
        if kind is ConstraintKind.MAX_LENGTH:
            return exp.GT(this=measured, expression=limit), f"length <= {length}"
        return exp.LT(this=measured, expression=limit), f"length >= {length}"
    if kind in (ConstraintKind.MIN, ConstraintKind.MAX):
        bound, shown = _bound(value, column, dialect, kind.value)
        if kind is ConstraintKind.MIN:
            return exp.LT(this=ref, expression=bound), f">= {shown}"
        return exp.GT(this=ref, expression=bound), f"<= {shown}"
    if kind is ConstraintKind.ACCEPTED_VALUES:
        values = (value,) if isinstance(value, str) else value
        if not isinstance(values, tuple) or not values:
            raise ValueError("accepted_values needs a list of values")
        numeric = column_kind(column, dialect) is ColumnKind.NUMBER
        subject = ref if numeric or _is_text(column, dialect) else _as_text(ref, column, dialect)
        literals = [_number(str(v), kind.value) if numeric else exp.Literal.string(str(v))
                    for v in values]  # fmt: skip
        listed = ", ".join(f"'{v}'" for v in values)
        return exp.and_(not_null, exp.Not(this=exp.In(this=subject, expressions=literals))), (
            f"in ({listed})"
        )
    if kind is ConstraintKind.PATTERN:
        if not isinstance(value, str) or not value:
            raise ValueError("pattern needs a regular expression")
        # Anchored: the contract means the whole value, the dialects' regexps a substring.
        anchored = exp.Literal.string(f"^(?:{value})$")
        matches = exp.RegexpLike(this=_as_text(ref, column, dialect), expression=anchored)
        return exp.and_(not_null, exp.Not(this=matches)), f"matches {value} (whole value)"
    raise ValueError(f"{kind.value} is not a row-level constraint")


def _bound(value: object, column: LiveColumn, dialect: str, what: str) -> tuple[exp.Expr, str]:
    """A min/max bound as a literal of the column's kind, and the bound as shown."""
    kind = column_kind(column, dialect) if column.type else ColumnKind.NUMBER
    if isinstance(value, (date, datetime)):  # a YAML reader may hand over a real date
        value = value.isoformat()
    if isinstance(value, bool) or value is None or isinstance(value, tuple):
        raise ValueError(f"{what} needs a number or an ISO date, not {value!r}")
    if kind is ColumnKind.NUMBER:
        return _number(str(value), what), str(value)
    if not isinstance(value, str):
        raise ValueError(f"{what} {value} is a number, but {column.name} is {column.type}")
    if kind is ColumnKind.TEMPORAL:
        _iso(value, what)
        # The ISO text cast to the column's own type: a date compares with a date.
        own = exp.DataType.build(str(column.type), dialect=dialect)
        return exp.cast(exp.Literal.string(value), own), value
    if kind is ColumnKind.TEXT:
        return exp.Literal.string(value), value  # text columns compare as text (ISO sorts)
    raise ValueError(f"{column.name} ({column.type}) has no order for {what}")


def _iso(text: str, what: str) -> None:
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            date.fromisoformat(text)
        except ValueError as exc:
            raise ValueError(f"{what} {text!r} is not an ISO date or timestamp") from exc


def _number(text: str, what: str) -> exp.Expr:
    try:
        float(text)
    except ValueError as exc:
        raise ValueError(f"{what} {text!r} is not a number") from exc
    return exp.Literal.number(text.strip())


def _whole_number(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{what} needs a whole number, not {value!r}")
    try:
        number = float(value)
    except ValueError as exc:
        raise ValueError(f"{what} needs a whole number, not {value!r}") from exc
    if not number.is_integer() or number < 0:
        raise ValueError(f"{what} needs a whole number, not {value!r}")
    return int(number)


def _is_text(column: LiveColumn, dialect: str) -> bool:
    return bool(column.type) and column_kind(column, dialect) is ColumnKind.TEXT


def _as_text(ref: exp.Expr, column: LiveColumn, dialect: str) -> exp.Expr:
    """The column itself when it is text, else cast to text (lengths and regexps of ids)."""
    if _is_text(column, dialect):
        return ref
    return exp.cast(ref, exp.DataType.build("text"))


def _column(name: str) -> exp.Column:
    return exp.column(exp.to_identifier(name, quoted=True))


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}" if number == 1 else f"{number:,} {noun}s"
