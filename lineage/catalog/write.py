"""The write plan: one idempotent, incremental ``Catalog.write`` of a lineage batch.

A batch is normalized first (``WritePlan.of``: last occurrence wins, edges merged per key
and grouped by job, one fingerprint per job over its fields and sorted edges). Writing it
then, in the caller's transaction, skips a job whose fingerprint is unchanged, replaces the
IO and edges of a changed one, and adds a schema version only when a dataset's fields
differ from the latest version seen by the same observer.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, bindparam, select, update

from lineage.catalog import tables as cs
from lineage.catalog.sql import canonical_json, chunks, digest, fast_insert, insert_ignore
from lineage.errors import CatalogError
from lineage.model import Dataset, DatasetId, DatasetKind, Job, LineageBatch, Schema, Transformation

__all__ = ["WritePlan", "WriteSummary", "ensure_datasets", "fields_fingerprint", "write_plan"]

# source namespace, name, field, target namespace, name, field ('' for the whole dataset)
_EdgeKey = tuple[str, str, str, str, str, str]
_JobKey = tuple[str, str]  # namespace, name
_EdgeRow = tuple[int | None, int, str, int, str]  # job, source ds, field, target ds, field


@dataclass(frozen=True)
class WriteSummary:
    """What one ``Catalog.write`` changed."""

    datasets_added: int = 0
    datasets_updated: int = 0
    schema_versions_added: int = 0
    jobs_added: int = 0
    jobs_changed: int = 0
    jobs_unchanged: int = 0
    edges_added: int = 0
    edges_removed: int = 0


def write_plan(conn: Connection, plan: WritePlan, observer: str, now: datetime) -> WriteSummary:
    """Write a normalized batch inside ``conn``'s transaction; what it changed."""
    return _Writer(conn, plan, observer, now).run()


@dataclass
class WritePlan:
    """A batch normalized: last occurrence wins, edges merged per key and grouped by job."""

    datasets: dict[DatasetId, Dataset]
    jobs: dict[_JobKey, Job]
    job_edges: dict[_JobKey, dict[_EdgeKey, str]]
    loose_edges: dict[_EdgeKey, str]  # edges without a job
    fingerprints: dict[_JobKey, str]

    @classmethod
    def of(cls, batch: LineageBatch) -> WritePlan:
        datasets = {d.id: d for d in batch.datasets}
        jobs = {(j.namespace, j.name): j for j in batch.jobs}
        by_name: dict[str, list[_JobKey]] = {}  # edges name jobs by name only
        for job_key in jobs:
            by_name.setdefault(job_key[1], []).append(job_key)
        merged: dict[_JobKey | None, dict[_EdgeKey, tuple[Transformation, ...]]] = {}
        # Plain-string keys: hashing them is much cheaper than hashing DatasetIds.
        for edge in batch.edges:
            owner: _JobKey | None = None
            if edge.job is not None:
                keys = by_name.get(edge.job, ())
                if len(keys) != 1:
                    problem = (
                        "is not in the batch"
                        if not keys
                        else "is ambiguous: " + ", ".join(f"{ns}/{name}" for ns, name in keys)
                    )
                    raise CatalogError(
                        f"column edge {edge.source} -> {edge.target.name}."
                        f"{edge.target_field or '*'} names job {edge.job!r}, which {problem}"
                    )
                owner = keys[0]
            source, target = edge.source.dataset, edge.target
            key = (
                source.namespace,
                source.name,
                edge.source.name,
                target.namespace,
                target.name,
                edge.target_field or "",
            )
            bucket = merged.get(owner)
            if bucket is None:
                bucket = merged[owner] = {}
            before = bucket.get(key)
            bucket[key] = edge.transformations if before is None else before + edge.transformations
        seen: dict[int, str] = {}  # by identity: the batch keeps every tuple alive meanwhile

        def as_text(ts: tuple[Transformation, ...]) -> str:
            found = seen.get(id(ts))
            if found is None:
                found = seen[id(ts)] = _transformations_json(ts)
            return found

        as_json = {
            by: {key: as_text(ts) for key, ts in edges.items()} for by, edges in merged.items()
        }
        job_edges = {job_key: as_json.get(job_key, {}) for job_key in jobs}
        fingerprints = {k: _job_fingerprint(job, job_edges[k]) for k, job in jobs.items()}
        return cls(datasets, jobs, job_edges, as_json.get(None, {}), fingerprints)


def _job_fingerprint(job: Job, edges: dict[_EdgeKey, str]) -> str:
    return digest(
        {
            "namespace": job.namespace,
            "name": job.name,
            "kind": job.kind,
            "sql": job.sql,
            "source_file": job.source_file,
            "owners": list(job.owners),
            "description": job.description,
            "inputs": [[d.namespace, d.name] for d in job.inputs],
            "outputs": [[d.namespace, d.name] for d in job.outputs],
            "edges": sorted((*key, ts) for key, ts in edges.items()),
        }
    )


def _edge_datasets(edges: Iterable[_EdgeKey]) -> set[DatasetId]:
    pairs = {(k[0], k[1]) for k in edges} | {(k[3], k[4]) for k in edges}
    return {DatasetId(ns, name) for ns, name in pairs}


@dataclass
class _Resolved:
    ids: dict[DatasetId, int]
    rows: dict[DatasetId, Row[Any]]
    added: set[DatasetId] = field(default_factory=set)


def _select_datasets(conn: Connection, wanted: Iterable[DatasetId]) -> dict[DatasetId, Row[Any]]:
    wanted = set(wanted)
    found: dict[DatasetId, Row[Any]] = {}
    for chunk in chunks(sorted({d.name for d in wanted})):
        for row in conn.execute(select(cs.datasets).where(cs.datasets.c.name.in_(chunk))):
            key = DatasetId(row.namespace, row.name)
            if key in wanted:
                found[key] = row
    return found


def ensure_datasets(
    conn: Connection,
    wanted: set[DatasetId],
    listed: dict[DatasetId, Dataset],
    now: datetime,
) -> _Resolved:
    """Rows of ``wanted``, inserting the missing ones (listed: full metadata; else unknown)."""
    rows = _select_datasets(conn, wanted)
    missing = sorted(wanted - rows.keys())
    if missing:
        unknown = _unknown_dataset_values()
        new_rows = []
        for dataset_id in missing:
            listed_dataset = listed.get(dataset_id)
            values = _dataset_values(listed_dataset) if listed_dataset else unknown
            new_rows.append(
                {
                    "namespace": dataset_id.namespace,
                    "name": dataset_id.name,
                    **values,
                    "schema_fingerprint": None,
                    "updated_at": now,
                }
            )
        insert_ignore(conn, cs.datasets, new_rows, ["namespace", "name"])
        rows.update(_select_datasets(conn, missing))
    return _Resolved({key: row.id for key, row in rows.items()}, rows, set(missing))


class _Writer:
    """One ``Catalog.write``: every step inside the caller's transaction."""

    def __init__(self, conn: Connection, plan: WritePlan, observer: str, now: datetime) -> None:
        self.conn = conn
        self.plan = plan
        self.observer = observer
        self.now = now
        self.counts: dict[str, int] = {f.name: 0 for f in fields(WriteSummary)}
        self.updated: set[DatasetId] = set()

    def run(self) -> WriteSummary:
        plan = self.plan
        existing = self._existing_jobs()
        new = [key for key in plan.jobs if key not in existing]
        changed = [
            key
            for key in plan.jobs
            if key in existing and existing[key][1] != plan.fingerprints[key]
        ]
        self.counts["jobs_added"] = len(new)
        self.counts["jobs_changed"] = len(changed)
        self.counts["jobs_unchanged"] = len(plan.jobs) - len(new) - len(changed)

        wanted = set(plan.datasets)
        for key in (*new, *changed):
            job = plan.jobs[key]
            wanted.update(job.inputs, job.outputs)
            wanted.update(_edge_datasets(plan.job_edges[key]))
        wanted.update(_edge_datasets(plan.loose_edges))
        resolved = ensure_datasets(self.conn, wanted, plan.datasets, self.now)
        self.counts["datasets_added"] = len(resolved.added)

        self._update_metadata(resolved)
        self._add_schema_versions(resolved)
        job_ids = self._write_jobs(new, changed, existing)
        self._write_io(job_ids, resolved.ids, [existing[k][0] for k in changed])
        by_pair = {(d.namespace, d.name): pk for d, pk in resolved.ids.items()}
        self._write_job_edges(job_ids, by_pair, [existing[k][0] for k in changed])
        self._write_loose_edges(by_pair)
        self.counts["datasets_updated"] = len(self.updated - resolved.added)
        return WriteSummary(**self.counts)

    def _existing_jobs(self) -> dict[_JobKey, tuple[int, str]]:
        t = cs.jobs
        found: dict[_JobKey, tuple[int, str]] = {}
        names = sorted({name for _, name in self.plan.jobs})
        for chunk in chunks(names):
            query = select(t.c.id, t.c.namespace, t.c.name, t.c.fingerprint).where(
                t.c.name.in_(chunk)
            )
            for row in self.conn.execute(query):
                key = (row.namespace, row.name)
                if key in self.plan.jobs:
                    found[key] = (row.id, row.fingerprint)
        return found

    def _update_metadata(self, resolved: _Resolved) -> None:
        updates = []
        for dataset_id, dataset in self.plan.datasets.items():
            if dataset_id in resolved.added:
                continue
            row = resolved.rows[dataset_id]
            values = _dataset_values(dataset)
            if row.source_file and row.source_file != dataset.source_file:
                # Another file (a SQL script touching a dbt model's table) adds what it knows
                # but never erases what the file that defines the dataset wrote.
                values = {
                    name: value
                    for name, value in values.items()
                    if value not in (None, "", "[]", "{}", False)
                    and name != "source_file"
                    and (name != "kind" or row.kind == DatasetKind.UNKNOWN.value)
                }
            if any(getattr(row, name) != value for name, value in values.items()):
                updates.append({"b_id": row.id, **values, "updated_at": self.now})
                self.updated.add(dataset_id)
        if updates:
            t = cs.datasets
            self.conn.execute(update(t).where(t.c.id == bindparam("b_id")), updates)

    def _add_schema_versions(self, resolved: _Resolved) -> None:
        observed = {
            resolved.ids[d]: (d, dataset.schema)
            for d, dataset in self.plan.datasets.items()
            if dataset.schema is not None
        }
        if not observed:
            return
        sv = cs.schema_versions
        latest: dict[int, tuple[int, str]] = {}
        for chunk in chunks(sorted(observed)):
            query = select(sv.c.dataset_id, sv.c.version, sv.c.fingerprint).where(
                sv.c.observed_by == self.observer, sv.c.dataset_id.in_(chunk)
            )
            for row in self.conn.execute(query):
                if row.version > latest.get(row.dataset_id, (0, ""))[0]:
                    latest[row.dataset_id] = (row.version, row.fingerprint)
        versions: list[dict[str, Any]] = []
        column_rows: list[dict[str, Any]] = []
        current: list[dict[str, Any]] = []
        for dataset_pk, (dataset_id, schema) in observed.items():
            fingerprint = fields_fingerprint(schema)
            version, previous = latest.get(dataset_pk, (0, None))
            if previous == fingerprint:
                continue
            versions.append(
                {
                    "dataset_id": dataset_pk,
                    "version": version + 1,
                    "fields": canonical_json(_fields_doc(schema)),
                    "fingerprint": fingerprint,
                    "observed_by": self.observer,
                    "observed_at": self.now,
                }
            )
            row = resolved.rows[dataset_id]
            # A documented schema replaces live columns, even equal ones (it owns them then).
            if row.schema_fingerprint != fingerprint or row.schema_source is not None:
                current.append(
                    {"b_id": dataset_pk, "schema_fingerprint": fingerprint, "schema_source": None}
                )
                column_rows.extend(
                    {
                        "dataset_id": dataset_pk,
                        "ordinal": i,
                        "name": f.name,
                        "type": f.type,
                        "description": f.description,
                    }
                    for i, f in enumerate(schema.fields)
                )
            self.updated.add(dataset_id)
        if not versions:
            return
        self.conn.execute(sv.insert(), versions)
        self.counts["schema_versions_added"] = len(versions)
        if current:
            ids = [row["b_id"] for row in current]
            for chunk in chunks(ids):
                self.conn.execute(cs.columns.delete().where(cs.columns.c.dataset_id.in_(chunk)))
            fast_insert(self.conn, cs.columns, column_rows)
            t = cs.datasets
            self.conn.execute(update(t).where(t.c.id == bindparam("b_id")), current)

    def _job_values(self, key: _JobKey) -> dict[str, Any]:
        job = self.plan.jobs[key]
        return {
            "kind": job.kind,
            "sql": job.sql,
            "source_file": job.source_file,
            "owners": canonical_json(list(job.owners)),
            "description": job.description,
            "fingerprint": self.plan.fingerprints[key],
            "updated_at": self.now,
        }

    def _write_jobs(
        self, new: list[_JobKey], changed: list[_JobKey], existing: dict[_JobKey, tuple[int, str]]
    ) -> dict[_JobKey, int]:
        t = cs.jobs
        ids = {key: existing[key][0] for key in changed}
        if new:
            self.conn.execute(
                t.insert(),
                [
                    {"namespace": ns, "name": name, **self._job_values((ns, name))}
                    for ns, name in new
                ],
            )
            wanted = set(new)
            for chunk in chunks(sorted({name for _, name in new})):
                query = select(t.c.id, t.c.namespace, t.c.name).where(t.c.name.in_(chunk))
                for row in self.conn.execute(query):
                    if (row.namespace, row.name) in wanted:
                        ids[(row.namespace, row.name)] = row.id
        if changed:
            self.conn.execute(
                update(t).where(t.c.id == bindparam("b_id")),
                [{"b_id": ids[key], **self._job_values(key)} for key in changed],
            )
        return ids

    def _write_io(
        self, job_ids: dict[_JobKey, int], dataset_ids: dict[DatasetId, int], changed: list[int]
    ) -> None:
        for chunk in chunks(changed):
            self.conn.execute(cs.job_io.delete().where(cs.job_io.c.job_id.in_(chunk)))
        rows: list[dict[str, Any]] = []
        for key, job_id in job_ids.items():
            job = self.plan.jobs[key]
            for direction, datasets in (("input", job.inputs), ("output", job.outputs)):
                rows.extend(
                    {
                        "job_id": job_id,
                        "direction": direction,
                        "ordinal": i,
                        "dataset_id": dataset_ids[d],
                    }
                    for i, d in enumerate(datasets)
                )
        if rows:
            self.conn.execute(cs.job_io.insert(), rows)

    def _write_job_edges(
        self, job_ids: dict[_JobKey, int], ids: dict[tuple[str, str], int], changed: list[int]
    ) -> None:
        wanted: dict[_EdgeRow, str] = {}
        for key, job_id in job_ids.items():
            for (sns, sname, sf, tns, tname, tf), ts in self.plan.job_edges[key].items():
                wanted[(job_id, ids[sns, sname], sf, ids[tns, tname], tf)] = ts
        # A changed job's edges are all its own: what it no longer has goes.
        self._reconcile_edges(wanted, changed, cs.column_edges.c.job_id.in_, keep_others=False)

    def _write_loose_edges(self, ids: dict[tuple[str, str], int]) -> None:
        if not self.plan.loose_edges:
            return
        e = cs.column_edges
        wanted: dict[_EdgeRow, str] = {
            (None, ids[sns, sname], sf, ids[tns, tname], tf): ts
            for (sns, sname, sf, tns, tname, tf), ts in self.plan.loose_edges.items()
        }
        targets = sorted({key[3] for key in wanted})
        # Edges without a job into these datasets may come from other observations: kept.
        self._reconcile_edges(
            wanted,
            targets,
            lambda chunk: e.c.job_id.is_(None) & e.c.target_dataset_id.in_(chunk),
            keep_others=True,
        )

    def _reconcile_edges(
        self,
        wanted: dict[_EdgeRow, str],
        keys: list[int],
        where: Callable[[Sequence[Any]], ColumnElement[bool]],
        *,
        keep_others: bool,
    ) -> None:
        """Make the stored edges that ``where(chunk of keys)`` selects match ``wanted``:
        edges stored as wanted stay, changed ones are replaced, and the others are deleted
        unless ``keep_others``."""
        e = cs.column_edges
        stale: list[int] = []
        for chunk in chunks(keys):
            query = select(
                e.c.id,
                e.c.job_id,
                e.c.source_dataset_id,
                e.c.source_field,
                e.c.target_dataset_id,
                e.c.target_field,
                e.c.transformations,
            ).where(where(chunk))
            for row in self.conn.execute(query):
                edge_key = (
                    row.job_id,
                    row.source_dataset_id,
                    row.source_field,
                    row.target_dataset_id,
                    row.target_field,
                )
                if edge_key not in wanted:
                    if not keep_others:
                        stale.append(row.id)
                elif wanted[edge_key] == row.transformations:
                    del wanted[edge_key]  # already stored as is
                else:
                    stale.append(row.id)
        for chunk in chunks(stale):
            self.conn.execute(e.delete().where(e.c.id.in_(chunk)))
        self._insert_edges(wanted)
        self.counts["edges_removed"] += len(stale)

    def _insert_edges(self, edges: dict[_EdgeRow, str]) -> None:
        if not edges:
            return
        fast_insert(
            self.conn,
            cs.column_edges,
            [
                {
                    "job_id": job_id,
                    "source_dataset_id": s,
                    "source_field": sf,
                    "target_dataset_id": t,
                    "target_field": tf,
                    "transformations": ts,
                }
                for (job_id, s, sf, t, tf), ts in edges.items()
            ],
        )
        self.counts["edges_added"] += len(edges)


# -- values ------------------------------------------------------------------------------


def _fields_doc(schema: Schema) -> list[dict[str, str | None]]:
    return [{"name": f.name, "type": f.type, "description": f.description} for f in schema.fields]


def fields_fingerprint(schema: Schema) -> str:
    """A digest of the fields (name, type, description), in order."""
    doc = [[f.name, f.type, f.description] for f in schema.fields]
    return hashlib.sha256(json.dumps(doc, separators=(",", ":")).encode("utf-8")).hexdigest()


def _dataset_values(dataset: Dataset) -> dict[str, Any]:
    """The metadata columns of a dataset row (everything but identity and schema)."""
    return {
        "kind": DatasetKind(dataset.kind).value,
        "description": dataset.description,
        "owners": canonical_json(list(dataset.owners)) if dataset.owners else "[]",
        "tags": canonical_json(list(dataset.tags)) if dataset.tags else "[]",
        "meta": dataset.meta,
        "contract_enforced": bool(dataset.contract_enforced),
        "freshness": canonical_json(asdict(dataset.freshness)) if dataset.freshness else None,
        "source_file": dataset.source_file,
        "tests": canonical_json([asdict(t) for t in dataset.tests]) if dataset.tests else "[]",
    }


def _unknown_dataset_values() -> dict[str, Any]:
    return _dataset_values(Dataset(DatasetId("", ""), kind=DatasetKind.UNKNOWN))


_TRANSFORMATIONS_JSON: dict[tuple[Transformation, ...], str] = {}


def _transformations_json(transformations: tuple[Transformation, ...]) -> str:
    """Canonical JSON (sorted, without duplicates); memoized, as a batch repeats a few."""
    found = _TRANSFORMATIONS_JSON.get(transformations)
    if found is None:
        found = canonical_json([t.to_dict() for t in sorted(set(transformations))])
        if len(_TRANSFORMATIONS_JSON) < 4096:
            _TRANSFORMATIONS_JSON[transformations] = found
    return found
