"""Schema drift findings in the catalog: recorded per comparison, resolved, acknowledged.

A comparison is a scope ``(baseline, observed_by)`` (``"site/schema.json"`` against
``"warehouse"``). Recording its findings again updates the ones still observed (last seen,
grade, message, impact), adds new ones, and marks resolved the open ones it no longer
reports. Acknowledging a finding keeps it, out of the open list. The catalog stores
findings without knowing ``lineage.drift``: anything with the ``DriftRecordable`` shape.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, and_, select, update

from lineage.catalog import tables as cs
from lineage.catalog.sql import canonical_json
from lineage.catalog.write import ensure_datasets
from lineage.model import DatasetId

__all__ = [
    "DriftRecordSummary",
    "DriftRecordable",
    "StoredDrift",
    "acknowledge_drift",
    "read_drift",
    "record_drift",
]


class DriftRecordable(Protocol):
    """What a finding must offer to be stored (``lineage.drift.DriftFinding`` does)."""

    @property
    def dataset(self) -> DatasetId: ...
    @property
    def kind(self) -> str: ...
    @property
    def column(self) -> str | None: ...
    @property
    def message(self) -> str: ...
    @property
    def key(self) -> str: ...
    def to_dict(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class StoredDrift:
    """One drift finding as the catalog keeps it."""

    id: int
    dataset: DatasetId
    kind: str
    column: str | None
    severity: str
    message: str
    baseline: str
    observed_by: str
    first_seen_at: datetime
    last_seen_at: datetime
    run_id: str | None = None
    resolved_at: datetime | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    details: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def open(self) -> bool:
        return self.resolved_at is None and self.acknowledged_at is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "namespace": self.dataset.namespace, "dataset": self.dataset.name,
            "kind": self.kind, "column": self.column, "severity": self.severity,
            "message": self.message, "baseline": self.baseline,
            "observed_by": self.observed_by, "run_id": self.run_id,
            "first_seen_at": self.first_seen_at.isoformat(),
            "last_seen_at": self.last_seen_at.isoformat(),
            "resolved_at": _iso(self.resolved_at),
            "acknowledged_at": _iso(self.acknowledged_at),
            "acknowledged_by": self.acknowledged_by, "details": self.details,
        }  # fmt: skip


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


@dataclass(frozen=True)
class DriftRecordSummary:
    """What recording one comparison changed."""

    added: int = 0
    seen_again: int = 0
    resolved: int = 0


def record_drift(
    conn: Connection,
    findings: Sequence[DriftRecordable],
    *,
    baseline: str,
    observed_by: str,
    run_id: str | None,
    now: datetime,
) -> DriftRecordSummary:
    """Record one comparison's findings (see the module docstring)."""
    d = cs.drift_findings
    scope = and_(d.c.baseline == baseline, d.c.observed_by == observed_by,
                 d.c.resolved_at.is_(None))  # fmt: skip
    current = {row.finding_key: row.id for row in conn.execute(select(d.c.id, d.c.finding_key)
                                                               .where(scope))}  # fmt: skip
    ids = ensure_datasets(conn, {f.dataset for f in findings}, {}, now).ids if findings else {}
    added = seen = 0
    reported: set[str] = set()
    for finding in findings:
        if finding.key in reported:
            continue
        reported.add(finding.key)
        details = finding.to_dict()
        values = {
            "severity": str(details.get("severity", "")),
            "message": finding.message,
            "details": canonical_json(details),
            "run_id": run_id,
            "last_seen_at": now,
        }
        if finding.key in current:
            conn.execute(update(d).where(d.c.id == current[finding.key]).values(**values))
            seen += 1
            continue
        conn.execute(d.insert().values(
            dataset_id=ids[finding.dataset], kind=finding.kind, column_name=finding.column,
            finding_key=finding.key, baseline=baseline, observed_by=observed_by,
            first_seen_at=now, **values,
        ))  # fmt: skip
        added += 1
    gone = [i for key, i in current.items() if key not in reported]
    if gone:
        conn.execute(update(d).where(d.c.id.in_(gone)).values(resolved_at=now))
    return DriftRecordSummary(added, seen, len(gone))


def read_drift(
    conn: Connection, *, open_only: bool, dataset: DatasetId | None = None
) -> list[StoredDrift]:
    """Findings, newest first (only open ones: neither resolved nor acknowledged)."""
    d, ds = cs.drift_findings, cs.datasets
    query = select(d, ds.c.namespace, ds.c.name).join(ds, ds.c.id == d.c.dataset_id)
    if open_only:
        query = query.where(d.c.resolved_at.is_(None), d.c.acknowledged_at.is_(None))
    if dataset is not None:
        query = query.where(ds.c.namespace == dataset.namespace, ds.c.name == dataset.name)
    rows = conn.execute(query.order_by(d.c.last_seen_at.desc(), d.c.id)).all()
    return [
        StoredDrift(
            id=row.id, dataset=DatasetId(row.namespace, row.name), kind=row.kind,
            column=row.column_name, severity=row.severity, message=row.message,
            baseline=row.baseline, observed_by=row.observed_by,
            first_seen_at=row.first_seen_at, last_seen_at=row.last_seen_at, run_id=row.run_id,
            resolved_at=row.resolved_at, acknowledged_at=row.acknowledged_at,
            acknowledged_by=row.acknowledged_by, details=json.loads(row.details or "{}"),
        )
        for row in rows
    ]


def acknowledge_drift(conn: Connection, finding_id: int, by: str | None, now: datetime) -> bool:
    """Mark one finding acknowledged; False when no finding has that id."""
    d = cs.drift_findings
    done = conn.execute(update(d).where(d.c.id == finding_id, d.c.acknowledged_at.is_(None))
                        .values(acknowledged_at=now, acknowledged_by=by))  # fmt: skip
    if done.rowcount:
        return True
    return conn.execute(select(d.c.id).where(d.c.id == finding_id)).first() is not None
