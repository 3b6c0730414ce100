"""The part of the lineage a question can reach, read from the catalog's indexes.

``lineage impact`` and ``lineage show`` used to load every dataset, job and edge into the
graph to walk a few of them: a leaf column cost what a root does. A slice is the closure
of the datasets a walk can reach from its roots — through column edges (the indexed
``source`` / ``target`` columns of ``column_edges``) and through jobs (``job_io``, for
table-level lineage) — read layer by layer, each layer a few ``IN`` queries. Built into a
``LineageGraph`` it answers exactly what the whole graph would, for walks from those roots:

- every edge that touches a reached dataset is read, in both directions, so each reached
  dataset has all its column nodes (those only ever named as a target too) and the
  table-level hops of its jobs know which dataset pairs column edges already link;
- every job reading or writing a reached dataset is read, so owners (the dataset's and
  its writers') are the same;
- rows come back in the catalog's own order (datasets and jobs by name, edges sorted as
  ``read_edges`` sorts them), so the walk meets equal-length paths in the same order.

A column hop crosses at most one dataset boundary, so ``depth`` hops need at most
``depth`` layers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, or_, select

from lineage.catalog import read
from lineage.catalog import tables as cs
from lineage.catalog.sql import CHUNK, chunks
from lineage.model import ColumnEdge, Dataset, DatasetId, Job

__all__ = ["LineageSlice", "read_slice"]


@dataclass(frozen=True)
class LineageSlice:
    """What ``LineageGraph.build`` needs to answer walks from the slice's roots."""

    datasets: list[Dataset]
    jobs: list[Job]
    edges: list[ColumnEdge]


def read_slice(
    conn: Connection,
    roots: Iterable[DatasetId],
    *,
    upstream: bool,
    downstream: bool,
    depth: int | None = None,
    upstream_depth: int | None = None,
) -> LineageSlice:
    """The datasets reachable from ``roots`` downstream and/or upstream, each direction
    walked on its own (what lies upstream of a downstream dataset is not a walk's), at
    most ``depth`` dataset layers away (``upstream_depth``, when given, for the upstream
    side), with every job and edge that touches them."""
    names = read.dataset_names(conn)
    pk_of = {dataset: pk for pk, dataset in names.items()}
    start = {pk_of[root] for root in roots if root in pk_of}
    reached = set(start)
    if downstream:
        reached |= _closure(conn, start, upstream=False, depth=depth)
    if upstream:
        up_depth = depth if upstream_depth is None else upstream_depth
        reached |= _closure(conn, start, upstream=True, depth=up_depth)
    return _materialise(conn, sorted(reached), names)


def _closure(conn: Connection, start: set[int], *, upstream: bool, depth: int | None) -> set[int]:
    """``start`` and what lies at most ``depth`` layers from it in one direction."""
    reached = set(start)
    frontier = set(start)
    layer = 0
    while frontier and (depth is None or layer < depth):
        frontier = _next_layer(conn, frontier, upstream=upstream) - reached
        reached |= frontier
        layer += 1
    return reached


def _next_layer(conn: Connection, frontier: set[int], *, upstream: bool) -> set[int]:
    """Datasets one column edge or one job away from ``frontier``."""
    e, io = cs.column_edges, cs.job_io
    near, far = (
        (e.c.target_dataset_id, e.c.source_dataset_id)
        if upstream
        else (e.c.source_dataset_id, e.c.target_dataset_id)
    )
    here, there = ("output", "input") if upstream else ("input", "output")
    found: set[int] = set()
    for chunk in chunks(sorted(frontier)):
        found.update(conn.execute(select(far).where(near.in_(chunk)).distinct()).scalars())
        jobs = (
            select(io.c.job_id)
            .where(io.c.direction == here, io.c.dataset_id.in_(chunk))
            .scalar_subquery()
        )
        found.update(
            conn.execute(
                select(io.c.dataset_id)
                .where(io.c.direction == there, io.c.job_id.in_(jobs))
                .distinct()
            ).scalars()
        )
    return found


def _materialise(
    conn: Connection, reached: list[int], names: dict[int, DatasetId]
) -> LineageSlice:
    d, e, io, j = cs.datasets, cs.column_edges, cs.job_io, cs.jobs
    dataset_rows: list[Row[Any]] = []
    job_ids: set[int] = set()
    edges: list[ColumnEdge] = []
    for chunk in chunks(reached):
        dataset_rows.extend(conn.execute(select(d).where(d.c.id.in_(chunk))).all())
        job_ids.update(
            conn.execute(select(io.c.job_id).where(io.c.dataset_id.in_(chunk))).scalars()
        )
        touching = or_(e.c.source_dataset_id.in_(chunk), e.c.target_dataset_id.in_(chunk))
        edges.extend(read.read_edges(conn, where=touching, names=names))
    job_rows: list[Row[Any]] = []
    for chunk in chunks(sorted(job_ids)):
        job_rows.extend(conn.execute(select(j).where(j.c.id.in_(chunk))).all())
    datasets = read.build_datasets(conn, dataset_rows)
    jobs = read.build_jobs(conn, job_rows, names=names)
    if len(reached) > CHUNK:  # several queries: an edge may come twice, and out of order
        edges = sorted(set(edges), key=read.edge_order)
    return LineageSlice(datasets, jobs, edges)
