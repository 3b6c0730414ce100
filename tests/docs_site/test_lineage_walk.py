""""What breaks downstream": the dataset walk every page, runbook and JSON shows."""

from __future__ import annotations

import random
from collections import deque

import pytest

from docs_site import reach
from docs_site.lineage_data import ColumnLineageIndex, DownstreamEntry
from lineage.model import (
    ColumnEdge,
    ColumnId,
    DatasetId,
    Transformation,
    TransformationSubtype,
)

_DIRECT = (Transformation.direct(TransformationSubtype.IDENTITY),)
_INDIRECT = (Transformation.indirect(TransformationSubtype.JOIN),)


Graph = dict[DatasetId, dict[DatasetId, bool]]


def _reference_walk(
    down: Graph, start: DatasetId, owners: dict[DatasetId, tuple[str, ...]]
) -> list[DownstreamEntry]:
    """Breadth first over DatasetIds, neighbours in name order: what the site promises."""
    reached = {start: (0, True)}
    queue = deque([start])
    while queue:
        current = queue.popleft()
        distance, direct = reached[current]
        for nxt, hop in sorted(down.get(current, {}).items()):
            if nxt not in reached:
                reached[nxt] = (distance + 1, direct and hop)
                queue.append(nxt)
    del reached[start]
    return [DownstreamEntry(d, n, direct, owners.get(d, ()))
            for d, (n, direct) in sorted(reached.items(), key=lambda kv: (kv[1][0], kv[0]))]


def _random_index(
    rng: random.Random,
) -> tuple[ColumnLineageIndex, list[DatasetId], Graph, Graph, dict[DatasetId, tuple[str, ...]]]:
    ids = [DatasetId(rng.choice(["pg", "duckdb"]), f"db.s.t{i:02d}") for i in range(25)]
    edges: list[ColumnEdge] = []
    down: Graph = {}
    up: Graph = {}
    for _ in range(rng.randint(10, 60)):
        source, target = rng.sample(ids, 2)  # cycles allowed
        direct = rng.random() < 0.6
        edges.append(ColumnEdge(ColumnId(source, "a"), target, "a",
                                _DIRECT if direct else _INDIRECT))  # fmt: skip
        for graph, a, b in ((down, source, target), (up, target, source)):
            graph.setdefault(a, {})[b] = graph.get(a, {}).get(b, False) or direct
    # Job input -> output pairs without column lineage, in no particular order.
    links = [(a, b) for a, b in (rng.sample(ids, 2) for _ in range(rng.randint(0, 15)))]
    for source, target in links:
        for graph, a, b in ((down, source, target), (up, target, source)):
            graph.setdefault(a, {}).setdefault(b, False)
    owners: dict[DatasetId, tuple[str, ...]] = {d: (f"team-{d.name[-1]}",) for d in ids[::3]}
    return ColumnLineageIndex.build(edges, links), ids, down, up, owners


# Counts from reachability bitsets, and (0: past the size that bitsets are kept for) from
# whole walks.
BITSETS = pytest.mark.parametrize("bitsets_up_to", [reach.BITSETS_UP_TO, 0])


@BITSETS
def test_the_nearest_are_the_walk_cut_short_and_the_total_counts_them_all(
    bitsets_up_to: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reach, "BITSETS_UP_TO", bitsets_up_to)
    rng = random.Random(8)
    for _ in range(40):
        index, ids, _, _, owners = _random_index(rng)
        for start in ids:
            for upstream in (False, True):
                whole = index.walk(start, owners, upstream=upstream)
                for limit in (1, 3, 7):
                    near = index.nearest([start], owners, upstream=upstream, limit=limit)
                    assert near.entries == whole[:limit]
                    assert near.total == len(whole)
        # From several datasets at once (a job's outputs): nearest to any, starts left out.
        starts = rng.sample(ids, 3)
        near = index.nearest(starts, owners, upstream=False, limit=None)
        distance: dict[DatasetId, int] = {}
        for start in starts:
            for entry in index.walk(start, owners, upstream=False):
                distance[entry.dataset] = min(distance.get(entry.dataset, 99), entry.distance)
        expected = {d: n for d, n in distance.items() if d not in starts}
        assert {e.dataset: e.distance for e in near.entries} == expected
        assert index.nearest(starts, owners, upstream=False, limit=2).total == len(expected)


@BITSETS
def test_failed_upstream_datasets_are_found_however_far(
    bitsets_up_to: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reach, "BITSETS_UP_TO", bitsets_up_to)
    rng = random.Random(13)
    for _ in range(40):
        index, ids, _, _, owners = _random_index(rng)
        failed = set(rng.sample(ids, 5))
        for start in ids:
            whole = {e.dataset for e in index.walk(start, owners, upstream=True)}
            assert index.reached_among(start, failed, upstream=True) == sorted(whole & failed)


def test_walks_both_ways_match_a_plain_breadth_first_walk_on_random_graphs() -> None:
    rng = random.Random(5)
    for _ in range(30):
        index, ids, down, up, owners = _random_index(rng)
        for start in ids:
            assert index.walk(start, owners, upstream=False) == _reference_walk(down, start, owners)
            assert index.walk(start, owners, upstream=True) == _reference_walk(up, start, owners)


def test_a_walk_is_asked_again_with_other_owners_and_after_a_new_link() -> None:
    a, b, c = (DatasetId("pg", f"db.s.{n}") for n in "abc")
    index = ColumnLineageIndex.build([ColumnEdge(ColumnId(a, "x"), b, "x", _DIRECT)])
    assert [e.owners for e in index.walk(a, {b: ("anna",)}, upstream=False)] == [("anna",)]
    assert [e.owners for e in index.walk(a, {b: ("ben",)}, upstream=False)] == [("ben",)]
    index._link(b, c, False)
    assert [(e.dataset, e.distance, e.direct) for e in index.walk(a, {}, upstream=False)] == [
        (b, 1, True), (c, 2, False),
    ]
