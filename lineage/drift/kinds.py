"""The kinds of schema change drift reports, and the one table that grades them.

Grades are written from what a *consumer* of the dataset suffers (a query, a model, a
dashboard reading it): ``breaking`` means some reader fails or silently reads wrong
values, ``warning`` that readers keep running but may be surprised, ``info`` that nothing
a reader does changes. ``SEVERITY`` is the only place a grade is decided; a kind missing
from it, or a kind name nobody knows, is an error, never a silent pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from lineage.errors import InputError
from lineage.model import DatasetId

__all__ = [
    "ESCALATIONS",
    "SEVERITY",
    "Change",
    "ChangeKind",
    "DriftSeverity",
    "Escalation",
    "parse_kind",
    "severity_of",
]


class DriftSeverity(str, Enum):
    """How much a change hurts the datasets, jobs and people downstream."""

    BREAKING = "breaking"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """0 for breaking, 1 for warning, 2 for info: sorts the worst first."""
        return _RANKS[self]

    def at_least(self, threshold: DriftSeverity) -> bool:
        """Whether this grade is ``threshold`` or worse."""
        return self.rank <= threshold.rank


_RANKS = {DriftSeverity.BREAKING: 0, DriftSeverity.WARNING: 1, DriftSeverity.INFO: 2}


class ChangeKind(str, Enum):
    """One kind of difference between a baseline schema and an observed one."""

    DATASET_ADDED = "dataset_added"
    DATASET_REMOVED = "dataset_removed"
    COLUMN_ADDED = "column_added"
    COLUMN_REMOVED = "column_removed"
    COLUMN_RENAMED = "column_renamed"
    TYPE_WIDENED = "type_widened"
    TYPE_NARROWED = "type_narrowed"
    TYPE_CHANGED = "type_changed"  # another family: string -> integer, date -> string
    TYPE_TIMEZONE_CHANGED = "type_timezone_changed"  # timestamp <-> timestamp with time zone
    TYPE_UNCOMPARABLE = "type_uncomparable"  # a type sqlglot cannot read: said, not guessed
    NULLABILITY_RELAXED = "nullability_relaxed"  # NOT NULL -> nullable
    NULLABILITY_TIGHTENED = "nullability_tightened"  # nullable -> NOT NULL
    DEFAULT_CHANGED = "default_changed"
    DESCRIPTION_CHANGED = "description_changed"  # a column's description / comment
    COMMENT_CHANGED = "comment_changed"  # the dataset's description / comment
    PRIMARY_KEY_CHANGED = "primary_key_changed"
    PARTITION_ADDED = "partition_added"
    PARTITION_REMOVED = "partition_removed"
    PARTITION_RETYPED = "partition_retyped"
    COLUMN_ORDER_CHANGED = "column_order_changed"
    CONTRACT_VIOLATED = "contract_violated"


#: The grade of every kind, from what a reader of the dataset suffers.
SEVERITY: Mapping[ChangeKind, DriftSeverity] = {
    ChangeKind.DATASET_ADDED: DriftSeverity.INFO,  # nobody reads it yet
    ChangeKind.DATASET_REMOVED: DriftSeverity.BREAKING,  # every reader fails
    ChangeKind.COLUMN_ADDED: DriftSeverity.INFO,  # SELECT * readers get one more column
    ChangeKind.COLUMN_REMOVED: DriftSeverity.BREAKING,  # every query naming it fails
    ChangeKind.COLUMN_RENAMED: DriftSeverity.BREAKING,  # the old name is gone
    ChangeKind.TYPE_WIDENED: DriftSeverity.WARNING,  # values may overflow narrower targets
    ChangeKind.TYPE_NARROWED: DriftSeverity.BREAKING,  # loads truncate or fail
    ChangeKind.TYPE_CHANGED: DriftSeverity.BREAKING,  # casts, comparisons, joins break
    ChangeKind.TYPE_TIMEZONE_CHANGED: DriftSeverity.WARNING,  # same instants, other readings
    ChangeKind.TYPE_UNCOMPARABLE: DriftSeverity.WARNING,  # unknown: a person must look
    ChangeKind.NULLABILITY_RELAXED: DriftSeverity.WARNING,  # NULLs reach code assuming none
    ChangeKind.NULLABILITY_TIGHTENED: DriftSeverity.INFO,  # readers see fewer NULLs
    ChangeKind.DEFAULT_CHANGED: DriftSeverity.INFO,
    ChangeKind.DESCRIPTION_CHANGED: DriftSeverity.INFO,
    ChangeKind.COMMENT_CHANGED: DriftSeverity.INFO,
    ChangeKind.PRIMARY_KEY_CHANGED: DriftSeverity.WARNING,  # joins and dedups relied on it
    ChangeKind.PARTITION_ADDED: DriftSeverity.WARNING,  # path-based readers miss files
    ChangeKind.PARTITION_REMOVED: DriftSeverity.BREAKING,  # partition filters fail
    ChangeKind.PARTITION_RETYPED: DriftSeverity.BREAKING,  # partition pruning compares wrong
    ChangeKind.COLUMN_ORDER_CHANGED: DriftSeverity.WARNING,  # escalated: see ESCALATIONS
    ChangeKind.CONTRACT_VIOLATED: DriftSeverity.BREAKING,  # a promise cannot be kept
}


@dataclass(frozen=True)
class Escalation:
    """A kind graded higher when the impact shows consumers that suffer more from it."""

    when: str  # "positional": a job INSERTs without a column list or SELECT * into one
    severity: DriftSeverity


#: Kinds whose grade depends on how consumers read: column order breaks positional
#: INSERTs (``INSERT INTO t SELECT *`` / ``INSERT INTO t VALUES``), and so do added and
#: removed columns for them.
ESCALATIONS: Mapping[ChangeKind, Escalation] = {
    ChangeKind.COLUMN_ORDER_CHANGED: Escalation("positional", DriftSeverity.BREAKING),
    ChangeKind.COLUMN_ADDED: Escalation("positional", DriftSeverity.BREAKING),
}

_BY_VALUE = {kind.value: kind for kind in ChangeKind}


def parse_kind(text: str) -> ChangeKind:
    """The kind a name means (``column_renamed``).

    Raises:
        InputError: no kind has that name: an unknown change is an error, not a pass.
    """
    kind = _BY_VALUE.get(text.strip().lower())
    if kind is None:
        known = ", ".join(sorted(_BY_VALUE))
        raise InputError(f"unknown schema change kind {text!r} (known: {known})")
    return kind


def severity_of(kind: ChangeKind | str) -> DriftSeverity:
    """The grade of ``kind`` from ``SEVERITY``.

    Raises:
        InputError: ``kind`` is unknown, or ``SEVERITY`` has no grade for it.
    """
    parsed = kind if isinstance(kind, ChangeKind) else parse_kind(kind)
    grade = SEVERITY.get(parsed)
    if grade is None:
        raise InputError(f"schema change kind {parsed.value!r} has no severity in the table")
    return grade


@dataclass(frozen=True)
class Change:
    """One difference between a baseline and an observed schema.

    ``old`` / ``new`` are the values as text (types, defaults, descriptions; the old and
    new names of a rename); ``confidence`` is set for heuristics (renames), in [0, 1];
    ``contract`` names the contract file of a violated constraint.
    """

    kind: ChangeKind
    dataset: DatasetId
    message: str
    column: str | None = None
    old: str | None = None
    new: str | None = None
    confidence: float | None = None
    contract: str | None = None

    @property
    def severity(self) -> DriftSeverity:
        return severity_of(self.kind)

    @property
    def key(self) -> str:
        """What identifies the change across runs (stored findings are matched on it)."""
        parts = (self.kind.value, str(self.dataset), self.column or "", self.old or "",
                 self.new or "", self.contract or "")  # fmt: skip
        return "\x1f".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "namespace": self.dataset.namespace,
            "dataset": self.dataset.name,
            "column": self.column,
            "old": self.old,
            "new": self.new,
            "confidence": self.confidence,
            "contract": self.contract,
            "message": self.message,
        }
