"""Sync state per target: what each outside system was last given, so a repeat sends (or
recomputes) only what changed.

Two shapes, two tables:

- push state (``push_state``): per DataHub target, the hash of every ``(urn, aspect)``
  last sent; a push compares thousands of them at once;
- sync state (``sync_state``): one value per ``(kind, target)``, e.g. the fingerprint
  of the last scan of a project the catalog holds (kind ``PROJECT_SCAN``, target
  ``"dbt:/abs/project"``).

Every function works inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import Connection, func, select

from lineage.catalog import tables as cs
from lineage.catalog.sql import upsert

__all__ = [
    "PROJECT_SCAN",
    "count_push_state",
    "read_push_state",
    "read_sync_state",
    "record_push",
    "record_sync_state",
]

#: The sync-state kind of project scans: the state is the fingerprint of the project's
#: files and scan settings whose lineage the catalog holds.
PROJECT_SCAN = "project_scan"


def count_push_state(conn: Connection, target: str) -> int:
    """How many ``(urn, aspect)`` hashes are kept for ``target``."""
    p = cs.push_state
    query = select(func.count()).select_from(p).where(p.c.target == target)
    return int(conn.execute(query).scalar() or 0)


def read_push_state(conn: Connection, target: str) -> dict[tuple[str, str], str]:
    """The hash of every ``(urn, aspect)`` last sent to ``target``."""
    p = cs.push_state
    query = select(p.c.urn, p.c.aspect, p.c.hash).where(p.c.target == target)
    rows = conn.execute(query).all()  # fetchall: ~3x faster than row by row
    return {(urn, aspect): digest for urn, aspect, digest in rows}


def record_push(
    conn: Connection, target: str, hashes: Mapping[tuple[str, str], str], when: datetime
) -> None:
    """Record that ``target`` now holds these ``(urn, aspect) -> hash`` (others kept)."""
    rows = [
        {"target": target, "urn": urn, "aspect": aspect, "hash": digest, "pushed_at": when}
        for (urn, aspect), digest in hashes.items()
    ]
    upsert(conn, cs.push_state, rows, ["target", "urn", "aspect"])


def read_sync_state(conn: Connection, kind: str, target: str) -> str | None:
    """The state last recorded for ``(kind, target)``, or None."""
    s = cs.sync_state
    query = select(s.c.state).where(s.c.kind == kind, s.c.target == target)
    found: str | None = conn.execute(query).scalar_one_or_none()
    return found


def record_sync_state(conn: Connection, kind: str, target: str, state: str, when: datetime) -> None:
    """Record ``state`` as the last state of ``(kind, target)`` (replacing the previous)."""
    row = {"kind": kind, "target": target, "state": state, "updated_at": when}
    upsert(conn, cs.sync_state, [row], ["kind", "target"])
