"""Contract constraints an observed schema can no longer satisfy.

Judged from the schema alone (no rows are read): a column now nullable under
``not_null``, a column gone that a contract names, a string now shorter than the
contract's ``min_length`` or than the values its ``max_length`` / ``accepted_values``
allow, a type no longer of the family the contract's ``type``, ``min``/``max`` or
``pattern`` need. ``unique`` cannot be judged from a schema and is left to ``lineage
check``.
"""

from __future__ import annotations

from lineage.contracts import Constraint, ConstraintKind, Contract
from lineage.drift.diff import DatasetSchema
from lineage.drift.kinds import Change, ChangeKind
from lineage.drift.types import (
    LOGICAL_FAMILIES,
    TypeFacts,
    TypeVerdict,
    compare_logical,
    type_facts,
)

__all__ = ["contract_changes"]

_NUMERIC = LOGICAL_FAMILIES["number"]


def contract_changes(
    contract: Contract, observed: DatasetSchema, baseline: DatasetSchema | None = None
) -> list[Change]:
    """One ``contract_violated`` change per constraint (or field) ``observed`` breaks.

    With a ``baseline``, only what the change broke: a promise the baseline could not keep
    either (a column nullable all along under ``not_null``) is not drift but the checks'
    business, and is left out.
    """
    found = _broken_promises(contract, observed)
    if baseline is None:
        return found
    already = {(c.column, c.message) for c in _broken_promises(contract, baseline)}
    return [c for c in found if (c.column, c.message) not in already]


def _broken_promises(contract: Contract, observed: DatasetSchema) -> list[Change]:
    found: list[Change] = []
    for cf in contract.fields:
        column = observed.column(cf.name)
        if column is None:
            found.append(_broken(observed, contract, cf.name, "the column the contract "
                                 "describes is gone", "present", "missing"))  # fmt: skip
            continue
        facts = type_facts(column.type, observed.sql_dialect) if column.type else None
        constraints = list(cf.constraints)
        if cf.required and not any(c.kind is ConstraintKind.NOT_NULL for c in constraints):
            constraints.append(Constraint(ConstraintKind.NOT_NULL, cf.name))
        if cf.type and column.type:
            problem = _type_problem(cf.type, column.type, observed.sql_dialect)
            if problem:
                found.append(_broken(observed, contract, cf.name, problem, cf.type, column.type))
        for constraint in constraints:
            problem = _problem(constraint, column.nullable, facts)
            if problem:
                found.append(_broken(observed, contract, cf.name,
                                     f"{constraint.label}: {problem}",
                                     constraint.label, column.type))  # fmt: skip
    return found


def _broken(
    observed: DatasetSchema, contract: Contract, column: str, problem: str,
    old: str | None, new: str | None,
) -> Change:  # fmt: skip
    return Change(
        ChangeKind.CONTRACT_VIOLATED, observed.id,
        f"{column}: {problem} (contract {contract.source})",
        column=column, old=old, new=new, contract=str(contract.source.file),
    )  # fmt: skip


def _type_problem(promised: str, actual: str, dialect: str | None) -> str | None:
    verdict, why = compare_logical(promised, actual, dialect)
    if verdict in (TypeVerdict.NARROWED, TypeVerdict.CHANGED):
        return f"the contract promises {promised}, the column is {actual} ({why})"
    return None


def _problem(constraint: Constraint, nullable: bool | None, facts: TypeFacts | None) -> str | None:
    kind, value = constraint.kind, constraint.value
    if kind is ConstraintKind.NOT_NULL:
        return "the column is now nullable" if nullable else None
    if facts is None:
        return None  # type unknown: nothing to judge
    if kind is ConstraintKind.TYPE and isinstance(value, str):
        return _type_problem(value, facts.text, None)
    family = facts.family
    if kind in (ConstraintKind.MAX_LENGTH, ConstraintKind.MIN_LENGTH, ConstraintKind.PATTERN):
        if family != "string":
            return f"the column is no longer a string ({facts.text})"
        limit = facts.size
        if isinstance(value, int) and limit is not None and limit < value:
            return f"the column holds at most {limit} characters"
        return None
    if kind is ConstraintKind.ACCEPTED_VALUES and isinstance(value, tuple) and family == "string":
        longest = max((len(v) for v in value), default=0)
        if facts.size is not None and facts.size < longest:
            return (f"the column holds at most {facts.size} characters, an accepted value "
                    f"has {longest}")
        return None
    if kind in (ConstraintKind.MIN, ConstraintKind.MAX):
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if number and family not in _NUMERIC:
            return f"a numeric bound on a {family} column"
    return None
