"""A lineage slice answers every walk from its roots exactly as the whole graph does.

The catalog is generated with the shapes that a naive closure gets wrong: columns known
only as edge targets, dataset-level edges (a filter's input), table-level jobs without
column edges, a job that reads and writes the same dataset, a cycle between two datasets,
owners that come from writer jobs, datasets nobody links to. Walks are compared as their
JSON (every entry, distance, DIRECT/INDIRECT flag, path and owner), from every dataset
and a sample of columns, both ways, unbounded and at depth 1 and 2; once with the
catalog's normal IN-list size and once with a tiny one, so that the slice is read in
many chunks; on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from lineage.catalog import Catalog, slices
from lineage.catalog import sql as catalog_sql
from lineage.graph import LineageGraph, Node
from lineage.model import (
    ColumnEdge,
    ColumnId,
    Dataset,
    DatasetId,
    Field,
    Job,
    LineageBatch,
    Schema,
    Transformation,
    TransformationSubtype,
)

NS = "duckdb://wh"
KINDS = (
    Transformation.direct(TransformationSubtype.IDENTITY),
    Transformation.direct(TransformationSubtype.TRANSFORMATION),
    Transformation.indirect(TransformationSubtype.FILTER),
    Transformation.indirect(TransformationSubtype.JOIN),
)


def _batch(models: int = 60, seed: int = 3) -> LineageBatch:
    rng = random.Random(seed)
    datasets: list[Dataset] = []
    jobs: list[Job] = []
    edges: list[ColumnEdge] = []
    for i in range(models):
        dataset_id = DatasetId(NS, f"wh.s.t{i:03d}")
        fields = tuple(Field(f"c{c}", "int") for c in range(rng.randint(2, 5)))
        documented = i % 7 != 3  # some datasets have no documented schema at all
        datasets.append(
            Dataset(dataset_id, schema=Schema(fields) if documented else None,
                    owners=(f"team-{i % 4}",) if i % 3 else ())
        )  # fmt: skip
        if i < 6 or i % 11 == 0:
            continue  # sources, and a few datasets nothing writes
        parents = rng.sample(datasets[:i], k=min(i, rng.randint(1, 3)))
        job = f"job_{i:03d}"
        table_level = i % 9 == 0  # a job whose events carried no column lineage
        jobs.append(Job(NS, job, inputs=tuple(p.id for p in parents), outputs=(dataset_id,),
                        owners=(f"writer-{i % 5}",) if i % 2 else ()))  # fmt: skip
        if table_level:
            continue
        for n in range(rng.randint(1, 6)):
            parent = rng.choice(parents)
            source = f"c{rng.randrange(5)}"  # may be a column the parent never documented
            target = None if n == 0 and i % 4 == 0 else f"c{rng.randrange(7)}"
            edges.append(ColumnEdge(ColumnId(parent.id, source), dataset_id, target,
                                    (rng.choice(KINDS),), job))  # fmt: skip
    # A cycle between two datasets and a job reading what it writes.
    a, b = datasets[20].id, datasets[21].id
    edges.append(ColumnEdge(ColumnId(b, "c0"), a, "c1", (KINDS[0],), "job_cycle"))
    jobs.append(Job(NS, "job_cycle", inputs=(b,), outputs=(a,)))
    jobs.append(Job(NS, "job_self", inputs=(datasets[30].id,), outputs=(datasets[30].id,)))
    edges.append(ColumnEdge(ColumnId(datasets[30].id, "c0"), datasets[30].id, "c9",
                            (KINDS[1],), "job_self"))  # fmt: skip
    return LineageBatch(tuple(datasets), tuple(jobs), tuple(edges))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def catalog(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Catalog]:
    """The generated catalog in SQLite, and in PostgreSQL (a team's catalog)."""
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            path: Path = tmp_path_factory.mktemp("slices") / "catalog.db"
            url = f"sqlite:///{path}"
        else:
            server = request.getfixturevalue("postgres_server")
            url = stack.enter_context(server.fresh_database("slices"))
        opened = stack.enter_context(Catalog(url))
        opened.write(_batch())
        yield opened


def _roots(graph: LineageGraph) -> list[Node]:
    rng = random.Random(5)
    columns = [c for d in graph.datasets for c in graph.columns_of(d)]
    return [*graph.datasets, *rng.sample(columns, k=min(len(columns), 30))]


def _sliced(catalog: Catalog, node: Node, upstream: bool, depth: int | None) -> LineageGraph:
    root = node.dataset if isinstance(node, ColumnId) else node
    found = catalog.lineage_slice([root], upstream=upstream, downstream=not upstream,
                                  depth=depth)  # fmt: skip
    return LineageGraph.build(found.datasets, found.jobs, found.edges)


@pytest.mark.parametrize("chunk", [catalog_sql.CHUNK, 4])
def test_every_walk_from_a_slice_equals_the_whole_graphs(
    catalog: Catalog, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(catalog_sql, "CHUNK", chunk)
    monkeypatch.setattr(slices, "CHUNK", chunk)
    whole = LineageGraph.from_catalog(catalog)
    compared = 0
    for node in _roots(whole):
        for upstream in (False, True):
            for depth in (None, 2):
                expected = whole.impact(node, depth=depth, upstream=upstream).to_dict()
                got = _sliced(catalog, node, upstream, depth).impact(
                    node, depth=depth, upstream=upstream
                )
                assert got.to_dict() == expected, (node, upstream, depth)
                compared += 1
    assert compared > 300
    # Not vacuous: some walks reach far, and leaves read a small part of the catalog.
    reach = [len(whole.impact(d).datasets) for d in whole.datasets]
    assert max(reach) > 10 and min(reach) == 0


def test_a_leaf_reads_only_its_neighbourhood(catalog: Catalog) -> None:
    whole = LineageGraph.from_catalog(catalog)
    leaf = next(d for d in whole.datasets if not whole.impact(d).datasets)
    found = catalog.lineage_slice([leaf], upstream=False, downstream=True)
    assert [d.id for d in found.datasets] == [leaf]
    assert len(found.edges) < len(catalog.column_edges()) / 10


def test_a_one_hop_slice_shows_a_dataset_as_the_whole_graph_does(catalog: Catalog) -> None:
    from lineage.views import describe_dataset

    whole = LineageGraph.from_catalog(catalog)
    for dataset in whole.datasets:
        found = catalog.lineage_slice([dataset], upstream=True, downstream=True, depth=1)
        near = LineageGraph.build(found.datasets, found.jobs, found.edges)
        assert describe_dataset(catalog, near, dataset) == describe_dataset(
            catalog, whole, dataset
        ), dataset


def test_each_direction_has_its_own_depth(catalog: Catalog) -> None:
    # What run-time drift reads: everything downstream, one hop upstream, each direction
    # walked on its own.
    whole = LineageGraph.from_catalog(catalog)
    for dataset in whole.datasets:
        found = catalog.lineage_slice([dataset], upstream=True, downstream=True,
                                      upstream_depth=1)  # fmt: skip
        near = LineageGraph.build(found.datasets, found.jobs, found.edges)
        assert near.impact(dataset).to_dict() == whole.impact(dataset).to_dict()
        up = near.impact(dataset, depth=1, upstream=True).to_dict()
        assert up == whole.impact(dataset, depth=1, upstream=True).to_dict()
