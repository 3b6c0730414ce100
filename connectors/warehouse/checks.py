"""Contract checks evaluated in the warehouse: constraints and custom SQL as check results.

``check_constraints(source, table, constraints)`` judges every column constraint of a
contract on the live table and returns one ``lineage.views.CheckResult`` per constraint,
in order. Queries per table (built by ``connectors.warehouse.checks_sql``):

- ONE scan counting the violations of every row-level constraint;
- one bounded sample query (``LIMIT sample_limit``) per violated constraint, showing the
  table's columns minus the sensitive ones (the offending column too, unless sensitive);
- ``type`` constraints need no query: the live type is compared with the declared one.

When the shared scan fails (a bogus regex, a bound the column's type cannot compare), each
constraint is counted again alone, so one bad constraint is one ERROR and the others are
still judged. A temporary failure (a statement timeout, a lost connection) is not retried
per constraint: it would fail as many times; every constraint of that scan is then ERROR.
A constraint on a column the table lacks is ERROR without a query.

``check_custom_sql(source, table, rule)`` runs a rule's own SQL, which must return no
rows. It is user-written, so it must be ONE read-only query (parsed with sqlglot;
anything else is refused), it runs in a read-only transaction on PostgreSQL and Redshift
(DuckDB files are opened read-only anyway), and it is read through
``SELECT * FROM (<sql>) AS _rows LIMIT sample_limit + 1``; only when that finds more rows
than the sample holds is it counted exactly with ``COUNT(*)``.

Freshness, row-count and null-rate rules are judged by ``lineage.checks``; the figures
they need now (row count, null counts, the newest load time) are measured by
``check_table`` in the same scan as the constraints (``connectors.warehouse.figures``),
and the metric history profiling writes gives the rest.

Connections, dialect names, the DuckDB-direct path and statement timeouts are
``connectors.warehouse.profile``'s: a ``duckdb:///path`` URL is opened read-only with the
``duckdb`` package, any other URL or ``Engine`` through SQLAlchemy.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from connectors.warehouse.checks_sql import (
    ConstraintPlan,
    count_query,
    plan_constraint,
    read_only_query,
    rows_query,
    sample_query,
    scan_query,
    type_mismatch,
    violation_message,
)
from connectors.warehouse.figures import FigureRequest, FigureScan, figure_scan
from connectors.warehouse.profile import (
    DuckDBWarehouse,
    SqlAlchemyWarehouse,
    Warehouse,
    driver_sql,
    open_warehouse,
    translate_error,
)
from connectors.warehouse.profile_sql import sqlglot_dialect
from lineage.contracts import Constraint, ConstraintKind, QualityRule, RuleKind, RuleSeverity
from lineage.errors import (
    ConnectorError,
    InputError,
    PermanentConnectorError,
    TemporaryConnectorError,
)
from lineage.model import DatasetProfile, LiveColumn, LiveTable
from lineage.model.sql_text import sql_text
from lineage.views import CheckResult, CheckStatus

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

__all__ = [
    "DEFAULT_SAMPLE_LIMIT",
    "TableCheck",
    "check_constraints",
    "check_custom_sql",
    "check_table",
]

#: Offending rows kept per failed check.
DEFAULT_SAMPLE_LIMIT = 5
_READ_ONLY_DIALECTS = frozenset({"postgres", "redshift"})


@dataclass(frozen=True)
class _Context:
    """What every result of one call shares."""

    table: LiveTable
    sensitive: frozenset[str]  # lower-cased
    sample_limit: int
    timeout_s: float | None
    observed_at: datetime
    run_id: str | None

    def result(
        self, label: str, status: CheckStatus, column: str | None, details: Mapping[str, Any]
    ) -> CheckResult:
        return CheckResult(
            self.table.id, label, status, self.observed_at, column, self.run_id,
            {k: v for k, v in details.items() if v is not None},
        )  # fmt: skip

    def visible_columns(self) -> list[str]:
        return [c.name for c in self.table.columns if c.name.lower() not in self.sensitive]


def check_constraints(
    source: str | Engine,
    table: LiveTable,
    constraints: Sequence[Constraint],
    *,
    sensitive_columns: Collection[str] = (),
    sample_limit: int = DEFAULT_SAMPLE_LIMIT,
    statement_timeout_s: float | None = None,
    now: datetime | None = None,
    run_id: str | None = None,
) -> list[CheckResult]:
    """Judge ``constraints`` on the live ``table`` (see the module's docstring).

    Args:
        source: a SQLAlchemy URL (``duckdb:///path`` included) or an engine.
        table: the table as introspected; ``table.id.name`` is ``database.schema.table``.
        constraints: the contract's column constraints; each gives one result.
        sensitive_columns: columns never shown in a sample (compared case-insensitively).
        sample_limit: the most offending rows a result keeps.
        statement_timeout_s: a time limit per query.
        now: the results' ``observed_at`` (default: the current UTC time).
        run_id: the run the results belong to.

    Returns:
        One result per constraint, in order: PASSED, FAILED (severity error) or WARNING
        (severity warning) when violated, ERROR when it could not be checked; ``details``
        holds ``observed``, ``threshold``, ``message``, ``sample``, ``source``, ``sql``
        and ``severity``.

    Raises:
        ConnectorError: the source itself cannot be opened or reached.
    """
    return check_table(
        source, table, constraints, sensitive_columns=sensitive_columns,
        sample_limit=sample_limit, statement_timeout_s=statement_timeout_s, now=now,
        run_id=run_id,
    ).results  # fmt: skip


@dataclass(frozen=True)
class TableCheck:
    """The constraints' results and, when asked for, the live figures of the same scan
    (``figures_error``: why they could not be measured)."""

    results: list[CheckResult]
    figures: DatasetProfile | None = None
    figures_error: str | None = None


def check_table(
    source: str | Engine,
    table: LiveTable,
    constraints: Sequence[Constraint],
    *,
    figures: FigureRequest | None = None,
    sensitive_columns: Collection[str] = (),
    sample_limit: int = DEFAULT_SAMPLE_LIMIT,
    statement_timeout_s: float | None = None,
    now: datetime | None = None,
    run_id: str | None = None,
) -> TableCheck:
    """``check_constraints``, and the ``figures`` freshness, row-count and null-rate rules
    judge measured in the same scan of the table (``connectors.warehouse.figures``)."""
    context = _context(table, sensitive_columns, sample_limit, statement_timeout_s, now, run_id)
    dialect = _source_dialect(source)
    results: dict[int, CheckResult] = {}
    plans: dict[int, ConstraintPlan] = {}
    for index, constraint in enumerate(constraints):
        outcome = _prepare(context, constraint, dialect)
        if isinstance(outcome, CheckResult):
            results[index] = outcome
        else:
            plans[index] = outcome
    measured: DatasetProfile | None = None
    error: str | None = None
    if plans or figures is not None:
        with open_warehouse(source) as warehouse:
            scan = figure_scan(table, figures, warehouse.dialect) if figures else None
            judged, measured, error = _judge_plans(warehouse, context, plans, scan)
            results.update(judged)
    return TableCheck([results[index] for index in range(len(constraints))], measured, error)


def check_custom_sql(
    source: str | Engine,
    table: LiveTable,
    rule: QualityRule,
    *,
    sensitive_columns: Collection[str] = (),
    sample_limit: int = DEFAULT_SAMPLE_LIMIT,
    statement_timeout_s: float | None = None,
    now: datetime | None = None,
    run_id: str | None = None,
) -> CheckResult:
    """Judge a custom-SQL rule: its query must return no rows (see the module's docstring).

    The options are ``check_constraints``'s. SQL that is not one read-only query, or
    that fails, is an ERROR result; the rows found are the sample (minus sensitive
    columns) and their number is ``observed``.

    Raises:
        ConnectorError: the source itself cannot be opened or reached.
    """
    context = _context(table, sensitive_columns, sample_limit, statement_timeout_s, now, run_id)
    base = _base_details(rule.severity, rule.source)
    if rule.kind is not RuleKind.CUSTOM_SQL or not rule.sql:
        message = f"{rule.label} is not a custom SQL rule with SQL"
        return context.result(rule.label, CheckStatus.ERROR, None, {**base, "message": message})
    with open_warehouse(source) as warehouse:
        try:
            query = read_only_query(rule.sql, warehouse.dialect)
        except InputError as exc:
            details = {**base, "message": f"refused: {exc.message}"}
            return context.result(rule.label, CheckStatus.ERROR, None, details)
        sql = sql_text(rows_query(query, context.sample_limit + 1), warehouse.dialect)
        details = {**base, "sql": sql, "threshold": "0 rows"}
        try:
            names, rows = _fetch_rows(
                warehouse, sql, context.sample_limit + 1, context, read_only=True
            )
            found = len(rows)
            if found > context.sample_limit:  # more than the sample: count them all
                counted = sql_text(count_query(query), warehouse.dialect)
                found = int(_fetch_rows(warehouse, counted, 1, context, read_only=True)[1][0][0])
        except ConnectorError as exc:
            details["message"] = f"the query failed: {exc.message}"
            return context.result(rule.label, CheckStatus.ERROR, None, details)
    details["observed"] = found
    if not found:
        details["message"] = "the query returned no rows"
        return context.result(rule.label, CheckStatus.PASSED, None, details)
    shown = [i for i, name in enumerate(names) if name.lower() not in context.sensitive]
    details["sample"] = [
        {names[i]: _jsonable(row[i]) for i in shown} for row in rows[: context.sample_limit]
    ]
    details["message"] = f"the query returned {_count(found, 'row')}, expected none"
    return context.result(rule.label, _violated(rule.severity), None, details)


def _context(
    table: LiveTable,
    sensitive_columns: Collection[str],
    sample_limit: int,
    timeout_s: float | None,
    now: datetime | None,
    run_id: str | None,
) -> _Context:
    return _Context(
        table, frozenset(c.lower() for c in sensitive_columns), max(0, sample_limit),
        timeout_s, now or datetime.now(timezone.utc), run_id,
    )  # fmt: skip


def _prepare(
    context: _Context, constraint: Constraint, dialect: str
) -> ConstraintPlan | CheckResult:
    """The constraint's plan, or its result when it needs no query (or cannot have one)."""
    base = _base_details(constraint.severity, constraint.source)
    column = _column(context.table, constraint.column)
    if column is None:
        message = f"no column {constraint.column} in {context.table.id.name}"
        return context.result(
            constraint.label, CheckStatus.ERROR, constraint.column, {**base, "message": message}
        )
    if constraint.kind is ConstraintKind.TYPE:
        return _judge_type(context, constraint, column, dialect, base)
    try:
        return plan_constraint(constraint, column, dialect)
    except ValueError as exc:
        details = {**base, "message": str(exc)}
        return context.result(constraint.label, CheckStatus.ERROR, column.name, details)


def _judge_type(
    context: _Context,
    constraint: Constraint,
    column: LiveColumn,
    dialect: str,
    base: dict[str, Any],
) -> CheckResult:
    declared = str(constraint.value or "")
    details: dict[str, Any] = {**base, "threshold": f"type {declared}", "observed": column.type}
    try:
        mismatch = type_mismatch(column, declared, dialect)
    except ValueError as exc:
        details["message"] = str(exc)
        return context.result(constraint.label, CheckStatus.ERROR, column.name, details)
    if mismatch is None:
        details["message"] = f"{column.name} is {column.type}"
        return context.result(constraint.label, CheckStatus.PASSED, column.name, details)
    details["message"] = mismatch
    return context.result(constraint.label, _violated(constraint.severity), column.name, details)


def _judge_plans(
    warehouse: Warehouse,
    context: _Context,
    plans: Mapping[int, ConstraintPlan],
    figures: FigureScan | None = None,
) -> tuple[dict[int, CheckResult], DatasetProfile | None, str | None]:
    """Count every plan, and measure ``figures``, in one scan (or one by one if it
    fails), then sample the violated."""
    ordered = list(plans.items())
    scan = scan_query(context.table, [p for _, p in ordered], warehouse.dialect)
    if figures is not None:
        scan = scan.select(*(p.copy() for p in figures.projections))
    sql = sql_text(scan, warehouse.dialect, identify=True)
    counts: dict[int, int | ConnectorError] = {}
    sqls: dict[int, str] = {}
    measured: DatasetProfile | None = None
    error: str | None = None
    try:
        row = _fetch_one(warehouse, sql, context)
        counts = {index: _int(value) for (index, _), value in zip(ordered, row, strict=False)}
        sqls = dict.fromkeys(plans, sql)
        if figures is not None:
            measured = figures.decode(context.table, row[len(ordered):], context.observed_at)
    except ConnectorError as exc:
        if len(ordered) + (figures is not None) == 1 or isinstance(exc, TemporaryConnectorError):
            counts = dict.fromkeys(plans, exc)
            sqls = dict.fromkeys(plans, sql)
            error = exc.message if figures is not None else None
        else:  # find what broke the scan: count each constraint alone, the figures apart
            for index, plan in ordered:
                alone = scan_query(context.table, [plan], warehouse.dialect)
                sqls[index] = sql_text(alone, warehouse.dialect, identify=True)
                try:
                    counts[index] = _int(_fetch_one(warehouse, sqls[index], context)[0])
                except ConnectorError as single:
                    counts[index] = single
            if figures is not None:
                measured, error = _measure_alone(warehouse, context, figures)
    results = {
        index: _verdict(warehouse, context, plan, counts[index], sqls[index])
        for index, plan in ordered
    }
    return results, measured, error


def _measure_alone(
    warehouse: Warehouse, context: _Context, figures: FigureScan
) -> tuple[DatasetProfile | None, str | None]:
    sql = sql_text(figures.query(), warehouse.dialect, identify=True)
    try:
        row = _fetch_one(warehouse, sql, context)
    except ConnectorError as exc:
        return None, exc.message
    return figures.decode(context.table, row, context.observed_at), None


def _verdict(
    warehouse: Warehouse,
    context: _Context,
    plan: ConstraintPlan,
    counted: int | ConnectorError,
    sql: str,
) -> CheckResult:
    constraint, column = plan.constraint, plan.column.name
    details: dict[str, Any] = {
        **_base_details(constraint.severity, constraint.source),
        "threshold": plan.threshold,
        "sql": sql,
    }
    if isinstance(counted, ConnectorError):
        details["message"] = f"the query failed: {counted.message}"
        return context.result(constraint.label, CheckStatus.ERROR, column, details)
    details["observed"] = counted
    if counted == 0:
        details["message"] = f"{constraint.label} holds on every row"
        return context.result(constraint.label, CheckStatus.PASSED, column, details)
    message = violation_message(constraint, column, counted)
    shown = context.visible_columns()
    if shown and context.sample_limit:
        sampled = sample_query(context.table, plan, shown, context.sample_limit, warehouse.dialect)
        try:
            names, rows = _fetch_rows(
                warehouse, sql_text(sampled, warehouse.dialect, identify=True),
                context.sample_limit, context,
            )  # fmt: skip
            details["sample"] = [
                {n: _jsonable(v) for n, v in zip(names, r, strict=True)} for r in rows
            ]
        except ConnectorError as exc:  # the count stands; say why the sample is missing
            message = f"{message} (no sample: {exc.message})"
    else:
        details["sample"] = []
    details["message"] = message
    return context.result(constraint.label, _violated(constraint.severity), column, details)


def _fetch_one(warehouse: Warehouse, sql: str, context: _Context) -> Sequence[Any]:
    """The one row of an aggregate query, in its own transaction."""
    rows = _fetch_rows(warehouse, sql, 1, context)[1]
    if not rows:  # an aggregate SELECT always has one row; say so if it had none
        raise PermanentConnectorError("the check query returned no row")
    return rows[0]


def _fetch_rows(
    warehouse: Warehouse, sql: str, limit: int, context: _Context, *, read_only: bool = False
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The column names and at most ``limit`` rows of ``sql``, in its own transaction."""
    try:
        with warehouse.transaction(context.timeout_s):
            if isinstance(warehouse, DuckDBWarehouse):
                connection = warehouse.connection
                with _interrupt_after(connection, context.timeout_s):
                    cursor = connection.execute(sql)
                    names = [str(d[0]) for d in cursor.description]
                    return names, [tuple(r) for r in cursor.fetchmany(limit)]
            if not isinstance(warehouse, SqlAlchemyWarehouse):
                raise TypeError(f"unknown warehouse {type(warehouse).__name__}")
            if read_only and warehouse.dialect in _READ_ONLY_DIALECTS:
                # Defence in depth: the parser refused writes; the server refuses them too.
                warehouse.connection.exec_driver_sql("SET TRANSACTION READ ONLY")
            connection = warehouse.connection
            result = connection.exec_driver_sql(driver_sql(connection, sql))
            names = [str(key) for key in result.keys()]  # noqa: SIM118 (a Result, not a dict)
            return names, [tuple(r) for r in result.fetchmany(limit)]
    except ConnectorError:
        raise
    except Exception as exc:
        raise translate_error(exc, context.table.id.name) from exc


@contextmanager
def _interrupt_after(connection: Any, timeout_s: float | None) -> Iterator[None]:
    """DuckDB has no statement timeout setting: interrupt the query from a timer."""
    if timeout_s is None:
        yield
        return
    timer = threading.Timer(timeout_s, connection.interrupt)
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def _source_dialect(source: str | Engine) -> str:
    """The sqlglot dialect of a URL or engine, known before (and without) connecting.

    Type constraints need no query, so a table with only those never opens the source.
    """
    if not isinstance(source, str):
        return sqlglot_dialect(source.dialect.name)
    from sqlalchemy.engine import make_url

    try:
        return sqlglot_dialect(make_url(source).get_backend_name())
    except Exception:  # not a URL: opening it says so, with the redacted URL
        with open_warehouse(source) as warehouse:
            return warehouse.dialect


def _column(table: LiveTable, name: str) -> LiveColumn | None:
    wanted = name.lower()
    return next((c for c in table.columns if c.name.lower() == wanted), None)


def _base_details(severity: RuleSeverity, source: object) -> dict[str, Any]:
    return {"severity": severity.value, "source": None if source is None else str(source)}


def _violated(severity: RuleSeverity) -> CheckStatus:
    return CheckStatus.WARNING if severity is RuleSeverity.WARNING else CheckStatus.FAILED


def _int(value: Any) -> int:
    return 0 if value is None else int(value)  # SUM over no rows is NULL: nothing violated


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}" if number == 1 else f"{number:,} {noun}s"


def _jsonable(value: Any) -> Any:
    """A sample value as JSON can hold it: ISO text for times, numbers for decimals."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(bytes(value))} bytes>"
    return str(value)
