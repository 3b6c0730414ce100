"""Two schemas of the same datasets in, typed changes out.

Columns match by name (case-insensitively: Snowflake upper-cases what PostgreSQL
lower-cases); a removed and an added column are taken for a rename only with evidence,
scored into a confidence: the same place among the surviving columns, the same type,
identical lineage inputs in the graph, a similar name. Facts a side does not know (a
``None`` nullability, default or description) are not compared: unknown is not a change.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from lineage.drift.kinds import Change, ChangeKind
from lineage.drift.types import (
    TypeVerdict,
    compare_families,
    compare_logical,
    compare_types,
    dialect_of,
)
from lineage.model import ColumnId, DatasetId, DatasetKind, LiveColumn

__all__ = [
    "RENAME_THRESHOLD",
    "DatasetSchema",
    "InputsOf",
    "diff_datasets",
    "diff_schemas",
]

#: A removed and an added column are reported as a rename from this confidence on.
RENAME_THRESHOLD = 0.5
_W_POSITION, _W_TYPE, _W_LINEAGE, _W_NAME = 0.3, 0.3, 0.4, 0.2

#: The lineage inputs of a column (its upstream columns, one hop), empty when unknown.
InputsOf = Callable[[ColumnId], frozenset[ColumnId]]


@dataclass(frozen=True)
class DatasetSchema:
    """One side of a comparison: a dataset's columns as a baseline or an observation has
    them. ``ordered`` says whether the column order means anything (a contract's does
    not); ``knows_partitions`` whether the partition flags were observed."""

    id: DatasetId
    columns: tuple[LiveColumn, ...]
    kind: DatasetKind = DatasetKind.TABLE
    description: str | None = None
    owners: tuple[str, ...] = ()
    dialect: str | None = None
    source: str = ""
    ordered: bool = True
    knows_partitions: bool = True
    logical_types: bool = False  # a contract's ``string`` / ``number``: families compared
    # A run's observation (a data frame's ``int64``, ``object``): its types represent the
    # columns, they do not declare them, so only a change of coarse family is compared.
    type_families: bool = False

    @property
    def sql_dialect(self) -> str | None:
        return self.dialect or dialect_of(self.id.namespace)

    def column(self, name: str) -> LiveColumn | None:
        wanted = name.casefold()
        return next((c for c in self.columns if c.name.casefold() == wanted), None)


def _none(_: ColumnId) -> frozenset[ColumnId]:
    return frozenset()


def diff_datasets(
    baseline: Sequence[DatasetSchema],
    observed: Sequence[DatasetSchema],
    *,
    complete: Callable[[DatasetId], bool] = lambda _: False,
    inputs_of: InputsOf = _none,
) -> list[Change]:
    """Every change from ``baseline`` to ``observed``.

    A baseline dataset the observation lacks is ``dataset_removed`` only where
    ``complete(id)`` says the observation lists everything of that source (a fresh
    introspection, a second schema.json); otherwise it was just not observed. An observed
    dataset is ``dataset_added`` only in a namespace the baseline covers.
    """
    old = {_key(s.id): s for s in baseline}
    new = {_key(s.id): s for s in observed}
    namespaces = {s.id.namespace for s in baseline}
    changes: list[Change] = []
    for key, before in sorted(old.items()):
        after = new.get(key)
        if after is None:
            if complete(before.id):
                changes.append(Change(ChangeKind.DATASET_REMOVED, before.id,
                                      f"{before.id.name} is gone", old=before.id.name))  # fmt: skip
            continue
        changes.extend(diff_schemas(before, after, inputs_of=inputs_of))
    for key, after in sorted(new.items()):
        if key not in old and after.id.namespace in namespaces:
            changes.append(Change(ChangeKind.DATASET_ADDED, after.id,
                                  f"{after.id.name} is new", new=after.id.name))  # fmt: skip
    return changes


def _key(dataset: DatasetId) -> tuple[str, str]:
    return dataset.namespace, dataset.name.casefold()


def diff_schemas(
    old: DatasetSchema, new: DatasetSchema, *, inputs_of: InputsOf = _none
) -> list[Change]:
    """The changes of one dataset, columns in the old order, then added ones."""
    ds = old.id
    old_names = {c.name.casefold(): c for c in old.columns}
    new_names = {c.name.casefold(): c for c in new.columns}
    removed = [c for c in old.columns if c.name.casefold() not in new_names]
    added = [c for c in new.columns if c.name.casefold() not in old_names]
    matches = {c.name.casefold(): new_names[c.name.casefold()] for c in old.columns
               if c.name.casefold() in new_names}  # fmt: skip
    renames = _renames(old, new, removed, added, matches, inputs_of)
    changes: list[Change] = []
    renamed_new = {n.name.casefold() for n, _ in renames.values()}
    for column in old.columns:
        key = column.name.casefold()
        if key in matches:
            changes.extend(_column_changes(old, new, column, matches[key]))
        elif key in renames:
            target, confidence = renames[key]
            changes.append(Change(
                ChangeKind.COLUMN_RENAMED, ds,
                f"{column.name} seems renamed to {target.name} "
                f"(confidence {confidence:.2f})",
                column=column.name, old=column.name, new=target.name, confidence=confidence,
            ))  # fmt: skip
            changes.extend(_column_changes(old, new, column, target))
        else:
            changes.append(Change(ChangeKind.COLUMN_REMOVED, ds, f"{column.name} was dropped",
                                  column=column.name, old=column.type))  # fmt: skip
    for column in added:
        if column.name.casefold() not in renamed_new:
            what = f"{column.name} {column.type or ''} was added".replace("  ", " ")
            changes.append(Change(ChangeKind.COLUMN_ADDED, ds, what, column=column.name,
                                  new=column.type))  # fmt: skip
    changes.extend(_order_change(old, new, {**matches, **{k: v[0] for k, v in renames.items()}}))
    changes.extend(_table_changes(old, new))
    return changes


def _column_changes(
    old: DatasetSchema, new: DatasetSchema, before: LiveColumn, after: LiveColumn
) -> list[Change]:
    ds, name = old.id, after.name
    found: list[Change] = []
    partition = before.partition and after.partition
    if before.type and after.type:
        if old.type_families or new.type_families:
            verdict, why = compare_families(before.type, after.type, old.sql_dialect,
                                            new.sql_dialect)  # fmt: skip
        elif old.logical_types:
            verdict, why = compare_logical(before.type, after.type, new.sql_dialect)
        else:
            verdict, why = compare_types(before.type, after.type, old.sql_dialect,
                                         new.sql_dialect)  # fmt: skip
        kind = _TYPE_KINDS.get(verdict)
        if kind is not None:
            kind = ChangeKind.PARTITION_RETYPED if partition else kind
            text = f"{name}: {before.type} -> {after.type}" + (f" ({why})" if why else "")
            found.append(Change(kind, ds, text, column=name, old=before.type, new=after.type))
    if old.knows_partitions and new.knows_partitions and before.partition != after.partition:
        kind = ChangeKind.PARTITION_ADDED if after.partition else ChangeKind.PARTITION_REMOVED
        verb = "is now" if after.partition else "is no longer"
        found.append(Change(kind, ds, f"{name} {verb} a partition column", column=name))
    known = before.nullable is not None and after.nullable is not None
    if known and before.nullable != after.nullable:
        kind = (ChangeKind.NULLABILITY_RELAXED if after.nullable
                else ChangeKind.NULLABILITY_TIGHTENED)  # fmt: skip
        text = f"{name} is now {'nullable' if after.nullable else 'NOT NULL'}"
        found.append(Change(kind, ds, text, column=name, old=_null(bool(before.nullable)),
                            new=_null(bool(after.nullable))))  # fmt: skip
    if before.primary_key != after.primary_key and (before.primary_key or after.primary_key):
        verb = "joined" if after.primary_key else "left"
        found.append(Change(ChangeKind.PRIMARY_KEY_CHANGED, ds, f"{name} {verb} the primary key",
                            column=name, old=str(before.primary_key).lower(),
                            new=str(after.primary_key).lower()))  # fmt: skip
    for kind, a, b, what in (
        (ChangeKind.DEFAULT_CHANGED, before.default, after.default, "default"),
        (ChangeKind.DESCRIPTION_CHANGED, before.comment, after.comment, "description"),
    ):
        if a is not None and b is not None and a.strip() != b.strip():
            found.append(Change(kind, ds, f"{name}: {what} changed", column=name, old=a, new=b))
    return found


_TYPE_KINDS = {
    TypeVerdict.WIDENED: ChangeKind.TYPE_WIDENED,
    TypeVerdict.NARROWED: ChangeKind.TYPE_NARROWED,
    TypeVerdict.CHANGED: ChangeKind.TYPE_CHANGED,
    TypeVerdict.TIMEZONE: ChangeKind.TYPE_TIMEZONE_CHANGED,
    TypeVerdict.UNCOMPARABLE: ChangeKind.TYPE_UNCOMPARABLE,
}


def _null(nullable: bool) -> str:
    return "NULL" if nullable else "NOT NULL"


def _table_changes(old: DatasetSchema, new: DatasetSchema) -> list[Change]:
    a, b = old.description, new.description
    if a is not None and b is not None and a.strip() != b.strip():
        return [Change(ChangeKind.COMMENT_CHANGED, old.id, f"{old.id.name}: description changed",
                       old=a, new=b)]  # fmt: skip
    return []


def _order_change(
    old: DatasetSchema, new: DatasetSchema, matches: dict[str, LiveColumn]
) -> list[Change]:
    """Column order of the columns both sides have (renamed ones by their new name)."""
    if not (old.ordered and new.ordered):
        return []
    before = [matches[c.name.casefold()].name for c in old.columns if c.name.casefold() in matches]
    kept = set(before)
    after = [c.name for c in new.columns if c.name in kept]
    if before == after:
        return []
    return [Change(ChangeKind.COLUMN_ORDER_CHANGED, old.id,
                   f"column order changed: {', '.join(before)} -> {', '.join(after)}",
                   old=", ".join(before), new=", ".join(after))]  # fmt: skip


# -- renames -------------------------------------------------------------------------------


def _renames(
    old: DatasetSchema,
    new: DatasetSchema,
    removed: list[LiveColumn],
    added: list[LiveColumn],
    matches: dict[str, LiveColumn],
    inputs_of: InputsOf,
) -> dict[str, tuple[LiveColumn, float]]:
    """Old column (casefolded) -> (new column, confidence), best evidence first.

    Greedy: the best-scoring pair is taken, then the positions of the others are
    re-judged against it (a rename anchors its neighbours), until no pair reaches
    ``RENAME_THRESHOLD``.
    """
    mapping = dict(matches)
    found: dict[str, tuple[LiveColumn, float]] = {}
    left_old, left_new = list(removed), list(added)
    while left_old and left_new:
        scored = [
            (_score(old, new, a, b, mapping, inputs_of), i, j)
            for i, a in enumerate(left_old)
            for j, b in enumerate(left_new)
        ]
        best, i, j = max(scored, key=lambda s: (s[0], -s[1], -s[2]))
        if best < RENAME_THRESHOLD:
            break
        a, b = left_old.pop(i), left_new.pop(j)
        mapping[a.name.casefold()] = b
        found[a.name.casefold()] = (b, round(min(best, 1.0), 2))
    return found


def _score(
    old: DatasetSchema,
    new: DatasetSchema,
    a: LiveColumn,
    b: LiveColumn,
    mapping: dict[str, LiveColumn],
    inputs_of: InputsOf,
) -> float:
    score = _W_POSITION * _position(old, new, a, b, mapping)
    if a.type and b.type:
        verdict, _ = compare_types(a.type, b.type, old.sql_dialect, new.sql_dialect)
        score += {TypeVerdict.SAME: _W_TYPE, TypeVerdict.WIDENED: _W_TYPE / 2,
                  TypeVerdict.NARROWED: _W_TYPE / 2}.get(verdict, 0.0)  # fmt: skip
    upstream_a = inputs_of(ColumnId(old.id, a.name))
    upstream_b = inputs_of(ColumnId(new.id, b.name))
    if upstream_a and upstream_a == upstream_b:
        score += _W_LINEAGE
    similarity = difflib.SequenceMatcher(None, a.name.casefold(), b.name.casefold()).ratio()
    return score + _W_NAME * similarity


def _position(
    old: DatasetSchema, new: DatasetSchema, a: LiveColumn, b: LiveColumn,
    mapping: dict[str, LiveColumn],
) -> float:  # fmt: skip
    """1.0 when the matched neighbours before and after agree, 0.5 for one of them."""
    if not (old.ordered and new.ordered):
        return 0.0
    before, after = _anchors(old.columns, a, lambda c: _mapped(c, mapping))
    new_before, new_after = _anchors(new.columns, b, lambda c: _is_target(c, mapping))
    return 0.5 * (before == new_before) + 0.5 * (after == new_after)


def _mapped(column: LiveColumn, mapping: dict[str, LiveColumn]) -> str | None:
    target = mapping.get(column.name.casefold())
    return target.name.casefold() if target is not None else None


def _is_target(column: LiveColumn, mapping: dict[str, LiveColumn]) -> str | None:
    key = column.name.casefold()
    return key if any(t.name.casefold() == key for t in mapping.values()) else None


def _anchors(
    columns: tuple[LiveColumn, ...], column: LiveColumn,
    anchor: Callable[[LiveColumn], str | None],
) -> tuple[str, str]:  # fmt: skip
    """The nearest matched columns before and after ``column`` (``^`` / ``$`` at the ends)."""
    index = next(i for i, c in enumerate(columns) if c is column)
    before = next((k for c in reversed(columns[:index]) if (k := anchor(c))), "^")
    after = next((k for c in columns[index + 1:] if (k := anchor(c))), "$")
    return before, after
