"""Who a change breaks: downstream columns and datasets through column lineage, the jobs
that read the dataset, their owners, the contracts downstream that now may fail.

Findings come out sorted by severity, then blast radius (columns + datasets + jobs
reached), then name, so the first line of a report is the one to act on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from lineage.contracts import Contract
from lineage.drift.consumers import sql_use
from lineage.drift.kinds import ESCALATIONS, Change, ChangeKind, DriftSeverity
from lineage.drift.types import dialect_of
from lineage.model import ColumnId, DatasetId

if TYPE_CHECKING:
    from lineage.graph import ImpactEntry, LineageGraph

__all__ = ["DriftFinding", "DriftImpact", "DriftReport", "Reached", "assess", "one_hop_inputs"]

# Kinds about one existing column: their impact starts at that column.
_COLUMN_KINDS = frozenset(ChangeKind) - {
    ChangeKind.DATASET_ADDED, ChangeKind.DATASET_REMOVED, ChangeKind.COLUMN_ADDED,
    ChangeKind.COLUMN_ORDER_CHANGED, ChangeKind.COMMENT_CHANGED,
}  # fmt: skip
# Kinds whose impact is the consumers that read the whole row (``SELECT *``, positional).
_ROW_KINDS = frozenset({ChangeKind.COLUMN_ADDED, ChangeKind.COLUMN_ORDER_CHANGED})


@dataclass(frozen=True)
class Reached:
    """A downstream column or dataset, how far, whether every hop on the way is DIRECT."""

    dataset: DatasetId
    column: str | None
    distance: int
    direct: bool
    owners: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return self.dataset.name + (f".{self.column}" if self.column else "")

    def to_dict(self) -> dict[str, Any]:
        return {"node": self.label, "namespace": self.dataset.namespace,
                "distance": self.distance, "type": "DIRECT" if self.direct else "INDIRECT",
                "owners": list(self.owners)}  # fmt: skip


@dataclass(frozen=True)
class DriftImpact:
    """What one change reaches. ``unknown_consumers`` are jobs reading the dataset whose
    SQL the catalog does not have (or cannot parse): whether they read ``*`` or insert
    positionally is not known."""

    columns: tuple[Reached, ...] = ()
    datasets: tuple[Reached, ...] = ()
    jobs: tuple[str, ...] = ()
    owners: tuple[str, ...] = ()
    contracts: tuple[str, ...] = ()
    star_consumers: tuple[str, ...] = ()
    positional_consumers: tuple[str, ...] = ()
    unknown_consumers: tuple[str, ...] = ()

    @property
    def blast_radius(self) -> int:
        return len(self.columns) + len(self.datasets) + len(self.jobs)

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": [r.to_dict() for r in self.columns],
            "datasets": [r.to_dict() for r in self.datasets],
            "jobs": list(self.jobs),
            "owners": list(self.owners),
            "contracts": list(self.contracts),
            "star_consumers": list(self.star_consumers),
            "positional_consumers": list(self.positional_consumers),
            "unknown_consumers": list(self.unknown_consumers),
        }


@dataclass(frozen=True)
class DriftFinding:
    """A change, its grade after escalation, and its impact."""

    change: Change
    severity: DriftSeverity
    impact: DriftImpact = DriftImpact()

    # What the catalog stores of a finding (``Catalog.record_drift``).
    @property
    def dataset(self) -> DatasetId:
        return self.change.dataset

    @property
    def kind(self) -> str:
        return self.change.kind.value

    @property
    def column(self) -> str | None:
        return self.change.column

    @property
    def message(self) -> str:
        return self.change.message

    @property
    def key(self) -> str:
        return self.change.key

    def to_dict(self) -> dict[str, Any]:
        return {**self.change.to_dict(), "severity": self.severity.value,
                "impact": self.impact.to_dict()}  # fmt: skip


@dataclass(frozen=True)
class DriftReport:
    """One comparison: what was compared with what, the findings, what could not be read."""

    baseline: str
    observed: str
    findings: tuple[DriftFinding, ...] = ()
    issues: tuple[str, ...] = ()

    def worst(self) -> DriftSeverity | None:
        return min((f.severity for f in self.findings), key=lambda s: s.rank, default=None)

    def fails(self, threshold: DriftSeverity | None) -> bool:
        """Whether any finding is ``threshold`` or worse (never with no threshold)."""
        return threshold is not None and any(f.severity.at_least(threshold)
                                             for f in self.findings)  # fmt: skip

    def counts(self) -> dict[str, int]:
        return {s.value: sum(1 for f in self.findings if f.severity is s) for s in DriftSeverity}

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON document (``lineage drift --format json``, docs/drift.md)."""
        return {
            "format": "silverline-drift/1",
            "baseline": self.baseline,
            "observed": self.observed,
            "counts": self.counts(),
            "findings": [f.to_dict() for f in self.findings],
            "issues": list(self.issues),
        }


def assess(
    changes: Sequence[Change],
    graph: LineageGraph,
    contracts: Mapping[DatasetId, Sequence[Contract]] | None = None,
) -> list[DriftFinding]:
    """Each change with its impact through ``graph`` and its escalated grade, worst first."""
    contracts = contracts or {}
    findings = [_finding(change, graph, contracts) for change in changes]
    return sorted(findings, key=lambda f: (f.severity.rank, -f.impact.blast_radius,
                                           f.change.dataset, f.change.column or "",
                                           f.change.kind.value))  # fmt: skip


def _finding(
    change: Change, graph: LineageGraph, contracts: Mapping[DatasetId, Sequence[Contract]]
) -> DriftFinding:
    dataset = change.dataset
    readers = graph.readers_of(dataset) if dataset in graph else []
    writers = graph.writers_of(dataset) if dataset in graph else []
    dialect = dialect_of(dataset.namespace)
    star, positional, unknown = [], [], []
    for job in {j.name: j for j in (*readers, *writers)}.values():
        use = sql_use(job, dataset, dialect)
        if not use.known:
            unknown.append(job.name)
        star += [job.name] if use.star else []
        positional += [job.name] if use.positional else []
    root: ColumnId | DatasetId = dataset
    if change.kind in _COLUMN_KINDS and change.column:
        root = ColumnId(dataset, _old_name(change))
    entries = _walk(graph, root) if change.kind not in _ROW_KINDS else ([], [])
    columns = tuple(_reached(e) for e in entries[0])
    datasets = tuple(_reached(e) for e in entries[1])
    jobs: dict[str, None] = {}
    for entry in (*entries[0], *entries[1]):
        jobs.update(dict.fromkeys(entry.jobs))
    if change.kind in _ROW_KINDS or change.kind is ChangeKind.COLUMN_REMOVED:
        jobs.update(dict.fromkeys(star))
    if root == dataset and change.kind not in _ROW_KINDS:
        jobs.update(dict.fromkeys(j.name for j in readers))
    if change.kind in _ROW_KINDS:
        jobs.update(dict.fromkeys(positional))
    owners: dict[str, None] = {}
    for reached in (*columns, *datasets):
        owners.update(dict.fromkeys(reached.owners))
    for name in jobs:
        known = graph.job(name)
        owners.update(dict.fromkeys(known.owners if known else ()))
    severity = change.severity
    escalation = ESCALATIONS.get(change.kind)
    if escalation is not None and escalation.when == "positional" and positional:
        severity = min(severity, escalation.severity, key=lambda s: s.rank)
    impact = DriftImpact(
        columns=columns, datasets=datasets, jobs=tuple(jobs), owners=tuple(owners),
        contracts=_contracts_at_risk(columns, contracts),
        star_consumers=tuple(sorted(star)), positional_consumers=tuple(sorted(positional)),
        unknown_consumers=tuple(sorted(unknown)),
    )  # fmt: skip
    if change.kind is ChangeKind.COLUMN_ORDER_CHANGED and unknown and not positional:
        change = replace(change, message=change.message + " (unknown consumers: "
                         + ", ".join(sorted(unknown)) + ")")  # fmt: skip
    return DriftFinding(change, severity, impact)


def _old_name(change: Change) -> str:
    return change.old if change.kind is ChangeKind.COLUMN_RENAMED and change.old else (
        change.column or "")  # fmt: skip


def _walk(
    graph: LineageGraph, root: ColumnId | DatasetId
) -> tuple[list[ImpactEntry], list[ImpactEntry]]:
    if root not in graph:
        return [], []
    impact = graph.impact(root)
    own = root.dataset if isinstance(root, ColumnId) else root
    columns = [e for e in impact.columns if isinstance(e.node, ColumnId) and e.node.dataset != own]
    datasets = [e for e in impact.datasets if isinstance(e.node, DatasetId) and e.node != own]
    return columns, datasets


def _reached(entry: ImpactEntry) -> Reached:
    node = entry.node
    if isinstance(node, ColumnId):
        return Reached(node.dataset, node.name, entry.distance, entry.direct, entry.owners)
    return Reached(node, None, entry.distance, entry.direct, entry.owners)


def _contracts_at_risk(
    columns: Sequence[Reached], contracts: Mapping[DatasetId, Sequence[Contract]]
) -> tuple[str, ...]:
    """``file: constraint`` of every downstream contract on a reached column."""
    found: dict[str, None] = {}
    for reached in columns:
        for contract in contracts.get(reached.dataset, ()):
            cf = contract.field(reached.column or "")
            if cf is None:
                continue
            labels = [c.label for c in cf.constraints] or (["required"] if cf.required else [])
            if cf.type:
                labels.append(f"type {cf.type}")
            found.update(dict.fromkeys(f"{contract.source.file}: {label}" for label in labels))
    return tuple(found)


def one_hop_inputs(graph: LineageGraph) -> Callable[[ColumnId], frozenset[ColumnId]]:
    """A column's upstream columns, one hop: the rename heuristic's lineage evidence
    (``diff_datasets(..., inputs_of=...)``)."""

    def inputs_of(column: ColumnId) -> frozenset[ColumnId]:
        if column not in graph:
            return frozenset()
        entries = graph.upstream(column, depth=1).columns
        return frozenset(e.node for e in entries
                         if isinstance(e.node, ColumnId) and len(e.path) == 1)  # fmt: skip

    return inputs_of
