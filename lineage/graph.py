"""The lineage graph: datasets, columns and jobs, and the questions asked of it.

One directed graph holds every flow the catalog knows::

    column --(DIRECT/INDIRECT, job)--> column      a value computed from another
    column --(INDIRECT, job)---------> dataset     a filter/join/group key shaping rows
    dataset --(rows)-----------------> column      every column of a dataset depends on
                                                    the rows it has

so "what breaks if ``bronze.erp_cust_az12.cid`` changes" is one breadth-first walk, and a
column used in a WHERE clause reaches every column of the dataset it filters.

Queries take a depth limit and return entries with the path that reached them, whether
every hop on it was DIRECT, the jobs that carry it and the owners to call.

The graph is plain insertion-ordered adjacency dicts (what a walk needs, built several
times faster than a networkx graph, and no networkx import for ``impact`` or ``show``);
``path`` and ``cycles`` hand the same nodes and edges, in the same order, to networkx.
"""

from __future__ import annotations

import itertools
import json
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from lineage.model import ColumnEdge, ColumnId, Dataset, DatasetId, Job, Transformation

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["Hop", "Impact", "ImpactEntry", "LineageGraph", "Node"]

Node = ColumnId | DatasetId
_ROWS = "ROWS"
_TABLE = "TABLE"  # a job reads one dataset and writes another, no column lineage known


class _CatalogReader(Protocol):
    def datasets(self) -> list[Dataset]: ...
    def jobs(self) -> list[Job]: ...
    def column_edges(self) -> list[ColumnEdge]: ...


@dataclass(frozen=True)
class Hop:
    """One step of a path: from ``source`` to ``target``, DIRECT or INDIRECT, by ``job``."""

    source: Node
    target: Node
    direct: bool
    transformations: tuple[Transformation, ...] = ()
    job: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": _label(self.source),
            "to": _label(self.target),
            "type": "DIRECT" if self.direct else "INDIRECT",
            "transformations": [t.to_dict() for t in self.transformations],
            "job": self.job,
        }


@dataclass(frozen=True)
class ImpactEntry:
    """A column or dataset reached from the root, and how."""

    node: Node
    distance: int
    direct: bool
    path: tuple[Hop, ...]
    owners: tuple[str, ...] = ()

    @property
    def jobs(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(h.job for h in self.path if h.job))

    def to_dict(self) -> dict[str, Any]:
        return {
            "node": _label(self.node),
            "namespace": _dataset_of(self.node).namespace,
            "kind": "column" if isinstance(self.node, ColumnId) else "dataset",
            "distance": self.distance,
            "type": "DIRECT" if self.direct else "INDIRECT",
            "jobs": list(self.jobs),
            "owners": list(self.owners),
            "path": [h.to_dict() for h in self.path],
        }


@dataclass(frozen=True)
class Impact:
    """The answer to "what is downstream (or upstream) of this column or dataset"."""

    root: Node
    upstream: bool
    columns: tuple[ImpactEntry, ...] = ()
    datasets: tuple[ImpactEntry, ...] = ()
    owners: tuple[str, ...] = field(default_factory=tuple)

    @property
    def jobs(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for entry in (*self.columns, *self.datasets):
            seen.update(dict.fromkeys(entry.jobs))
        return tuple(seen)

    def to_dict(self) -> dict[str, Any]:
        return {
            "root": _label(self.root),
            "direction": "upstream" if self.upstream else "downstream",
            "columns": [e.to_dict() for e in self.columns],
            "datasets": [e.to_dict() for e in self.datasets],
            "jobs": list(self.jobs),
            "owners": list(self.owners),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def to_mermaid(self) -> str:
        """A Mermaid flowchart of every hop (solid: DIRECT, dotted: INDIRECT)."""
        ids: dict[str, str] = {}

        def node_id(node: Node) -> str:
            label = _label(node)
            if label not in ids:
                ids[label] = f"n{len(ids)}"
            return ids[label]

        lines = ["flowchart LR"]
        node_id(self.root)
        hops: dict[tuple[str, str], Hop] = {}
        for entry in (*self.columns, *self.datasets):
            for hop in entry.path:
                hops.setdefault((_label(hop.source), _label(hop.target)), hop)
        for hop in hops.values():
            node_id(hop.source)
            node_id(hop.target)
        for label, nid in ids.items():
            lines.append(f'    {nid}["{label}"]')
        for hop in hops.values():
            arrow = "-->" if hop.direct else "-.->"
            text = hop.job or ("rows" if not hop.transformations else "")
            edge = f"{arrow}|{text}|" if text else arrow
            lines.append(f"    {node_id(hop.source)} {edge} {node_id(hop.target)}")
        return "\n".join(lines) + "\n"


class LineageGraph:
    """Column-level lineage of everything in the catalog, queryable in memory."""

    def __init__(self) -> None:
        # node -> {successor: edge data}; predecessors share the same data dicts.
        self._succ: dict[Node, dict[Node, dict[str, Any]]] = {}
        self._pred: dict[Node, dict[Node, dict[str, Any]]] = {}
        self._order: list[tuple[Node, Node]] = []  # edges as first added (for networkx)
        self._datasets: dict[DatasetId, Dataset] = {}
        self._columns: dict[DatasetId, list[ColumnId]] = {}
        self._jobs: dict[str, Job] = {}
        self._writers: dict[DatasetId, list[Job]] = {}
        self._readers: dict[DatasetId, list[Job]] = {}
        self._owners: dict[DatasetId, tuple[str, ...]] = {}

    @classmethod
    def from_catalog(cls, catalog: _CatalogReader) -> LineageGraph:
        """Load every dataset, job and column edge of a catalog."""
        return cls.build(catalog.datasets(), catalog.jobs(), catalog.column_edges())

    @classmethod
    def build(
        cls, datasets: Iterable[Dataset], jobs: Iterable[Job], edges: Iterable[ColumnEdge]
    ) -> LineageGraph:
        graph = cls()
        for dataset in datasets:
            graph._add_dataset(dataset)
        for job in jobs:
            graph._jobs[job.name] = job
            for output in job.outputs:
                graph._writers.setdefault(output, []).append(job)
                graph._add_node(output)
            for source in job.inputs:
                graph._readers.setdefault(source, []).append(job)
                graph._add_node(source)
        linked: set[tuple[DatasetId, DatasetId]] = set()
        for edge in edges:
            graph._add_edge(edge)
            linked.add((edge.source.dataset, edge.target))
        # Table-level lineage (a job's inputs and outputs without column edges between
        # them, as events without a columnLineage facet give): a dataset-to-dataset hop.
        for job in graph._jobs.values():
            for source in job.inputs:
                for output in job.outputs:
                    if source != output and (source, output) not in linked:
                        table = {"kind": _TABLE, "direct": False, "job": job.name,
                                 "transformations": ()}  # fmt: skip
                        graph._link(source, output, table)
        return graph

    # -- building ----------------------------------------------------------------------

    def _add_node(self, node: Node) -> None:
        if node not in self._succ:
            self._succ[node] = {}
            self._pred[node] = {}

    def _link(self, source: Node, target: Node, data: dict[str, Any]) -> None:
        """Add (or replace the data of) the edge ``source -> target``; a replaced edge
        keeps its place in both nodes' neighbour order, as networkx keeps it."""
        self._add_node(source)
        self._add_node(target)
        if target not in self._succ[source]:
            self._order.append((source, target))
        self._succ[source][target] = data
        self._pred[target][source] = data

    def _add_dataset(self, dataset: Dataset) -> None:
        self._datasets[dataset.id] = dataset
        self._add_node(dataset.id)
        if dataset.schema is not None:
            for column_field in dataset.schema.fields:
                self._add_column(ColumnId(dataset.id, column_field.name))

    def _add_column(self, column: ColumnId) -> None:
        if column in self._succ:
            return
        self._add_node(column)
        self._add_node(column.dataset)
        self._columns.setdefault(column.dataset, []).append(column)
        # Every column of a dataset depends on which rows the dataset has.
        rows = {"kind": _ROWS, "direct": False, "job": None, "transformations": ()}
        self._link(column.dataset, column, rows)

    def _add_edge(self, edge: ColumnEdge) -> None:
        self._add_column(edge.source)
        if edge.target_field is None:
            target: Node = edge.target
            self._add_node(target)
        else:
            target = ColumnId(edge.target, edge.target_field)
            self._add_column(target)
        existing = self._succ.get(edge.source, {}).get(target)
        transformations = edge.transformations
        if existing is not None:  # the same flow through two jobs or statements
            transformations = tuple(sorted(set(existing["transformations"]) | set(transformations)))
        self._link(
            edge.source,
            target,
            {
                "kind": "COLUMN",
                "direct": any(t.is_direct for t in transformations),
                "job": edge.job if existing is None else existing["job"] or edge.job,
                "transformations": transformations,
            },
        )

    # -- lookups -------------------------------------------------------------------------

    def __contains__(self, node: object) -> bool:
        return node in self._succ

    @property
    def datasets(self) -> list[DatasetId]:
        return sorted(n for n in self._succ if isinstance(n, DatasetId))

    def columns_of(self, dataset: DatasetId) -> list[ColumnId]:
        return list(self._columns.get(dataset, ()))

    def nested_fields(self, column: ColumnId) -> list[ColumnId]:
        """The fields below a struct column that lineage names (``widget.asset.id`` for
        ``widget``), in the order they were first seen."""
        prefix = column.name + "."
        return [c for c in self._columns.get(column.dataset, ()) if c.name.startswith(prefix)]

    def dataset_info(self, dataset: DatasetId) -> Dataset | None:
        return self._datasets.get(dataset)

    def job(self, name: str) -> Job | None:
        return self._jobs.get(name)

    def owners_of(self, node: Node) -> tuple[str, ...]:
        """Owners of the node's dataset, then of the jobs that write it."""
        dataset_id = _dataset_of(node)
        cached = self._owners.get(dataset_id)
        if cached is not None:
            return cached
        dataset = self._datasets.get(dataset_id)
        owners: dict[str, None] = dict.fromkeys(dataset.owners if dataset else ())
        for job in self._writers.get(dataset_id, ()):
            owners.update(dict.fromkeys(job.owners))
        self._owners[dataset_id] = tuple(owners)
        return self._owners[dataset_id]

    def writers_of(self, dataset: DatasetId) -> list[Job]:
        """Jobs that write ``dataset``."""
        return list(self._writers.get(dataset, ()))

    def readers_of(self, dataset: DatasetId) -> list[Job]:
        """Jobs that read ``dataset``."""
        return list(self._readers.get(dataset, ()))

    # -- queries -------------------------------------------------------------------------

    def downstream(self, node: Node, depth: int | None = None) -> Impact:
        """Everything computed from ``node`` (a column, or every column of a dataset)."""
        return self._walk(node, depth, upstream=False)

    def upstream(self, node: Node, depth: int | None = None) -> Impact:
        """Everything ``node`` is computed from."""
        return self._walk(node, depth, upstream=True)

    def impact(self, node: Node, depth: int | None = None, upstream: bool = False) -> Impact:
        """Downstream (or upstream) columns, datasets, jobs and owners of ``node``."""
        return self._walk(node, depth, upstream)

    def path(self, source: Node, target: Node) -> tuple[Hop, ...] | None:
        """The shortest chain of hops from ``source`` to ``target``, or None."""
        if source not in self._succ or target not in self._succ:
            return None
        import networkx as nx

        try:
            nodes = nx.shortest_path(self.to_networkx(), source, target)
        except nx.NetworkXNoPath:
            return None
        return tuple(self._hop(a, b) for a, b in itertools.pairwise(nodes))

    def cycles(self, limit: int = 100) -> list[list[DatasetId]]:
        """Cycles between datasets (a model reading what it writes, directly or not)."""
        import networkx as nx

        dataset_graph: nx.DiGraph = nx.DiGraph()
        for source, target in self._edges():
            if isinstance(source, ColumnId):
                a, b = source.dataset, _dataset_of(target)
                if a == b:
                    continue
                dataset_graph.add_edge(a, b)
        found: list[list[DatasetId]] = []
        for cycle in nx.simple_cycles(dataset_graph):
            found.append(list(cycle))
            if len(found) >= limit:
                break
        return found

    def to_networkx(self) -> nx.DiGraph:
        """The same nodes and edges (with their data) in a networkx graph, in the same
        order, for algorithms this class does not have."""
        import networkx as nx

        graph: nx.DiGraph = nx.DiGraph()
        graph.add_nodes_from(self._succ)
        graph.add_edges_from((a, b, data) for a, b in self._edges()
                             for data in (self._succ[a][b],))  # fmt: skip
        return graph

    def _edges(self) -> Iterable[tuple[Node, Node]]:
        return iter(self._order)

    def _walk(self, node: Node, depth: int | None, upstream: bool) -> Impact:
        # A dataset's impact is its columns' too: they start at hop 0 with it, so a path
        # does not begin with a "rows" pass-through that would make every hop INDIRECT.
        # A struct column's is its nested fields' (``widget`` -> ``widget.asset.id``): the
        # parser names the field a query reads by its whole path.
        roots: list[Node] = [node]
        if isinstance(node, DatasetId):
            roots.extend(self._columns.get(node, ()))
        else:
            roots.extend(self.nested_fields(node))
        if node not in self._succ and len(roots) == 1:
            return Impact(node, upstream)
        adjacency = self._pred if upstream else self._succ
        parent: dict[Node, Node | None] = dict.fromkeys(roots)
        distance: dict[Node, int] = dict.fromkeys(roots, 0)
        # 0-1 breadth-first search with parent pointers: dataset -> its columns is a
        # pass-through for rows (weight 0), every other edge a hop (weight 1); shortest
        # paths without storing each one, and --depth N keeps everything at hop N.
        queue: deque[Node] = deque(roots)
        done: set[Node] = set()
        while queue:
            current = queue.popleft()
            if current in done:
                continue
            done.add(current)
            hops = distance[current]
            for nxt, data in adjacency.get(current, {}).items():
                weight = 0 if data["kind"] == _ROWS else 1
                if depth is not None and hops + weight > depth:
                    continue
                if nxt in distance and distance[nxt] <= hops + weight:
                    continue
                parent[nxt] = current
                distance[nxt] = hops + weight
                if weight:
                    queue.append(nxt)
                else:
                    queue.appendleft(nxt)
        starts = set(roots)
        columns: list[ImpactEntry] = []
        datasets: dict[DatasetId, ImpactEntry] = {}
        for reached in parent:
            if reached in starts:
                continue
            path = self._path_to(reached, parent, upstream)
            entry = ImpactEntry(
                node=reached,
                distance=distance[reached],
                direct=all(h.direct for h in path),
                path=path,
                owners=self.owners_of(reached),
            )
            if isinstance(reached, ColumnId):
                columns.append(entry)
            dataset = _dataset_of(reached)
            known = datasets.get(dataset)
            if (
                known is None
                or (entry.direct and not known.direct)
                or (entry.direct == known.direct and entry.distance < known.distance)
            ):
                datasets[dataset] = ImpactEntry(
                    dataset, entry.distance, entry.direct, entry.path, self.owners_of(dataset)
                )
        root_dataset = _dataset_of(node)
        datasets.pop(root_dataset, None)
        owners: dict[str, None] = {}
        for entry in datasets.values():
            owners.update(dict.fromkeys(entry.owners))
        columns.sort(key=lambda e: (e.distance, _label(e.node)))
        return Impact(
            root=node,
            upstream=upstream,
            columns=tuple(c for c in columns if c.node != node),
            datasets=tuple(sorted(datasets.values(), key=lambda e: (e.distance, _label(e.node)))),
            owners=tuple(owners),
        )

    def _path_to(
        self, reached: Node, parent: dict[Node, Node | None], upstream: bool
    ) -> tuple[Hop, ...]:
        hops: list[Hop] = []
        current: Node | None = reached
        while current is not None:
            previous = parent[current]
            if previous is None:
                break
            hops.append(self._hop(current, previous) if upstream else self._hop(previous, current))
            current = previous
        # Walked back from the reached node: put the hops in the order they were travelled.
        hops.reverse()
        return tuple(hops)

    def _hop(self, source: Node, target: Node) -> Hop:
        data = self._succ[source][target]
        return Hop(
            source, target, bool(data["direct"]), tuple(data["transformations"]), data["job"]
        )


def _dataset_of(node: Node) -> DatasetId:
    return node.dataset if isinstance(node, ColumnId) else node


def _label(node: Node) -> str:
    return f"{node.dataset.name}.{node.name}" if isinstance(node, ColumnId) else node.name
