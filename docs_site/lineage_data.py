"""Column lineage as the site shows it: one-hop inputs and outputs per column, what each
hop does (pass-through / rename / transformed), inherited descriptions, and the
dataset-level walk behind "what breaks downstream".

Multi-hop column lineage is walked in the page over per-dataset script shards (see
``shards``), so no page carries the whole project; this module prepares the hops.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from docs_site.reach import RankedGraph
from lineage.model import ColumnEdge, ColumnId, DatasetId, Transformation, TransformationSubtype

__all__ = [
    "ColumnHop",
    "ColumnLineageIndex",
    "DownstreamEntry",
    "Reach",
    "edge_key",
    "hop_label",
    "hop_status",
]


@dataclass(frozen=True)
class ColumnHop:
    """One edge seen from one end: the column at the other end, how, and by which job."""

    other: ColumnId | DatasetId  # a DatasetId: a row-level hop (filter/join on every row)
    transformations: tuple[Transformation, ...]
    job: str | None
    status: str  # pass-through / rename / transformed / indirect

    @property
    def label(self) -> str:
        return hop_label(self.transformations)


@dataclass(frozen=True)
class DownstreamEntry:
    """A dataset reached downstream, with its distance, whether every hop is DIRECT, and
    the owners to call."""

    dataset: DatasetId
    distance: int
    direct: bool
    owners: tuple[str, ...]


@dataclass(frozen=True)
class Reach:
    """The nearest datasets up or downstream (``entries``) and how many there are in all."""

    entries: list[DownstreamEntry]
    total: int


def edge_key(edge: ColumnEdge) -> tuple[object, ...]:
    """A total order on edges (``target_field`` and ``job`` may be None)."""
    return (edge.source, edge.target, edge.target_field or "", edge.job or "",
            edge.transformations)  # fmt: skip


def hop_label(transformations: Iterable[Transformation]) -> str:
    """``DIRECT/IDENTITY``, ``INDIRECT/JOIN``, ``DIRECT/TRANSFORMATION (masked)`` ..."""
    labels = [
        f"{t.type.value}/{t.subtype.value}" + (" (masked)" if t.masking else "")
        for t in sorted(set(transformations))
    ]
    return ", ".join(labels) or "unknown"


def _sort_key(edge: ColumnEdge) -> tuple[object, ...]:
    # ``edge_key``'s order, on strings first: comparing dataclasses runs in Python.
    source, target = edge.source, edge.target
    return (source.dataset.namespace, source.dataset.name, source.name, target.namespace,
            target.name, edge.target_field or "", edge.job or "", edge.transformations)  # fmt: skip


def _kind_of(transformations: tuple[Transformation, ...]) -> tuple[bool, str | None]:
    """Whether a hop is DIRECT, and its status (None: pass-through or rename, which the
    column names decide)."""
    direct = any(t.is_direct for t in transformations)
    status = hop_status("a", "b", transformations)
    return direct, None if status == "rename" else status


def hop_status(source: str, target: str, transformations: Iterable[Transformation]) -> str:
    """What a hop does to the value at a glance."""
    items = list(transformations)
    direct = [t for t in items if t.is_direct]
    if not direct:
        return "indirect"
    if all(t.subtype is TransformationSubtype.IDENTITY and not t.masking for t in direct):
        return "pass-through" if source.lower() == target.lower() else "rename"
    return "transformed"


@dataclass
class ColumnLineageIndex:
    """Every column edge indexed by both ends, plus the dataset-level graph."""

    inputs: dict[ColumnId, list[ColumnHop]] = field(default_factory=dict)
    outputs: dict[ColumnId, list[ColumnHop]] = field(default_factory=dict)
    row_inputs: dict[DatasetId, list[ColumnHop]] = field(default_factory=dict)
    dataset_down: dict[DatasetId, dict[DatasetId, bool]] = field(default_factory=dict)
    dataset_up: dict[DatasetId, dict[DatasetId, bool]] = field(default_factory=dict)
    columns: dict[DatasetId, dict[str, None]] = field(default_factory=dict)  # in lineage
    # Walks are asked for again (a dataset's page, its runbook, its writers' runbooks).
    _walks: dict[tuple[tuple[DatasetId, ...], bool, int | None], Reach] = field(
        default_factory=dict, repr=False, compare=False
    )
    _walk_owners: Mapping[DatasetId, tuple[str, ...]] | None = field(
        default=None, repr=False, compare=False
    )
    _ranked: RankedGraph | None = field(default=None, repr=False, compare=False)
    _among: tuple[Iterable[DatasetId], int] | None = field(default=None, repr=False,
                                                           compare=False)  # fmt: skip

    @classmethod
    def build(
        cls, edges: Iterable[ColumnEdge], table_links: Iterable[tuple[DatasetId, DatasetId]] = ()
    ) -> ColumnLineageIndex:
        """Index edges (sorted input keeps every list in a stable order); ``table_links``
        are job input -> output pairs, for datasets without column lineage."""
        index = cls()
        # A project has a handful of distinct transformation lists: what each means for
        # a hop is worked out once (at 10,000 models: 225,000 edges, ~20 lists).
        kinds: dict[tuple[Transformation, ...], tuple[bool, str | None]] = {}
        for edge in sorted(edges, key=_sort_key):
            source = edge.source
            kind = kinds.get(edge.transformations)
            if kind is None:
                kind = kinds[edge.transformations] = _kind_of(edge.transformations)
            index.columns.setdefault(source.dataset, {})[source.name] = None
            if edge.target_field is not None:
                index.columns.setdefault(edge.target, {})[edge.target_field] = None
            if edge.target_field is None:
                hop = ColumnHop(source, edge.transformations, edge.job, "indirect")
                index.row_inputs.setdefault(edge.target, []).append(hop)
                back = ColumnHop(edge.target, edge.transformations, edge.job, "indirect")
                index.outputs.setdefault(source, []).append(back)
            else:
                target = ColumnId(edge.target, edge.target_field)
                status = kind[1] or ("pass-through" if source.name.lower() ==
                                     target.name.lower() else "rename")  # fmt: skip
                index.inputs.setdefault(target, []).append(
                    ColumnHop(source, edge.transformations, edge.job, status)
                )
                index.outputs.setdefault(source, []).append(
                    ColumnHop(target, edge.transformations, edge.job, status)
                )
            index._link(source.dataset, edge.target, kind[0])
        for source_id, target_id in table_links:
            if source_id != target_id:
                index._link(source_id, target_id, False)
        return index

    def _link(self, source: DatasetId, target: DatasetId, direct: bool) -> None:
        if source == target:
            return
        if self._ranked is not None or self._walks:  # a new link: walks are stale
            self._ranked, self._walks, self._among = None, {}, None
        down = self.dataset_down.setdefault(source, {})
        down[target] = down.get(target, False) or direct
        up = self.dataset_up.setdefault(target, {})
        up[source] = up.get(source, False) or direct

    def column_status(self, column: ColumnId) -> str:
        """source (no inputs) / pass-through / rename / transformed / indirect."""
        hops = self.inputs.get(column, [])
        if not hops:
            return "source"
        direct = [h for h in hops if h.status != "indirect"]
        if len(direct) == 1:
            return direct[0].status
        return "transformed" if direct else "indirect"

    def inherited_description(
        self, column: ColumnId, descriptions: Mapping[ColumnId, str], limit: int = 50
    ) -> tuple[str, ColumnId] | None:
        """The description of the nearest upstream column reached through pass-through or
        rename hops only, or None (the column's own description is not looked at)."""
        current = column
        seen = {column}
        for _ in range(limit):
            other = self._passed_from(current)
            if other is None or other in seen:
                return None
            text = descriptions.get(other)
            if text:
                return text, other
            seen.add(other)
            current = other
        return None

    def _passed_from(self, column: ColumnId) -> ColumnId | None:
        """The one column ``column`` passes through or renames (where a description is
        inherited from), or None."""
        hops = [h for h in self.inputs.get(column, []) if h.status != "indirect"]
        if len(hops) != 1 or hops[0].status not in ("pass-through", "rename"):
            return None
        other = hops[0].other
        return other if isinstance(other, ColumnId) else None

    def heirs(self, datasets: Iterable[DatasetId]) -> set[DatasetId]:
        """The datasets with a column that may inherit a description from a column of
        ``datasets``: downstream over pass-through and rename hops only, however far."""
        wanted = set(datasets)
        queue = [ColumnId(d, name) for d in wanted for name in self.columns.get(d, {})]
        seen = set(queue)
        found: set[DatasetId] = set()
        while queue:
            column = queue.pop()
            for hop in self.outputs.get(column, []):
                child = hop.other
                if (isinstance(child, ColumnId) and child not in seen
                        and self._passed_from(child) == column):  # fmt: skip
                    seen.add(child)
                    found.add(child.dataset)
                    queue.append(child)
        return found

    def upstream_datasets(self, dataset: DatasetId) -> list[DatasetId]:
        return sorted(self.dataset_up.get(dataset, {}))

    def downstream_datasets(self, dataset: DatasetId) -> list[DatasetId]:
        return sorted(self.dataset_down.get(dataset, {}))

    def walk(
        self, dataset: DatasetId, owners: Mapping[DatasetId, tuple[str, ...]], upstream: bool
    ) -> list[DownstreamEntry]:
        """Every dataset reachable from ``dataset`` (breadth first, neighbours in name
        order), nearest first; a dataset is ``direct`` when the first path that reached it
        is DIRECT at every hop."""
        return self.nearest([dataset], owners, upstream=upstream, limit=None).entries

    def nearest(
        self,
        datasets: Iterable[DatasetId],
        owners: Mapping[DatasetId, tuple[str, ...]],
        *,
        upstream: bool,
        limit: int | None,
    ) -> Reach:
        """The ``limit`` nearest datasets reachable from any of ``datasets`` (in the
        order of ``walk``; every one with None) and how many are reachable in all.

        Walks are asked for again (a dataset's page, its runbook, its writers' runbooks):
        each answer is kept.
        """
        starts = tuple(datasets)
        key = (starts, upstream, limit)
        if self._walk_owners is not owners:
            self._walks, self._walk_owners = {}, owners
        found = self._walks.get(key)
        if found is None:
            graph = self._graph()
            ranks = [graph.rank[d] for d in starts if d in graph.rank]
            near = graph.nearest(ranks, upstream, limit)
            ids = graph.ids
            found = self._walks[key] = Reach(
                [DownstreamEntry(ids[r], n, direct, owners.get(ids[r], ()))
                 for r, n, direct in near.found],
                near.total,
            )  # fmt: skip
        return found

    def reached_among(
        self, dataset: DatasetId, among: Iterable[DatasetId], *, upstream: bool
    ) -> list[DatasetId]:
        """Which of ``among`` are reachable from ``dataset``, in name order (over the
        whole reachable set, however far)."""
        graph = self._graph()
        start = graph.rank.get(dataset)
        if start is None:
            return []
        # Every runbook asks about the same set (the failed writers): its bitset is kept.
        kept = self._among
        if kept is None or kept[0] is not among:
            kept = self._among = (among, graph.mask(among))
        return [graph.ids[r] for r in graph.reached_among(start, upstream, kept[1])]

    def reachable(self, datasets: Iterable[DatasetId], *, upstream: bool) -> list[DatasetId]:
        """Every dataset reachable from any of ``datasets``, however far, in (distance,
        name) order; the starts themselves left out."""
        graph = self._graph()
        ranks = [graph.rank[d] for d in datasets if d in graph.rank]
        if not ranks:
            return []
        return [graph.ids[r] for r, _, _ in graph.nearest(ranks, upstream, None).found]

    def _graph(self) -> RankedGraph:
        # On integer ranks (name order) rather than DatasetIds: comparing dataclasses was
        # most of the build's walk time.
        if self._ranked is None:
            self._ranked = RankedGraph.of(self.dataset_down)
        return self._ranked
