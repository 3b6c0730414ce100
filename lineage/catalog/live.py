"""Live schemas in the catalog: introspections, bronze file layouts and profiles.

An introspection of an unchanged source records nothing: a schema version is added only
when an observer's fingerprint of a table (columns with types, nullability, defaults,
comments, keys; kind, comment, definition, location) differs from its last one, and a
layout is replaced (with its figures appended as metric points) only when it changed.
Live columns fill a dataset's current ``columns`` only while no documented schema does.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, update

from lineage.catalog import tables as cs
from lineage.catalog.read import dataset_is
from lineage.catalog.sql import canonical_json, chunks, digest, fast_insert, insert_ignore
from lineage.catalog.write import ensure_datasets, fields_fingerprint
from lineage.model import (
    Dataset,
    DatasetId,
    DatasetKind,
    DatasetProfile,
    FileLayout,
    Finding,
    LiveColumn,
    LiveTable,
    Observation,
    ProfileMetric,
    Severity,
)
from lineage.views import LayoutView, ObservedSchema

__all__ = [
    "LIVE_SOURCE",
    "ObservationSummary",
    "latest_profile",
    "latest_profiles",
    "live_schema",
    "live_schemas",
    "read_layout",
    "read_layouts",
    "record_observation",
    "record_profile",
]

#: ``datasets.schema_source`` of columns that came from an introspection.
LIVE_SOURCE = "live"


@dataclass(frozen=True)
class ObservationSummary:
    """What recording one observation changed."""

    tables: int = 0
    datasets_added: int = 0
    schema_versions_added: int = 0
    layouts_changed: int = 0
    metric_points_added: int = 0


def record_observation(
    conn: Connection, observation: Observation, observer: str, now: datetime
) -> ObservationSummary:
    """Record the tables (and their file layouts) of one observation by ``observer``."""
    tables = {t.id: t for t in observation.tables}
    if not tables:
        return ObservationSummary()
    listed = {i: Dataset(i, kind=t.kind) for i, t in tables.items()}
    resolved = ensure_datasets(conn, set(tables), listed, now)
    _settle_kinds(conn, tables, resolved.rows)
    latest = _latest_versions(conn, [resolved.ids[i] for i in tables], observer)
    versions: list[dict[str, Any]] = []
    current: list[tuple[int, LiveTable]] = []
    for dataset_id, table in sorted(tables.items()):
        pk = resolved.ids[dataset_id]
        facts = table.schema_facts()
        fingerprint = digest(facts)
        number, previous = latest.get(pk, (0, None))
        if previous == fingerprint:
            continue
        versions.append(
            {
                "dataset_id": pk,
                "version": number + 1,
                "fields": canonical_json(facts.pop("columns")),
                "facts": canonical_json(facts),
                "fingerprint": fingerprint,
                "observed_by": observer,
                "observed_at": now,
            }
        )
        row = resolved.rows[dataset_id]
        if row.schema_fingerprint is None or row.schema_source == LIVE_SOURCE:
            current.append((pk, table))
    if versions:
        conn.execute(cs.schema_versions.insert(), versions)
    _replace_current_columns(conn, current)
    layouts, points = _record_layouts(conn, tables, resolved.ids, observation, observer, now)
    return ObservationSummary(
        tables=len(tables),
        datasets_added=len(resolved.added),
        schema_versions_added=len(versions),
        layouts_changed=layouts,
        metric_points_added=points,
    )


def _settle_kinds(conn: Connection, tables: dict[DatasetId, LiveTable], rows: Any) -> None:
    """A dataset known only by name (kind unknown) takes the kind the source reports."""
    updates = [
        {"b_id": rows[i].id, "kind": t.kind.value}
        for i, t in tables.items()
        if rows[i].kind == DatasetKind.UNKNOWN.value and t.kind != DatasetKind.UNKNOWN
    ]
    if updates:
        d = cs.datasets
        conn.execute(update(d).where(d.c.id == bindparam("b_id")), updates)


def _latest_versions(
    conn: Connection, dataset_pks: list[int], observer: str
) -> dict[int, tuple[int, str]]:
    sv = cs.schema_versions
    latest: dict[int, tuple[int, str]] = {}
    for chunk in chunks(sorted(dataset_pks)):
        query = select(sv.c.dataset_id, sv.c.version, sv.c.fingerprint).where(
            sv.c.observed_by == observer, sv.c.dataset_id.in_(chunk)
        )
        for row in conn.execute(query):
            if row.version > latest.get(row.dataset_id, (0, ""))[0]:
                latest[row.dataset_id] = (row.version, row.fingerprint)
    return latest


def _replace_current_columns(conn: Connection, current: list[tuple[int, LiveTable]]) -> None:
    if not current:
        return
    ids = [pk for pk, _ in current]
    for chunk in chunks(ids):
        conn.execute(cs.columns.delete().where(cs.columns.c.dataset_id.in_(chunk)))
    fast_insert(
        conn,
        cs.columns,
        [
            {"dataset_id": pk, "ordinal": i, "name": f.name, "type": f.type,
             "description": f.description}
            for pk, table in current
            for i, f in enumerate(table.schema.fields)
        ],
    )  # fmt: skip
    d = cs.datasets
    conn.execute(
        update(d).where(d.c.id == bindparam("b_id")),
        [
            {"b_id": pk, "schema_fingerprint": fields_fingerprint(t.schema),
             "schema_source": LIVE_SOURCE}
            for pk, t in current
        ],
    )  # fmt: skip


def _record_layouts(
    conn: Connection,
    tables: dict[DatasetId, LiveTable],
    ids: dict[DatasetId, int],
    observation: Observation,
    observer: str,
    now: datetime,
) -> tuple[int, int]:
    """Replace changed layouts; their figures become metric points. (changed, points)."""
    findings: dict[DatasetId, list[Finding]] = {}
    for finding in observation.findings:
        findings.setdefault(finding.dataset, []).append(finding)
    laid_out = {i: t.layout for i, t in tables.items() if t.layout is not None}
    if not laid_out:
        return 0, 0
    dl = cs.dataset_layouts
    stored: dict[int, str] = {}
    for chunk in chunks(sorted(ids[i] for i in laid_out)):
        query = select(dl.c.dataset_id, dl.c.fingerprint).where(dl.c.dataset_id.in_(chunk))
        stored.update({row.dataset_id: row.fingerprint for row in conn.execute(query)})
    rows: list[dict[str, Any]] = []
    points: list[dict[str, Any]] = []
    for dataset_id, layout in sorted(laid_out.items()):
        doc = layout.to_dict()
        found = [f.to_dict() for f in findings.get(dataset_id, [])]
        fingerprint = digest({"layout": doc, "findings": found})
        pk = ids[dataset_id]
        if stored.get(pk) == fingerprint:
            continue
        rows.append({"dataset_id": pk, "observed_by": observer, "layout": canonical_json(doc),
                     "findings": canonical_json(found), "fingerprint": fingerprint,
                     "observed_at": now})  # fmt: skip
        figures = {
            "file_count": layout.file_count,
            "size_bytes": layout.total_bytes,
            "partition_count": len(layout.partitions),
            "row_count": layout.row_count,
        }
        points.extend(
            {"dataset_id": pk, "name": name, "column_name": None, "value": float(value),
             "observed_at": now, "run_id": None}
            for name, value in figures.items()
            if value is not None
        )  # fmt: skip
    if not rows:
        return 0, 0
    for chunk in chunks([r["dataset_id"] for r in rows]):
        conn.execute(dl.delete().where(dl.c.dataset_id.in_(chunk)))
    conn.execute(dl.insert(), rows)
    added = insert_ignore(conn, cs.metrics, points, list(cs.metrics_key.expressions))
    return len(rows), added


def live_schema(conn: Connection, dataset: DatasetId) -> ObservedSchema | None:
    """The newest live schema version of ``dataset`` (any observer), or None."""
    found = live_schemas(conn, [dataset])
    return found.get(dataset)


def live_schemas(
    conn: Connection, datasets: Iterable[DatasetId] | None = None
) -> dict[DatasetId, ObservedSchema]:
    """The newest live schema version of each dataset (all datasets when None)."""
    sv, d = cs.schema_versions, cs.datasets
    query = (
        select(sv, d.c.namespace, d.c.name, d.c.kind.label("dataset_kind"))
        .join(d, d.c.id == sv.c.dataset_id)
        .where(sv.c.facts.is_not(None))
        .order_by(sv.c.observed_at, sv.c.id)
    )
    wanted = None if datasets is None else set(datasets)
    if wanted is not None:
        query = query.where(d.c.name.in_(sorted({w.name for w in wanted})))
    found: dict[DatasetId, ObservedSchema] = {}
    for row in conn.execute(query):
        dataset_id = DatasetId(row.namespace, row.name)
        if wanted is not None and dataset_id not in wanted:
            continue
        found[dataset_id] = _observed(dataset_id, row)  # newest last: it wins
    return found


def _observed(dataset_id: DatasetId, row: Any) -> ObservedSchema:
    facts = json.loads(row.facts)
    table = LiveTable(
        id=dataset_id,
        kind=DatasetKind(facts.get("kind", DatasetKind.UNKNOWN.value)),
        columns=tuple(LiveColumn.from_dict(c) for c in json.loads(row.fields)),
        comment=facts.get("comment"),
        definition=facts.get("definition"),
        location=facts.get("location"),
    )
    return ObservedSchema(table, row.version, row.observed_by, row.observed_at, row.fingerprint)


def read_layout(conn: Connection, dataset: DatasetId) -> LayoutView | None:
    """The last observed file layout of ``dataset``, or None."""
    return read_layouts(conn, dataset).get(dataset)


def read_layouts(conn: Connection, dataset: DatasetId | None = None) -> dict[DatasetId, LayoutView]:
    """The last observed file layout of every dataset that has one (of one, when given)."""
    dl, d = cs.dataset_layouts, cs.datasets
    query = select(dl, d.c.namespace, d.c.name).join(d, d.c.id == dl.c.dataset_id)
    if dataset is not None:
        query = query.where(*dataset_is(dataset))
    found: dict[DatasetId, LayoutView] = {}
    for row in conn.execute(query):
        dataset_id = DatasetId(row.namespace, row.name)
        findings = tuple(
            Finding(dataset_id, f["kind"], f["message"], Severity(f["severity"]))
            for f in json.loads(row.findings)
        )
        found[dataset_id] = LayoutView(
            FileLayout.from_dict(json.loads(row.layout)), findings, row.observed_by,
            row.observed_at,
        )  # fmt: skip
    return found


def record_profile(conn: Connection, profile: DatasetProfile) -> bool:
    """Record a profile: its figures as metric points, its bounds and sample size beside
    them. Recording the same profile (dataset and time) again adds nothing (False)."""
    ids = ensure_datasets(conn, {profile.dataset}, {}, profile.observed_at).ids
    pk = ids[profile.dataset]
    row = {
        "dataset_id": pk,
        "observed_at": profile.observed_at,
        "sampled_rows": profile.sampled_rows,
        "bounds": canonical_json([list(b) for b in profile.bounds]),
    }
    if not insert_ignore(conn, cs.profiles, [row], ["dataset_id", "observed_at"]):
        return False
    points = [
        {"dataset_id": pk, "name": m.name, "column_name": m.column, "value": float(m.value),
         "observed_at": profile.observed_at, "run_id": None}
        for m in profile.metrics
    ]  # fmt: skip
    insert_ignore(conn, cs.metrics, points, list(cs.metrics_key.expressions))
    return True


def latest_profile(conn: Connection, dataset: DatasetId) -> DatasetProfile | None:
    """The newest profile of ``dataset`` with its figures, or None."""
    return latest_profiles(conn, dataset).get(dataset)


def latest_profiles(
    conn: Connection, dataset: DatasetId | None = None
) -> dict[DatasetId, DatasetProfile]:
    """The newest profile of every profiled dataset (of one, when given), with figures."""
    p, m, d = cs.profiles, cs.metrics, cs.datasets
    newest = select(p.c.dataset_id, func.max(p.c.observed_at).label("observed_at")).group_by(
        p.c.dataset_id
    )
    if dataset is not None:
        newest = newest.join(d, d.c.id == p.c.dataset_id).where(*dataset_is(dataset))
    latest = newest.subquery()
    rows = conn.execute(
        select(p, d.c.namespace, d.c.name)
        .join(latest, (latest.c.dataset_id == p.c.dataset_id)
              & (latest.c.observed_at == p.c.observed_at))
        .join(d, d.c.id == p.c.dataset_id)
    ).all()  # fmt: skip
    figures: dict[int, list[ProfileMetric]] = {}
    if rows:
        points = conn.execute(
            select(m.c.dataset_id, m.c.name, m.c.column_name, m.c.value)
            .join(latest, (latest.c.dataset_id == m.c.dataset_id)
                  & (latest.c.observed_at == m.c.observed_at))
            .where(m.c.run_id.is_(None))
            .order_by(m.c.id)
        )  # fmt: skip
        for point in points:
            figures.setdefault(point.dataset_id, []).append(
                ProfileMetric(point.name, point.value, point.column_name)
            )
    return {
        (dataset_id := DatasetId(row.namespace, row.name)): DatasetProfile(
            dataset=dataset_id,
            observed_at=row.observed_at,
            metrics=tuple(figures.get(row.dataset_id, ())),
            bounds=tuple((str(b[0]), b[1], b[2]) for b in json.loads(row.bounds)),
            sampled_rows=row.sampled_rows,
        )
        for row in rows
    }
