"""Lint: what in a contract cannot hold against the dataset's documented and live schemas."""

from __future__ import annotations

from lineage.contracts.values import TODAY, Constraint, ConstraintKind, Contract, Source
from lineage.model import LiveTable, ParseIssue, Schema

__all__ = ["lint", "type_family"]

# The logical type names contracts write (seed, ODCS logicalType) whatever the warehouse.
_LOGICAL_TYPES = {"string": "string", "text": "string", "integer": "number", "int": "number",
                  "number": "number", "decimal": "number", "float": "number",
                  "boolean": "boolean", "bool": "boolean", "date": "date",
                  "timestamp": "timestamp", "datetime": "timestamp", "time": "time"}


def type_family(type_text: str, dialect: str | None = None) -> str | None:
    """The family of a SQL type: string, number, boolean, date, timestamp, time; None for
    the others (JSON, binary, arrays ...), which lint does not compare.

    Raises:
        ValueError: ``type_text`` is not a type of ``dialect`` (nor a logical type name).
    """
    logical = _LOGICAL_TYPES.get(type_text.strip().lower())
    if logical:
        return logical
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    try:
        built = exp.DataType.build(type_text, dialect=dialect, udt=False)
    except (SqlglotError, ValueError) as exc:
        raise ValueError(f"{type_text!r} is not a type of {dialect or 'SQL'}") from exc
    kind = built.this
    types = exp.DataType.Type
    if kind in exp.DataType.TEXT_TYPES or kind in (types.CHAR, types.NCHAR, types.NAME):
        return "string"
    if kind in exp.DataType.INTEGER_TYPES or kind in exp.DataType.REAL_TYPES:
        return "number"
    if kind is types.BOOLEAN:
        return "boolean"
    if kind in (types.DATE, types.DATE32):
        return "date"
    if kind in (types.TIME, types.TIMETZ):
        return "time"
    if kind in exp.DataType.TEMPORAL_TYPES:
        return "timestamp"
    return None


def lint(
    contract: Contract,
    *,
    documented: Schema | None = None,
    live: LiveTable | None = None,
    dialect: str | None = None,
) -> list[ParseIssue]:
    """What in ``contract`` cannot hold against the dataset's schemas, with file and line.

    Unknown columns (against the live schema, else the documented one; the message says
    which), a declared type that is no type of ``dialect`` or whose family contradicts the
    live type, and constraints meaningless for the column's type (max_length on a number,
    min on a boolean, a date bound that is no date). A not_null field over a nullable
    live column is fine: the check tests the rows.
    """
    issues: list[ParseIssue] = []
    columns: dict[str, str | None] | None = None
    where = ""
    if live is not None:
        columns = {c.name.lower(): c.type for c in live.columns}
        where = f"the live schema of {live.id.name}"
    elif documented is not None:
        columns = {f.name.lower(): f.type for f in documented.fields}
        where = "the documented schema"

    def report(message: str, source: Source | None) -> None:
        src = source or contract.source
        issues.append(ParseIssue(message, line=src.line, file=src.file))

    for field in contract.fields:
        known = columns is not None and field.name.lower() in columns
        if columns is not None and not known:
            report(f"unknown column {field.name!r}: not in {where}", field.source)
        live_type = columns.get(field.name.lower()) if columns and live is not None else None
        live_family = _family_or_none(live_type, dialect)
        declared = [(field.type, field.source)] + [
            (str(c.value), c.source) for c in field.constraints if c.kind is ConstraintKind.TYPE]
        family = live_family
        for type_text, source in declared:
            if not type_text:
                continue
            try:
                declared_family = type_family(type_text, dialect)
            except ValueError as exc:
                report(f"column {field.name!r}: {exc}", source)
                continue
            if live_family and declared_family and declared_family != live_family:
                report(f"column {field.name!r}: declared type {type_text!r} ({declared_family})"
                       f" contradicts the live type {live_type!r} ({live_family})", source)
            family = family or declared_family
        for constraint in field.constraints:
            problem = _constraint_problem(constraint, family)
            if problem:
                report(f"{constraint.label}: {problem}", constraint.source or field.source)
    for rule in contract.rules:
        if rule.column and columns is not None and rule.column.lower() not in columns:
            report(f"{rule.label}: unknown column {rule.column!r}: not in {where}", rule.source)
    return issues


def _family_or_none(type_text: str | None, dialect: str | None) -> str | None:
    if not type_text:
        return None
    try:
        return type_family(type_text, dialect)
    except ValueError:  # a live type sqlglot does not know: nothing to compare against
        return None


def _constraint_problem(constraint: Constraint, family: str | None) -> str | None:
    kind, value = constraint.kind, constraint.value
    if family is None:
        return None
    lengths = (ConstraintKind.MAX_LENGTH, ConstraintKind.MIN_LENGTH, ConstraintKind.PATTERN)
    if kind in lengths and family != "string":
        return f"{kind.value} makes no sense for a {family} column"
    if kind in (ConstraintKind.MIN, ConstraintKind.MAX):
        if family == "boolean":
            return f"{kind.value} makes no sense for a boolean column"
        if family == "number" and not _is_number(value):
            return f"{value!r} is not a number, the column is one"
        if family in ("date", "timestamp") and value != TODAY and not _is_iso_date(value):
            return f"{value!r} is not an ISO date, the column is a {family}"
    return None


def _is_number(value: object) -> bool:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return True
    try:
        float(str(value))
    except ValueError:
        return False
    return True


def _is_iso_date(value: object) -> bool:
    from datetime import datetime

    try:
        datetime.fromisoformat(str(value))
    except ValueError:
        return False
    return True

