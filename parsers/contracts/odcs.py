"""Open Data Contract Standard v3 (``apiVersion: v3.x``, ``kind: DataContract``).

One ``Contract`` per ``schema[]`` object, bound by its ``physicalName`` (else by its
``name`` when the file has several objects, else by the file's stem). How ODCS maps:

- ``required`` -> NOT_NULL, ``unique`` -> UNIQUE, ``primaryKey`` -> both;
  ``logicalTypeOptions`` ``maxLength`` / ``minLength`` / ``pattern`` / ``minimum`` /
  ``maximum`` -> the same constraints (``exclusiveMinimum`` / ``exclusiveMaximum``: kept
  as inclusive bounds, with an issue saying so); ``classification`` restricted / confidential /
  pii / sensitive / secret -> a sensitive field (never sampled).
- ``quality[]`` ``type: library``: ``nullValues`` with a zero threshold -> NOT_NULL, with
  ``unit: percent`` -> NULL_RATE; ``duplicateValues`` zero -> UNIQUE; ``invalidValues``
  zero with ``arguments.validValues`` / ``arguments.pattern`` -> ACCEPTED_VALUES /
  PATTERN; ``rowCount`` lower bound -> ROW_COUNT_MIN. Thresholds these cannot state (a
  count of 3 nulls, a row-count maximum) are issues, never silently dropped.
- ``type: sql``: placeholders ``${table}`` / ``{object}`` and ``${column}`` /
  ``{property}`` are filled in; without a threshold the query must return no rows
  (CUSTOM_SQL as is); with one (``mustBe: 0``) the query's first column is compared in
  SQL built with sqlglot, returning a row exactly when the threshold is broken.
- ``type: text`` is prose (skipped); ``type: custom`` (vendor engines) is an issue.
- ``slaProperties`` ``freshness`` / ``latency`` (``value`` + ``unit``, ``element``
  ``table.column``) -> FRESHNESS on that column.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lineage.contracts import (
    Constraint,
    ConstraintKind,
    Contract,
    ContractField,
    QualityRule,
    RuleKind,
    RuleSeverity,
    parse_duration,
)
from lineage.model.sql_text import sql_text
from parsers.contracts.context import Context, bound_value, search_pattern, severity_of
from parsers.contracts.document import ContractError, Path
from parsers.contracts.odcs_quality import QualityTarget, read_quality
from parsers.contracts.odcs_schema import odcs_violations

__all__ = ["is_odcs", "read_odcs"]

_SENSITIVE = {"restricted", "confidential", "pii", "sensitive", "secret", "personal"}
_UNIT_SECONDS = {
    **dict.fromkeys(("s", "sec", "second", "seconds"), 1),
    **dict.fromkeys(("m", "min", "minute", "minutes"), 60),
    **dict.fromkeys(("h", "hr", "hour", "hours"), 3600),
    **dict.fromkeys(("d", "day", "days"), 86400),
    **dict.fromkeys(("w", "week", "weeks"), 604800),
    **dict.fromkeys(("y", "yr", "year", "years"), 365 * 86400),
}


def is_odcs(value: Any) -> bool:
    """Whether a parsed document says it is ODCS (``kind: DataContract`` or ``apiVersion``)."""
    return isinstance(value, Mapping) and (
        value.get("kind") == "DataContract" or "apiVersion" in value)


def read_odcs(ctx: Context, stem: str) -> list[Contract]:
    """The contracts of an ODCS document; problems with single rules go to ``ctx``.

    Raises:
        ContractError: the document breaks the standard (every violation in ``issues``,
            the first in the message).
    """
    violations = odcs_violations(ctx.doc)
    if violations:
        first = violations[0]
        more = f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""
        raise ContractError(first.message + more, file=ctx.file, line=first.line,
                            issues=tuple(violations))
    root: Mapping[str, Any] = ctx.doc.value
    dialect, server_schema = _server(root)
    objects = [o for o in root.get("schema") or [] if isinstance(o, Mapping)]
    owners = _owners(root.get("team"))
    description = root.get("description")
    if isinstance(description, Mapping):
        description = description.get("purpose") or description.get("usage")
    contracts = []
    for i, obj in enumerate(objects):
        path: Path = ("schema", i)
        table = _qualified(str(obj.get("physicalName") or obj["name"]), server_schema, dialect)
        fields, rules = [], []
        for j, prop in enumerate(obj.get("properties") or []):
            field, field_rules = _property(ctx, prop, (*path, "properties", j), table, dialect)
            fields.append(field)
            rules += field_rules
        target = QualityTarget(table, None, dialect)
        for k, item in enumerate(obj.get("quality") or []):
            made = read_quality(ctx, item, (*path, "quality", k), target)
            rules += [m for m in made if isinstance(m, QualityRule)]
        rules += _slas(ctx, root, obj, len(objects))
        binding = obj.get("physicalName") or (obj["name"] if len(objects) > 1 else None)
        contracts.append(Contract(
            source=ctx.source((*path, "physicalName") if obj.get("physicalName") else path),
            kind="odcs",
            stem=stem if len(objects) == 1 else str(obj["name"]),
            dataset=None if binding is None else str(binding),
            fields=tuple(fields),
            rules=tuple(rules),
            owners=owners,
            description=None if description is None else str(description),
            version=str(root["version"]),
        ))
    if not contracts:
        raise ContractError("the contract describes no schema object (schema: [])",
                            file=ctx.file, line=ctx.doc.line(()))
    return contracts


def _property(
    ctx: Context, prop: Mapping[str, Any], path: Path, table: str, dialect: str | None
) -> tuple[ContractField, list[QualityRule]]:
    name = str(prop.get("physicalName") or prop["name"])
    src = ctx.source(path)
    made: list[Constraint] = []
    if prop.get("required") or prop.get("primaryKey"):
        made.append(Constraint(ConstraintKind.NOT_NULL, name, source=ctx.source(
            (*path, "required" if prop.get("required") else "primaryKey"))))
    if prop.get("unique") or prop.get("primaryKey"):
        made.append(Constraint(ConstraintKind.UNIQUE, name, source=ctx.source(
            (*path, "unique" if prop.get("unique") else "primaryKey"))))
    options = prop.get("logicalTypeOptions") or {}
    for key, kind in (("minLength", ConstraintKind.MIN_LENGTH),
                      ("maxLength", ConstraintKind.MAX_LENGTH), ("pattern", ConstraintKind.PATTERN),
                      ("minimum", ConstraintKind.MIN), ("maximum", ConstraintKind.MAX),
                      ("exclusiveMinimum", ConstraintKind.MIN),
                      ("exclusiveMaximum", ConstraintKind.MAX)):
        if options.get(key) is None:
            continue
        where = (*path, "logicalTypeOptions", key)
        if key.startswith("exclusive"):
            ctx.issue(f"property {name!r}: {key} is checked as an inclusive bound", where)
        try:
            value = bound_value(options[key]) if kind in (
                ConstraintKind.MIN, ConstraintKind.MAX) else options[key]
        except ValueError as exc:
            ctx.issue(f"property {name!r}: {exc}", where)
            continue
        if kind in (ConstraintKind.MIN_LENGTH, ConstraintKind.MAX_LENGTH):
            value = int(value)
        if kind is ConstraintKind.PATTERN:  # ECMA-262 searches; the constraint is whole-value
            value = search_pattern(str(value))
        made.append(Constraint(kind, name, value, source=ctx.source(where)))
    rules: list[QualityRule] = []
    target = QualityTarget(table, name, dialect)
    for k, item in enumerate(prop.get("quality") or []):
        for m in read_quality(ctx, item, (*path, "quality", k), target):
            if isinstance(m, QualityRule):
                rules.append(m)
            elif all((c.kind, c.value) != (m.kind, m.value) for c in made):
                made.append(m)
    classification = str(prop.get("classification") or "").strip().lower()
    return ContractField(
        name=name,
        type=prop.get("physicalType") or prop.get("logicalType"),
        description=prop.get("description"),
        required=any(c.kind is ConstraintKind.NOT_NULL for c in made),
        primary_key=bool(prop.get("primaryKey")),
        sensitive=classification in _SENSITIVE,
        constraints=tuple(made),
        source=src,
    ), rules


def _slas(
    ctx: Context, root: Mapping[str, Any], obj: Mapping[str, Any], objects: int
) -> list[QualityRule]:
    names = {str(obj.get("name", "")).lower(), str(obj.get("physicalName", "")).lower()}
    rules = []
    for i, sla in enumerate(root.get("slaProperties") or []):
        if str(sla.get("property", "")).lower() not in ("freshness", "latency"):
            continue  # retention, frequency, availability ...: not checks on the rows
        where: Path = ("slaProperties", i)
        element = str(sla.get("element") or root.get("slaDefaultElement") or "")
        table, _, column = element.rpartition(".")
        if table and table.rpartition(".")[2].lower() not in names:
            continue
        if not table and objects > 1 and element.lower() in names:
            column = ""
        try:
            seconds = _sla_seconds(sla.get("value"), sla.get("unit"))
            severity = severity_of(sla.get("severity"), RuleSeverity.ERROR)
        except ValueError as exc:
            ctx.issue(f"slaProperties {sla.get('property')}: {exc}", where)
            continue
        rules.append(QualityRule(RuleKind.FRESHNESS, severity, column=column or None,
                                 max_age_seconds=seconds, source=ctx.source(where)))
    return rules


def _sla_seconds(value: Any, unit: Any) -> float:
    if unit is None:
        return parse_duration(value)
    factor = _UNIT_SECONDS.get(str(unit).strip().lower())
    if factor is None:
        raise ValueError(f"unknown unit {unit!r} (s, m, h, d, w, y)")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"value {value!r} is not a number of {unit}")
    return float(value) * factor


def _owners(team: Any) -> tuple[str, ...]:
    members = team.get("members") if isinstance(team, Mapping) else team
    found = [str(m.get("username") or m.get("name")) for m in members or []
             if isinstance(m, Mapping) and (m.get("username") or m.get("name"))]
    if not found and isinstance(team, Mapping) and team.get("name"):
        found = [str(team["name"])]
    return tuple(found)


def _qualified(table: str, schema: str | None, dialect: str | None) -> str:
    """``table`` as SQL names it from the server's ``schema`` (what ``${table}`` becomes).

    datacontract-cli runs a rule's SQL with the server's schema as the search path; a
    Silverline check runs it with the warehouse's default one, so an unqualified
    ``physicalName`` is qualified here. A dotted name is already qualified.
    """
    if not schema or "." in table:
        return table
    from sqlglot import exp

    return sql_text(exp.table_(table, db=schema), dialect)


def _server(root: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The sqlglot dialect of the first server whose type sqlglot knows, and its schema."""
    from sqlglot.dialects.dialect import Dialect

    for server in root.get("servers") or []:
        kind = str(server.get("type") or "").lower() if isinstance(server, Mapping) else ""
        kind = {"postgresql": "postgres", "sqlserver": "tsql"}.get(kind, kind)
        if not kind:
            continue
        try:
            Dialect.get_or_raise(kind)
        except ValueError:
            continue
        schema = server.get("schema")
        return kind, None if schema is None else str(schema)
    return None, None
