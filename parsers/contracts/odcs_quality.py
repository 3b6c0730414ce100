"""ODCS ``quality[]`` items as constraints and rules (see ``parsers.contracts.odcs``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lineage.contracts import Constraint, ConstraintKind, QualityRule, RuleKind, RuleSeverity
from lineage.model.sql_text import sql_text
from parsers.contracts.context import Context, search_pattern, severity_of
from parsers.contracts.document import Path

__all__ = ["OPERATORS", "QualityTarget", "read_quality", "threshold_sql"]

OPERATORS = ("mustBe", "mustNotBe", "mustBeGreaterThan", "mustBeGreaterOrEqualTo",
             "mustBeLessThan", "mustBeLessOrEqualTo", "mustBeBetween", "mustNotBeBetween")
_METRICS = {
    **dict.fromkeys(("nullvalues", "nullcount", "nullcheck", "notnull"), "null"),
    "missingvalues": "missing",
    **dict.fromkeys(("duplicatevalues", "duplicatecount", "uniquecheck", "unique"),
                    "duplicate"),
    **dict.fromkeys(("invalidvalues", "invalidcount", "validvalues"), "invalid"),
    **dict.fromkeys(("rowcount", "row_count"), "rows"),
}


@dataclass(frozen=True)
class QualityTarget:
    """What a quality item is about: the table, the column (None at schema level)."""

    table: str
    column: str | None
    dialect: str | None


def read_quality(
    ctx: Context, item: Mapping[str, Any], path: Path, target: QualityTarget
) -> list[Constraint | QualityRule]:
    """One ``quality[]`` item; what it cannot state becomes an issue in ``ctx``."""
    try:
        return _read(ctx, item, path, target)
    except (TypeError, ValueError) as exc:  # a threshold of the wrong kind (mustBe: many)
        ctx.issue(f"unreadable quality rule: {exc}", path)
        return []


def _read(
    ctx: Context, item: Mapping[str, Any], path: Path, target: QualityTarget
) -> list[Constraint | QualityRule]:
    kind = str(item.get("type") or "library").lower()
    try:
        severity = severity_of(item.get("severity"))
    except ValueError:
        severity = RuleSeverity.ERROR
    name = None if item.get("name") is None else str(item["name"])
    operator = next(((op, item[op]) for op in OPERATORS if op in item), None)
    if kind == "text":
        return []  # prose for people
    if kind == "custom":
        ctx.issue(f"vendor-specific rule ({item.get('engine', 'custom')}) is not checked", path)
        return []
    if kind == "sql":
        return _sql(ctx, item, path, target, operator, severity, name)
    metric = _METRICS.get(str(item.get("metric") or item.get("rule") or "").lower())
    if metric is None:
        ctx.issue(f"unknown quality metric {item.get('metric') or item.get('rule')!r}", path)
        return []
    if metric == "rows":
        return _row_count(ctx, path, operator, severity, name)
    if target.column is None:
        ctx.issue(f"{item.get('metric') or item.get('rule')} needs a property; put it in the "
                  "property's quality list", path)
        return []
    return _column_metric(ctx, item, path, target.column, metric, operator, severity, name)


def _column_metric(
    ctx: Context, item: Mapping[str, Any], path: Path, column: str, metric: str,
    operator: tuple[str, Any] | None, severity: RuleSeverity, name: str | None,
) -> list[Constraint | QualityRule]:
    args = item.get("arguments") or {}
    percent = str(item.get("unit") or "").lower() in ("percent", "%", "percentage")
    upper = _upper_bound(operator, counts=not percent)
    src = ctx.source(path)
    if metric == "missing" and not args.get("missingValues"):
        metric = "null"  # no list of "missing" markers: missing means null
    if metric == "null" and percent and upper is not None:
        return [QualityRule(RuleKind.NULL_RATE, severity, column=column, max_rate=upper / 100,
                            source=src, name=name)]
    zero = upper is not None and upper < 1 and not percent
    if metric == "null" and zero:
        return [Constraint(ConstraintKind.NOT_NULL, column, None, severity, src, name)]
    if metric == "duplicate" and zero:
        return [Constraint(ConstraintKind.UNIQUE, column, None, severity, src, name)]
    if metric == "invalid" and zero:
        valid = args.get("validValues", item.get("validValues"))
        if isinstance(valid, list) and valid:
            return [Constraint(ConstraintKind.ACCEPTED_VALUES, column,
                               tuple(str(v) for v in valid), severity, src, name)]
        if args.get("pattern"):
            pattern = search_pattern(str(args["pattern"]))  # ECMA-262 searches
            return [Constraint(ConstraintKind.PATTERN, column, pattern, severity, src, name)]
    ctx.issue(f"{item.get('metric') or item.get('rule')} with {_said(operator, percent)} "
              "cannot be checked (use a zero threshold, unit: percent for null rates, or a "
              "sql rule)", path)
    return []


def _row_count(
    ctx: Context, path: Path, operator: tuple[str, Any] | None, severity: RuleSeverity,
    name: str | None,
) -> list[Constraint | QualityRule]:
    op, value = operator or ("", None)
    lows: dict[str, Callable[[Any], int]] = {
        "mustBeGreaterThan": lambda v: int(v) + 1, "mustBeGreaterOrEqualTo": int,
        "mustBe": int, "mustBeBetween": lambda v: int(v[0])}
    low = lows.get(op)
    if low is None:
        ctx.issue(f"rowCount with {_said(operator, False)} cannot be checked (only a lower "
                  "bound: mustBeGreaterThan, mustBeGreaterOrEqualTo, mustBeBetween)", path)
        return []
    minimum = low(value)
    if op in ("mustBe", "mustBeBetween"):
        ctx.issue(f"rowCount {op}: only the lower bound is checked", path)
    return [QualityRule(RuleKind.ROW_COUNT_MIN, severity, minimum=minimum,
                        source=ctx.source(path), name=name)]


def _sql(
    ctx: Context, item: Mapping[str, Any], path: Path, target: QualityTarget,
    operator: tuple[str, Any] | None, severity: RuleSeverity, name: str | None,
) -> list[Constraint | QualityRule]:
    query = str(item.get("query") or "")
    for placeholder in ("${table}", "${object}", "{object}", "{table}"):
        query = query.replace(placeholder, target.table)
    if target.column:
        for placeholder in ("${column}", "${property}", "{property}", "{column}"):
            query = query.replace(placeholder, target.column)
    if operator is not None:
        try:
            query = threshold_sql(query, operator, target.dialect)
        except ValueError as exc:
            ctx.issue(f"sql rule: {exc}", (*path, "query"))
            return []
    return [QualityRule(RuleKind.CUSTOM_SQL, severity, column=target.column, sql=query,
                        source=ctx.source(path), name=name)]


def threshold_sql(query: str, operator: tuple[str, Any], dialect: str | None) -> str:
    """SQL returning a row exactly when ``query``'s first value breaks the threshold.

    Raises:
        ValueError: the query does not parse, is no SELECT, or the operator has no value.
    """
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    try:
        parsed = sqlglot.parse_one(query, dialect=dialect)
    except SqlglotError as exc:
        raise ValueError(f"query does not parse: {str(exc).splitlines()[0]}") from None
    if not isinstance(parsed, exp.Select) or not parsed.selects:
        raise ValueError("a thresholded query must be one SELECT of a value")
    first = parsed.selects[0]
    parsed.selects[0].replace(exp.alias_(first.unalias().copy(), "observed_value"))
    value = exp.column("observed_value")
    op, bound = operator

    def lit(v: Any) -> exp.Expr:
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise ValueError(f"{op} needs a number, got {v!r}")
        return exp.Literal.number(v)

    if op in ("mustBeBetween", "mustNotBeBetween"):
        if not isinstance(bound, list) or len(bound) != 2:
            raise ValueError(f"{op} needs [low, high]")
        holds: exp.Expr = exp.Between(this=value, low=lit(bound[0]), high=lit(bound[1]))
        if op == "mustNotBeBetween":
            holds = exp.not_(exp.paren(holds))
    else:
        compare = {"mustBe": exp.EQ, "mustNotBe": exp.NEQ, "mustBeGreaterThan": exp.GT,
                   "mustBeGreaterOrEqualTo": exp.GTE, "mustBeLessThan": exp.LT,
                   "mustBeLessOrEqualTo": exp.LTE}[op]
        holds = compare(this=value, expression=lit(bound))
    check = exp.select("*").from_(parsed.subquery("odcs_result")).where(
        exp.not_(exp.paren(holds)))
    return sql_text(check, dialect)


def _upper_bound(operator: tuple[str, Any] | None, *, counts: bool) -> float | None:
    """The largest value a threshold allows, None if unbounded; for ``counts`` (whole
    numbers) ``< 1`` allows 0, for percentages ``< 5`` is read as at most 5."""
    if operator is None:
        return None
    op, value = operator
    if op == "mustBeBetween" and isinstance(value, list) and len(value) == 2:
        return float(value[1])
    if op == "mustBeLessThan" and isinstance(value, int | float):
        return float(value) - 1 if counts and float(value).is_integer() else float(value)
    if op in ("mustBe", "mustBeLessOrEqualTo") and isinstance(value, int | float):
        return float(value)
    return None


def _said(operator: tuple[str, Any] | None, percent: bool) -> str:
    if operator is None:
        return "no threshold"
    return f"{operator[0]} {operator[1]}{' %' if percent else ''}"
