"""Read models over the catalog and graph, shaped for people (``lineage show``, docs)."""

from __future__ import annotations

import json
from typing import Any, Protocol

from lineage.graph import LineageGraph
from lineage.model import ColumnId, Dataset, DatasetId

__all__ = ["describe_dataset"]


class _DatasetReader(Protocol):
    def dataset(self, dataset: DatasetId) -> Dataset | None: ...


def describe_dataset(
    catalog: _DatasetReader, graph: LineageGraph, dataset_id: DatasetId
) -> dict[str, Any]:
    """Everything a person asks about one dataset, as plain JSON-able data."""
    dataset = catalog.dataset(dataset_id) or Dataset(dataset_id)
    tests_by_column: dict[str | None, list[str]] = {}
    for test in dataset.tests:
        label = test.name if test.arguments in ("{}", "") else f"{test.name} {test.arguments}"
        tests_by_column.setdefault(test.column, []).append(label)
    columns: list[dict[str, Any]] = []
    known = [f.name for f in dataset.schema.fields] if dataset.schema else []
    names = known + [c.name for c in graph.columns_of(dataset_id) if c.name not in known]
    fields = {f.name: f for f in dataset.schema.fields} if dataset.schema else {}
    for name in names:
        column = ColumnId(dataset_id, name)
        upstream = graph.upstream(column, depth=1) if column in graph else None
        column_field = fields.get(name)
        columns.append(
            {
                "name": name,
                "type": column_field.type if column_field else None,
                "description": column_field.description if column_field else None,
                "tests": tests_by_column.get(name, []),
                # Only the column's own inputs; row filters show once, for the dataset.
                "upstream": [
                    e.to_dict()["node"]
                    for e in (upstream.columns if upstream else ())
                    if len(e.path) == 1
                ],
            }
        )
    downstream = graph.impact(dataset_id, depth=1).datasets if dataset_id in graph else ()
    upstream_sets: dict[DatasetId, None] = {}
    for job in graph.writers_of(dataset_id):
        upstream_sets.update(dict.fromkeys(d for d in job.inputs if d != dataset_id))
    for entry in graph.upstream(dataset_id, depth=1).columns if dataset_id in graph else ():
        if isinstance(entry.node, ColumnId) and entry.node.dataset != dataset_id:
            upstream_sets[entry.node.dataset] = None
    downstream_sets: dict[DatasetId, None] = dict.fromkeys(
        e.node for e in downstream if isinstance(e.node, DatasetId)
    )
    for job in graph.readers_of(dataset_id):
        downstream_sets.update(dict.fromkeys(d for d in job.outputs if d != dataset_id))
    return {
        "namespace": dataset_id.namespace,
        "name": dataset_id.name,
        "kind": dataset.kind.value,
        "description": dataset.description,
        "owners": list(graph.owners_of(dataset_id)) or list(dataset.owners),
        "tags": list(dataset.tags),
        "meta": json.loads(dataset.meta or "{}"),
        "contract_enforced": dataset.contract_enforced,
        "freshness": dataset.freshness.__dict__ if dataset.freshness else None,
        "tests": tests_by_column.get(None, []),
        "source_file": dataset.source_file,
        "columns": columns,
        "upstream": [d.to_dict() for d in sorted(upstream_sets)],
        "downstream": [d.to_dict() for d in sorted(downstream_sets)],
        "jobs": [job.name for job in graph.writers_of(dataset_id)],
    }
