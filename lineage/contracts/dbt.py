"""dbt: a model's tests, enforced contract and sensitive columns as one ``Contract``."""

from __future__ import annotations

import json
import re
from typing import Any

from lineage.contracts.values import (
    _UNIT_SECONDS,
    Constraint,
    ConstraintKind,
    Contract,
    ContractField,
    QualityRule,
    RuleKind,
    RuleSeverity,
    Source,
    parse_duration,
)
from lineage.model import Dataset, DatasetId, DataTest, Schema

__all__ = [
    "DBT_COLUMNS_KEY",
    "contract_from_dataset",
    "dbt_test_checks",
    "dbt_test_labels",
    "sensitive_columns",
]

#: The key of ``Dataset.meta`` holding each column's own ``meta`` and ``tags`` as
#: manifest.json's ``columns`` does: ``{"email": {"meta": {"pii": true}, "tags": ["pii"]}}``.
DBT_COLUMNS_KEY = "columns"
# What marks a column (or a whole model) sensitive: a tag, a truthy meta key, or an
# ODCS-style classification in meta.
_SENSITIVE_MARKS = frozenset({"pii", "sensitive"})
_SENSITIVE_CLASSES = frozenset({"restricted", "confidential", "pii", "sensitive", "secret",
                                "personal"})

_DBT_PACKAGES = ("", "dbt_utils", "dbt_expectations")
_Made = list["Constraint | QualityRule"]


def contract_from_dataset(dataset: Dataset) -> Contract | None:
    """A dbt model's tests and enforced contract as one ``Contract(kind="dbt")``.

    Kept: ``not_null``, ``unique``, ``accepted_values``, dbt_utils ``accepted_range``,
    ``not_null_proportion``, ``recency`` and the dbt_expectations column expectations
    that say one simple thing (``..._to_be_between``, ``..._to_match_regex`` ...);
    enforced contract column types become TYPE constraints, a source's ``freshness``
    FRESHNESS rules, ``severity: warn`` WARNING. Skipped (dbt itself runs them):
    ``relationships`` (a promise about two tables), ``expression_is_true`` and other
    arbitrary SQL, custom tests. Columns marked pii or sensitive (``sensitive_columns``)
    are ``sensitive`` fields, so samples of offending rows never show them. None when
    nothing is promised and nothing is sensitive.
    """
    src = Source(dataset.source_file or str(dataset.id))
    order: dict[str, str] = {}  # lower name -> name as written, in schema order
    types: dict[str, str | None] = {}
    descriptions: dict[str, str | None] = {}
    for f in (dataset.schema or Schema()).fields:
        order.setdefault(f.name.lower(), f.name)
        types[f.name.lower()] = f.type
        descriptions[f.name.lower()] = f.description
    by_column: dict[str, list[Constraint]] = {}
    rules: list[QualityRule] = []
    for test in dataset.tests:
        try:
            kept = _from_dbt_test(test, src)
        except (TypeError, ValueError):  # arguments of the wrong kind: dbt will say so
            kept = []
        for made in kept:
            if isinstance(made, QualityRule):
                rules.append(made)
            else:
                order.setdefault(made.column.lower(), made.column)
                by_column.setdefault(made.column.lower(), []).append(made)
    if dataset.contract_enforced:
        for key, type_ in types.items():
            if type_:
                by_column.setdefault(key, []).append(
                    Constraint(ConstraintKind.TYPE, order[key], type_, source=src)
                )
    rules.extend(_dbt_freshness(dataset, src))
    sensitive = sensitive_columns(dataset)
    every = "*" in sensitive  # the whole model is marked: no column is shown
    for name in sensitive - {"*"}:
        order.setdefault(name.lower(), name)
    if not by_column and not rules and not sensitive:
        return None
    fields = tuple(
        ContractField(
            name=name,
            type=types.get(key),
            description=descriptions.get(key),
            required=any(c.kind is ConstraintKind.NOT_NULL for c in by_column.get(key, ())),
            sensitive=every or key in {s.lower() for s in sensitive},
            constraints=tuple(by_column.get(key, ())),
            source=src,
        )
        for key, name in order.items()
    )
    return Contract(
        source=src, kind="dbt", stem=re.split(r"[./]", dataset.id.name)[-1],
        dataset=dataset.id.name, fields=fields, rules=tuple(rules), owners=dataset.owners,
        description=dataset.description,
    )


def dbt_test_labels(test: DataTest) -> tuple[str, ...]:
    """The check names ``contract_from_dataset`` gives what one dbt test promises:
    ``not_null(customer_id)``; ``min(amount)`` and ``max(amount)`` for a between test;
    ``freshness`` for ``dbt_utils.recency``. Naming that test's outcome in
    ``run_results.json`` by these labels makes both meet on one check (as GE validation
    results do). Empty when the test is not kept (relationships, custom tests)."""
    try:
        return tuple(made.label for made in _from_dbt_test(test, Source("")))
    except (TypeError, ValueError):
        return ()


def dbt_test_checks(test: DataTest) -> list[tuple[str, str | None]]:
    """(check name, column) of each check one dbt test becomes here, in the order
    ``dbt_test_labels`` names them: ``not_null(cid)`` on ``cid``; ``min(amount)`` and
    ``max(amount)`` for ``accepted_range``; ``freshness`` on the loaded-at field for
    ``dbt_utils.recency``. The column is the constraint's or the rule's, as check results
    carry it, so a dbt run's outcome and ``lineage check`` land on one catalog key. Empty
    for a test not checked here (``relationships``, custom tests)."""
    labels = dbt_test_labels(test)
    if not labels:
        return []
    columns: dict[str, str | None] = {}
    contract = contract_from_dataset(Dataset(DatasetId("", ""), tests=(test,)))
    if contract is not None:
        columns.update((r.label, r.column) for r in contract.rules)
        columns.update((c.label, c.column) for f in contract.fields for c in f.constraints)
    return [(label, columns.get(label, test.column)) for label in labels]


def sensitive_columns(dataset: Dataset) -> frozenset[str]:
    """The columns of a dbt model that are marked sensitive in its properties.

    A column with ``meta: {pii: true}`` / ``meta: {sensitive: true}`` / a ``classification``
    such as ``confidential``, or tagged ``pii`` / ``sensitive``, as ``Dataset.meta`` keeps
    them under ``DBT_COLUMNS_KEY``; ``"*"`` when the model itself is marked so (its tags
    or its own meta): then every column is. Unreadable meta marks nothing.
    """
    try:
        meta = json.loads(dataset.meta or "{}")
    except ValueError:
        return frozenset()
    if not isinstance(meta, dict):
        return frozenset()
    found: set[str] = set()
    if _marked(meta, dataset.tags):
        found.add("*")
    columns = meta.get(DBT_COLUMNS_KEY)
    if isinstance(columns, dict):
        for name, spec in columns.items():
            if isinstance(spec, dict) and _marked(spec.get("meta"), spec.get("tags")):
                found.add(str(spec.get("name") or name))
    return frozenset(found)


def _marked(meta: Any, tags: Any) -> bool:
    """Whether a meta mapping or a tag list says "pii" / "sensitive"."""
    if isinstance(tags, list | tuple) and any(str(t).lower() in _SENSITIVE_MARKS for t in tags):
        return True
    if not isinstance(meta, dict):
        return False
    if any(meta.get(key) is True or str(meta.get(key)).lower() in ("true", "yes")
           for key in _SENSITIVE_MARKS):
        return True
    return str(meta.get("classification", "")).lower() in _SENSITIVE_CLASSES


def _from_dbt_test(test: DataTest, src: Source) -> _Made:
    package, _, short = test.name.rpartition(".")
    if package not in _DBT_PACKAGES:
        return []
    try:
        loaded = json.loads(test.arguments or "{}")
    except ValueError:
        return []
    args: dict[str, Any] = loaded if isinstance(loaded, dict) else {}
    warn = test.severity.lower().startswith("warn")
    severity = RuleSeverity.WARNING if warn else RuleSeverity.ERROR
    column = test.column or args.get("column_name")

    def constraint(kind: ConstraintKind, value: Any = None) -> Constraint:
        return Constraint(kind, str(column), value, severity, src)

    if short == "recency" and args.get("field"):
        unit = _UNIT_SECONDS.get(str(args.get("datepart", "day")).lower())
        if unit is None:  # month, quarter, year: no fixed length, not guessed
            return []
        seconds = float(args.get("interval", 1)) * unit
        return [QualityRule(RuleKind.FRESHNESS, severity, column=str(args["field"]),
                            max_age_seconds=seconds, source=src)]
    if short == "expect_table_row_count_to_be_between" and args.get("min_value") is not None:
        return [QualityRule(RuleKind.ROW_COUNT_MIN, severity, minimum=int(args["min_value"]),
                            source=src)]
    if column is None:
        return []
    if short in ("not_null", "expect_column_values_to_not_be_null"):
        return [constraint(ConstraintKind.NOT_NULL)]
    if short in ("unique", "expect_column_values_to_be_unique"):
        return [constraint(ConstraintKind.UNIQUE)]
    if short in ("accepted_values", "expect_column_values_to_be_in_set"):
        values = args.get("values", args.get("value_set"))
        if isinstance(values, list):
            return [constraint(ConstraintKind.ACCEPTED_VALUES, tuple(str(v) for v in values))]
        return []
    if short == "not_null_proportion" and args.get("at_least") is not None:
        return [QualityRule(RuleKind.NULL_RATE, severity, column=str(column),
                            max_rate=1.0 - float(args["at_least"]), source=src)]
    if short == "expect_column_values_to_match_regex" and args.get("regex"):
        return [constraint(ConstraintKind.PATTERN, str(args["regex"]))]
    if short == "expect_column_values_to_be_of_type" and args.get("column_type"):
        return [constraint(ConstraintKind.TYPE, str(args["column_type"]))]
    pairs = {
        "accepted_range": (ConstraintKind.MIN, ConstraintKind.MAX),
        "expect_column_values_to_be_between": (ConstraintKind.MIN, ConstraintKind.MAX),
        "expect_column_value_lengths_to_be_between": (
            ConstraintKind.MIN_LENGTH, ConstraintKind.MAX_LENGTH),
    }.get(short)
    if pairs is None:
        return []
    made: _Made = []
    for kind, key in zip(pairs, ("min_value", "max_value"), strict=True):
        if args.get(key) is not None:
            value = args[key]
            made.append(constraint(kind, int(value) if "LENGTH" in kind.name else value))
    return made


def _dbt_freshness(dataset: Dataset, src: Source) -> list[QualityRule]:
    fresh = dataset.freshness
    if fresh is None:
        return []
    rules = []
    for after, severity in ((fresh.warn_after, RuleSeverity.WARNING),
                            (fresh.error_after, RuleSeverity.ERROR)):
        if after:
            try:
                seconds = parse_duration(after)
            except ValueError:
                continue
            rules.append(QualityRule(RuleKind.FRESHNESS, severity, fresh.loaded_at_field,
                                     max_age_seconds=seconds, source=src))
    return rules

