"""The dataset graph on integer ranks: nearest datasets up or downstream, and how many.

Every page, runbook and dataset JSON of the site shows what lies downstream (and the
runbook what lies upstream) of a dataset. The whole reachable set of every dataset is
quadratic in the project (3,000 models: 310 MB of JSON and most of the build), so a page
gets the ``limit`` nearest datasets from a breadth-first walk that stops as soon as they
are known, and the size of the whole set from reachability bitsets, computed once for the
site over the graph's strongly connected components (a cycle is allowed).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from lineage.model import DatasetId

__all__ = ["BITSETS_UP_TO", "Nearest", "RankedGraph"]

#: Up to this many datasets the counts come from bitsets (20,000: 50 MB a direction);
#: above, from whole walks: slower, in bounded memory.
BITSETS_UP_TO = 20_000


@dataclass(frozen=True)
class Nearest:
    """The nearest datasets reached from a start: ``(rank, distance, direct)`` in
    (distance, name) order, and how many datasets are reachable in all."""

    found: list[tuple[int, int, bool]]
    total: int


@dataclass
class RankedGraph:
    """``ids[rank]`` in name order; each adjacency list sorted by rank (so by name), with
    the hop's DIRECT flag."""

    ids: list[DatasetId]
    rank: dict[DatasetId, int]
    down: list[list[tuple[int, bool]]]
    up: list[list[tuple[int, bool]]]
    _reach: dict[bool, list[int]] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, dataset_down: Mapping[DatasetId, Mapping[DatasetId, bool]]) -> RankedGraph:
        nodes = set(dataset_down)
        for targets in dataset_down.values():
            nodes.update(targets)
        ids = sorted(nodes)
        rank = {d: r for r, d in enumerate(ids)}
        down: list[list[tuple[int, bool]]] = [[] for _ in ids]
        up: list[list[tuple[int, bool]]] = [[] for _ in ids]
        for source, targets in dataset_down.items():
            for target, direct in targets.items():
                down[rank[source]].append((rank[target], direct))
                up[rank[target]].append((rank[source], direct))
        for adjacency in (*down, *up):
            adjacency.sort()
        return cls(ids, rank, down, up)

    def nearest(self, starts: Iterable[int], upstream: bool, limit: int | None) -> Nearest:
        """Breadth first from ``starts`` (neighbours in name order), the starts left out: a
        dataset is ``direct`` when the first path that reached it is DIRECT at every hop.
        With a ``limit``, the walk ends once the ``limit`` nearest are certain."""
        adjacency = self.up if upstream else self.down
        origins = list(dict.fromkeys(starts))
        distance = dict.fromkeys(origins, 0)
        direct = dict.fromkeys(origins, True)
        queue = deque(origins)
        level, complete = 0, True
        while queue:
            current = queue.popleft()
            if distance[current] > level:
                # Every dataset up to this distance is known now: enough to stop?
                level = distance[current]
                if limit is not None and len(distance) - len(origins) >= limit:
                    complete = False
                    break
            step, current_direct = distance[current] + 1, direct[current]
            for nxt, hop_direct in adjacency[current]:
                if nxt not in distance:
                    distance[nxt] = step
                    direct[nxt] = current_direct and hop_direct
                    queue.append(nxt)
        reached = sorted((d, r) for r, d in distance.items() if d)
        if limit is not None:
            reached = reached[:limit]
        found = [(r, d, direct[r]) for d, r in reached]
        total = len(distance) - len(origins) if complete else self.count(origins, upstream)
        return Nearest(found, total)

    def count(self, starts: Iterable[int], upstream: bool) -> int:
        """How many datasets are reachable from ``starts``, the starts left out."""
        chosen = list(starts)
        if len(self.ids) > BITSETS_UP_TO:  # n bitsets of n bits: too much memory
            return len(self.nearest(chosen, upstream, limit=None).found)
        reach = self.reach(upstream)
        mask = 0
        for start in chosen:
            mask |= reach[start]
        for start in chosen:
            mask &= ~(1 << start)
        return mask.bit_count()

    def reached_among(self, start: int, upstream: bool, among: int) -> list[int]:
        """The ranks in bitset ``among`` reachable from ``start``, in name order."""
        if len(self.ids) > BITSETS_UP_TO:
            reached = self.mask_of(r for r, _, _ in self.nearest([start], upstream, None).found)
            hits = reached & among
        else:
            hits = self.reach(upstream)[start] & among & ~(1 << start)
        found = []
        while hits:
            low = hits & -hits
            found.append(low.bit_length() - 1)
            hits ^= low
        return found

    def mask(self, datasets: Iterable[DatasetId]) -> int:
        """The bitset of ``datasets`` (those in the graph)."""
        return self.mask_of(r for r in map(self.rank.get, datasets) if r is not None)

    @staticmethod
    def mask_of(ranks: Iterable[int]) -> int:
        bits = 0
        for rank in ranks:
            bits |= 1 << rank
        return bits

    def reach(self, upstream: bool) -> list[int]:
        """Per rank, the bitset of every rank reachable from it (itself only on a cycle);
        n bitsets of up to n bits, so only up to ``BITSETS_UP_TO`` datasets (else empty:
        ``count`` and ``reached_among`` walk instead)."""
        if len(self.ids) > BITSETS_UP_TO:
            return []
        found = self._reach.get(upstream)
        if found is None:
            found = self._reach[upstream] = _reach_sets(self.up if upstream else self.down)
        return found


def _reach_sets(adjacency: list[list[tuple[int, bool]]]) -> list[int]:
    """Reachability bitsets by Tarjan's strongly connected components (iterative): each
    component is finished after every component it reaches, so one pass fills them."""
    count = len(adjacency)
    index = [-1] * count
    low = [0] * count
    on_stack = [False] * count
    stack: list[int] = []
    component_of = [-1] * count
    reach_of_component: list[int] = []
    counter = 0
    for root in range(count):
        if index[root] != -1:
            continue
        work = [(root, 0)]
        while work:
            node, position = work[-1]
            if position == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack[node] = True
            neighbours = adjacency[node]
            if position < len(neighbours):
                work[-1] = (node, position + 1)
                nxt = neighbours[position][0]
                if index[nxt] == -1:
                    work.append((nxt, 0))
                elif on_stack[nxt]:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] != index[node]:
                continue
            members = []
            while True:
                member = stack.pop()
                on_stack[member] = False
                members.append(member)
                if member == node:
                    break
            component = len(reach_of_component)
            bits = 0
            for member in members:
                component_of[member] = component
            for member in members:
                for nxt, _ in adjacency[member]:
                    other = component_of[nxt]
                    if other != component:  # finished before this one: already filled
                        bits |= reach_of_component[other] | (1 << nxt)
            if len(members) > 1:  # a cycle: every member reaches every member
                for member in members:
                    bits |= 1 << member
            reach_of_component.append(bits)
    return [reach_of_component[component_of[node]] for node in range(count)]
