"""The checks of a dataset, merged over every contract bound to it.

A check two contracts state (the seed's YAML and a dbt test on the same column) runs
once and names both sources, so what ``lineage check`` prints is what the catalog stores.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lineage.contracts import Constraint, ConstraintKind, Contract, QualityRule, RuleKind
from lineage.model import DatasetId

__all__ = ["BoundContract", "CheckPlan", "plan_checks", "source_key"]


@dataclass(frozen=True)
class BoundContract:
    """A contract and the dataset it binds to."""

    contract: Contract
    dataset: DatasetId


@dataclass
class CheckPlan:
    """The checks of one dataset, merged over every contract bound to it.

    ``sources`` lists, per check (label, lower-cased column), where each contract that
    states it wrote it; ``sensitive`` holds the lower-cased columns no sample may show.
    """

    dataset: DatasetId
    constraints: list[Constraint] = field(default_factory=list)
    rules: list[QualityRule] = field(default_factory=list)
    sources: dict[tuple[str, str | None], list[str]] = field(default_factory=dict)
    sensitive: frozenset[str] = frozenset()


def plan_checks(
    bound: Sequence[BoundContract], sensitive: Mapping[DatasetId, frozenset[str]] | None = None
) -> list[CheckPlan]:
    """One plan per dataset, in the order the contracts come: identical checks (same
    column, kind, arguments and severity) of several contracts become one check listing
    every source, so what is printed is what is stored (the catalog keeps one result per
    check, column and run). Two different checks that would share a name get the later
    one's file in brackets: ``accepted_values(gender) [schema.yml]``."""
    plans: dict[DatasetId, CheckPlan] = {}
    seen: dict[DatasetId, dict[tuple[Any, ...], tuple[str, str | None]]] = {}
    for item in bound:
        plan = plans.get(item.dataset)
        if plan is None:
            plan = plans[item.dataset] = CheckPlan(
                item.dataset, sensitive=(sensitive or {}).get(item.dataset, frozenset())
            )
        keys = seen.setdefault(item.dataset, {})
        checks: list[Constraint | QualityRule] = [*item.contract.constraints, *item.contract.rules]
        for check in checks:
            where = str(check.source or item.contract.source)
            key = _identity(check)
            known = keys.get(key)
            if known is not None:
                plan.sources[known].append(where)
                continue
            named = _unique_name(check, plan.sources, Path(item.contract.source.file).name)
            slot = (named.label, _lower(named.column))
            keys[key] = slot
            plan.sources[slot] = [where]
            if isinstance(named, Constraint):
                plan.constraints.append(named)
            else:
                plan.rules.append(named)
    return list(plans.values())


def _identity(check: Constraint | QualityRule) -> tuple[Any, ...]:
    """What makes two checks the same check, whatever their name or file."""
    if isinstance(check, Constraint):
        value: Any = check.value
        if check.kind is ConstraintKind.ACCEPTED_VALUES and isinstance(value, tuple):
            value = tuple(sorted(value))  # a set of values: the order says nothing
        return ("constraint", check.kind, check.column.lower(), repr(value), check.severity)
    window = check.window_days or 7 if check.kind is RuleKind.ROW_COUNT_VS_AVERAGE else None
    return ("rule", check.kind, _lower(check.column), check.max_age_seconds, check.tolerance,
            window, check.minimum, check.max_rate, (check.sql or "").strip(), check.severity)


def _unique_name(
    check: Constraint | QualityRule, taken: Mapping[tuple[str, str | None], object], origin: str
) -> Constraint | QualityRule:
    if (check.label, _lower(check.column)) not in taken:
        return check
    base, number = f"{check.label} [{origin}]", 1
    named = replace(check, name=base)
    while (named.label, _lower(check.column)) in taken:
        number += 1
        named = replace(check, name=f"{base} #{number}")
    return named


def _lower(column: str | None) -> str | None:
    return None if column is None else column.lower()


def source_key(check: str, column: str | None) -> tuple[str, str | None]:
    """The key of ``CheckPlan.sources`` for a check's label and column."""
    return check, _lower(column)
