"""The seed's contract YAML: ``schema.fields[].constraints`` and a ``quality`` block.

::

    dataset: silver.erp_cust_az12        # optional: else the file's stem binds it
    schema:
      fields:
        - name: customer_id
          type: string
          constraints: [not_null, {max_length: 50}]
          quality: {null_rate: '< 5%'}
    quality:
      freshness: 24h
      row_count: {warning: ±15% from 7d avg}
      min_rows: 1000
      custom_sql: ["SELECT * FROM t WHERE bad"]

A bad constraint or rule is one issue with its line; the rest of the file is still read.
"""

from __future__ import annotations

import re
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
from parsers.contracts.context import Context, bound_value, severity_of
from parsers.contracts.document import ContractError, Path
from parsers.contracts.grammar import parse_fraction, parse_row_count_phrase

__all__ = [
    "CONSTRAINT_NAMES",
    "ConstraintValue",
    "constraint_from_entry",
    "constraint_value",
    "quality_rules",
    "read_seed",
]

ConstraintValue = int | float | str | tuple[str, ...] | None

CONSTRAINT_NAMES: Mapping[str, ConstraintKind] = {
    **dict.fromkeys(("not_null", "required", "not null"), ConstraintKind.NOT_NULL),
    "unique": ConstraintKind.UNIQUE,
    **dict.fromkeys(("max_length", "maxlength"), ConstraintKind.MAX_LENGTH),
    **dict.fromkeys(("min_length", "minlength"), ConstraintKind.MIN_LENGTH),
    **dict.fromkeys(("min", "minimum"), ConstraintKind.MIN),
    **dict.fromkeys(("max", "maximum"), ConstraintKind.MAX),
    **dict.fromkeys(("accepted_values", "enum", "in", "valid_values"),
                    ConstraintKind.ACCEPTED_VALUES),
    **dict.fromkeys(("pattern", "regex"), ConstraintKind.PATTERN),
    "type": ConstraintKind.TYPE,
}

_TOP_KEYS = {"dataset", "schema", "fields", "quality", "owner", "owners", "description",
             "version", "name", "id", "title", "tags", "meta"}
_FIELD_KEYS = {"name", "type", "description", "required", "unique", "primary_key", "primaryKey",
               "sensitive", "pii", "constraints", "quality", "tags", "meta"}


def read_seed(ctx: Context, stem: str) -> Contract:
    """The contract in ``ctx.doc``, in the seed's shape; item problems go to ``ctx``.

    Raises:
        ContractError: the file is not a mapping, or ``schema.fields`` is not a list.
    """
    root = ctx.doc.value
    if not isinstance(root, Mapping):
        raise ContractError("a contract is a mapping (schema:, quality:, dataset:)",
                            file=ctx.file, line=ctx.doc.line(()))
    for key in root:
        if str(key) not in _TOP_KEYS:
            ctx.issue(f"unknown key {key!r} (known: {', '.join(sorted(_TOP_KEYS))})", (key,))
    schema = root.get("schema") or {}
    if not isinstance(schema, Mapping):
        raise ContractError("schema must be a mapping with fields: (an ODCS contract says "
                            "apiVersion: and kind: DataContract)", file=ctx.file,
                            line=ctx.doc.line(("schema",)))
    raw_fields = schema.get("fields")
    path: Path = ("schema", "fields")
    if raw_fields is None and "fields" in root:
        raw_fields, path = root["fields"], ("fields",)
    if raw_fields is not None and not isinstance(raw_fields, list):
        raise ContractError("schema.fields must be a list of fields", file=ctx.file,
                            line=ctx.doc.line(path))
    fields: list[ContractField] = []
    rules: list[QualityRule] = []
    for i, raw in enumerate(raw_fields or []):
        field = _field(ctx, raw, (*path, i))
        if field is not None:
            fields.append(field)
            rules += quality_rules(ctx, raw.get("quality"), (*path, i, "quality"), [field.name],
                                   column=field.name)
    rules += quality_rules(ctx, root.get("quality"), ("quality",), [f.name for f in fields])
    dataset = root.get("dataset")
    return Contract(
        source=ctx.source(("dataset",) if dataset else ()),
        kind="seed",
        stem=stem,
        dataset=None if dataset is None else str(dataset),
        fields=tuple(fields),
        rules=tuple(rules),
        owners=_owners(root),
        description=None if root.get("description") is None else str(root["description"]),
        version=None if root.get("version") is None else str(root["version"]),
    )


def _owners(root: Mapping[str, Any]) -> tuple[str, ...]:
    raw = root.get("owners", root.get("owner"))
    items = raw if isinstance(raw, list) else [] if raw is None else [raw]
    return tuple(str(o.get("name") or o.get("email")) if isinstance(o, Mapping) else str(o)
                 for o in items)


def _field(ctx: Context, raw: Any, path: Path) -> ContractField | None:
    if not isinstance(raw, Mapping) or not raw.get("name"):
        ctx.issue("a field is a mapping with a name", path)
        return None
    name = str(raw["name"])
    for key in raw:
        if str(key) not in _FIELD_KEYS:
            ctx.issue(f"field {name!r}: unknown key {key!r}", (*path, key))
    constraints: list[Constraint] = []
    if raw.get("required") is True:
        constraints.append(Constraint(ConstraintKind.NOT_NULL, name, source=ctx.source(path)))
    if raw.get("unique") is True:
        constraints.append(Constraint(ConstraintKind.UNIQUE, name, source=ctx.source(path)))
    entries = raw.get("constraints") or []
    if not isinstance(entries, list):
        ctx.issue("constraints must be a list", (*path, "constraints"))
        entries = []
    for j, entry in enumerate(entries):
        where = (*path, "constraints", j)
        try:
            made = constraint_from_entry(entry, name, ctx, where)
        except ValueError as exc:
            ctx.issue(f"field {name!r}: {exc}", where)
            continue
        if all((c.kind, c.value) != (made.kind, made.value) for c in constraints):
            constraints.append(made)
    return ContractField(
        name=name,
        type=None if raw.get("type") is None else str(raw["type"]),
        description=None if raw.get("description") is None else str(raw["description"]),
        required=any(c.kind is ConstraintKind.NOT_NULL for c in constraints),
        primary_key=bool(raw.get("primary_key", raw.get("primaryKey", False))),
        sensitive=bool(raw.get("sensitive") or raw.get("pii")),
        constraints=tuple(constraints),
        source=ctx.source(path),
    )


def constraint_from_entry(entry: Any, column: str, ctx: Context, path: Path) -> Constraint:
    """``not_null`` or ``{max_length: 50}`` (optionally with ``severity:``) as a Constraint.

    Raises:
        ValueError: an unknown constraint or a value of the wrong kind.
    """
    severity = RuleSeverity.ERROR
    if isinstance(entry, Mapping):
        options = dict(entry)
        severity = severity_of(options.pop("severity", None))
        if len(options) != 1:
            raise ValueError(f"a constraint is one name and its value, got {sorted(options)}")
        key, value = next(iter(options.items()))
    elif isinstance(entry, str):
        key, value = entry, None
    else:
        raise ValueError(f"unreadable constraint {entry!r:.60}")
    kind = CONSTRAINT_NAMES.get(str(key).strip().lower())
    if kind is None:
        raise ValueError(f"unknown constraint {key!r} (known: {', '.join(_KNOWN)})")
    return Constraint(kind, column, constraint_value(kind, value), severity, ctx.source(path))


_KNOWN = sorted({k for k in CONSTRAINT_NAMES if " " not in k})


def constraint_value(kind: ConstraintKind, value: Any) -> ConstraintValue:
    """The value a constraint of ``kind`` keeps, checked.

    Raises:
        ValueError: the value does not fit the kind.
    """
    if kind in (ConstraintKind.NOT_NULL, ConstraintKind.UNIQUE):
        if value not in (None, True):
            raise ValueError(f"{kind.value} takes no value")
        return None
    if kind in (ConstraintKind.MAX_LENGTH, ConstraintKind.MIN_LENGTH):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{kind.value} needs a whole number, got {value!r}")
        return int(value)
    if kind in (ConstraintKind.MIN, ConstraintKind.MAX):
        return bound_value(value)
    if kind is ConstraintKind.ACCEPTED_VALUES:
        if not isinstance(value, list) or not value:
            raise ValueError(f"accepted_values needs a list of values, got {value!r:.60}")
        return tuple(str(v) for v in value)
    if kind is ConstraintKind.PATTERN:
        try:
            re.compile(str(value))
        except re.error as exc:
            raise ValueError(f"pattern {value!r} is not a regular expression: {exc}") from None
        if value is None or value == "":
            raise ValueError("pattern needs a regular expression")
        return str(value)
    if not value or not isinstance(value, str):  # TYPE
        raise ValueError(f"type needs a type name, got {value!r}")
    return str(value)


def quality_rules(
    ctx: Context, block: Any, path: Path, columns: list[str], *, column: str | None = None
) -> list[QualityRule]:
    """The rules of a ``quality:`` block; ``column`` is the field of a field-level block."""
    if block is None:
        return []
    if not isinstance(block, Mapping):
        ctx.issue("quality must be a mapping of rules", path)
        return []
    rules: list[QualityRule] = []
    for key, value in block.items():
        where = (*path, key)
        reader = _QUALITY.get(str(key).strip().lower())
        if reader is None:
            ctx.issue(f"unknown quality rule {key!r} (known: {', '.join(sorted(_QUALITY))})",
                      where)
            continue
        try:
            rules += reader(ctx, value, where, columns, column)
        except ValueError as exc:
            ctx.issue(f"{key}: {exc}", where)
    return rules


def _freshness(
    ctx: Context, value: Any, path: Path, _columns: list[str], column: str | None
) -> list[QualityRule]:
    if not isinstance(value, Mapping):
        return [QualityRule(RuleKind.FRESHNESS, column=column,
                            max_age_seconds=parse_duration(value), source=ctx.source(path))]
    loaded_at = value.get("column", value.get("loaded_at_field", column))
    rules = []
    for key in ("max_age", "error", "warning", "warn"):
        if value.get(key) is not None:
            rules.append(QualityRule(
                RuleKind.FRESHNESS, severity_of(value.get("severity") if key == "max_age"
                                                else key),
                column=None if loaded_at is None else str(loaded_at),
                max_age_seconds=parse_duration(value[key]), source=ctx.source((*path, key))))
    if not rules:
        raise ValueError("write a duration (24h) or max_age / warning / error: 24h")
    return rules


def _row_count(
    ctx: Context, value: Any, path: Path, _columns: list[str], _column: str | None
) -> list[QualityRule]:
    if isinstance(value, str):
        return [_phrase_rule(ctx, value, RuleSeverity.ERROR, path)]
    if not isinstance(value, Mapping):
        raise ValueError("write a phrase ('±15% from 7d avg') or warning: / error: / min:")
    rules = []
    for key, item in value.items():
        where = (*path, key)
        if str(key) in ("min", "minimum"):
            rules += _min_rows(ctx, item, where, _columns, None)
            continue
        severity = severity_of(key)
        phrases = item if isinstance(item, list) else [item]
        rules += [_phrase_rule(ctx, str(p), severity, (*where, i) if isinstance(item, list)
                               else where) for i, p in enumerate(phrases)]
    return rules


def _phrase_rule(ctx: Context, text: str, severity: RuleSeverity, path: Path) -> QualityRule:
    phrase = parse_row_count_phrase(text)
    return QualityRule(phrase.kind, severity, tolerance=phrase.tolerance,
                       window_days=phrase.window_days, source=ctx.source(path))


def _min_rows(
    ctx: Context, value: Any, path: Path, _columns: list[str], _column: str | None
) -> list[QualityRule]:
    severity = RuleSeverity.ERROR
    if isinstance(value, Mapping):
        severity = severity_of(value.get("severity"))
        value = value.get("min", value.get("value"))
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"needs a whole number of rows, got {value!r}")
    return [QualityRule(RuleKind.ROW_COUNT_MIN, severity, minimum=value,
                        source=ctx.source(path))]


def _null_rate(
    ctx: Context, value: Any, path: Path, columns: list[str], column: str | None
) -> list[QualityRule]:
    if isinstance(value, list):
        return [r for i, item in enumerate(value)
                for r in _null_rate(ctx, item, (*path, i), columns, column)]
    severity = RuleSeverity.ERROR
    if isinstance(value, Mapping):
        severity = severity_of(value.get("severity"))
        column = str(value["column"]) if value.get("column") is not None else column
        value = value.get("max", value.get("max_rate"))
    rate = parse_fraction(value)
    targets = [column] if column else columns
    if not targets:
        raise ValueError("name the column (column: x) or declare fields")
    return [QualityRule(RuleKind.NULL_RATE, severity, column=c, max_rate=rate,
                        source=ctx.source(path)) for c in targets]


def _custom_sql(
    ctx: Context, value: Any, path: Path, _columns: list[str], _column: str | None
) -> list[QualityRule]:
    items = value if isinstance(value, list) else [value]
    rules = []
    for i, item in enumerate(items):
        where = (*path, i) if isinstance(value, list) else path
        name, severity = None, RuleSeverity.ERROR
        if isinstance(item, Mapping):
            name = None if item.get("name") is None else str(item["name"])
            severity = severity_of(item.get("severity"))
            item = item.get("sql", item.get("query"))
        if not isinstance(item, str) or not item.strip():
            raise ValueError("needs the SQL text of a query that must return no rows")
        rules.append(QualityRule(RuleKind.CUSTOM_SQL, severity, sql=item.strip(), name=name,
                                 source=ctx.source(where)))
    return rules


_QUALITY = {
    "freshness": _freshness,
    "row_count": _row_count,
    "min_rows": _min_rows,
    "row_count_min": _min_rows,
    "null_rate": _null_rate,
    "custom_sql": _custom_sql,
    "sql": _custom_sql,
}
