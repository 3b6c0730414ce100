"""Columns as a dbt project declares them: properties-file ``columns:`` entries, their
``meta`` and ``tags`` (a column's marks, such as ``meta: {pii: true}``), and the node meta
that carries those marks into the catalog (``DBT_COLUMNS_KEY``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lineage.contracts import DBT_COLUMNS_KEY

__all__ = ["ColumnSpec", "column_marks", "columns_meta", "declared_columns"]


@dataclass
class ColumnSpec:
    """A column as the project declares it (properties YAML, manifest, catalog.json)."""

    name: str
    description: str | None = None
    data_type: str | None = None
    # The column's own ``meta`` and ``tags`` (``meta: {pii: true}``): kept in the dataset's
    # meta under ``DBT_COLUMNS_KEY`` so contracts know which columns are sensitive.
    meta: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)


def declared_columns(entries: Any, render: Callable[[str], str] | None = None
                     ) -> dict[str, ColumnSpec]:
    """Properties-file ``columns:`` as ``ColumnSpec``s keyed by lower-case name."""
    out: dict[str, ColumnSpec] = {}
    for entry in entries or []:
        if not isinstance(entry, Mapping) or not entry.get("name"):
            continue
        name = str(entry["name"])
        description = entry.get("description")
        if isinstance(description, str) and render is not None:
            description = render(description)
        data_type = entry.get("data_type") or entry.get("type")
        meta, tags = column_marks(entry)
        out[name.lower()] = ColumnSpec(
            name.lower() if not entry.get("quote") else name,
            str(description).strip() if description else None,
            str(data_type) if data_type else None,
            meta,
            tags,
        )
    return out


def column_marks(entry: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A column's ``meta`` and ``tags``, as written beside its name or (dbt 1.10) under its
    ``config:``; in a manifest both places hold them. ``config`` wins for a meta key, tags
    are the union in order."""
    config = entry.get("config")
    config = config if isinstance(config, Mapping) else {}
    meta: dict[str, Any] = {}
    tags: list[str] = []
    for place in (entry, config):
        found = place.get("meta")
        if isinstance(found, Mapping):
            meta.update({str(k): v for k, v in found.items()})
        found = place.get("tags")
        for tag in [found] if isinstance(found, str) else found or []:
            if str(tag) not in tags:
                tags.append(str(tag))
    return meta, tags


def columns_meta(meta: Mapping[str, Any], columns: Iterable[ColumnSpec]) -> dict[str, Any]:
    """A node's ``meta`` plus, under ``DBT_COLUMNS_KEY``, the ``meta`` / ``tags`` of each
    column that has any (in manifest.json's ``columns`` shape, so
    ``lineage.contracts.sensitive_columns`` reads them); columns without marks are left
    out to keep datasets small, and a node without any keeps its meta as it is."""
    marked: dict[str, Any] = {}
    for column in columns:
        entry: dict[str, Any] = {}
        if column.meta:
            entry["meta"] = column.meta
        if column.tags:
            entry["tags"] = column.tags
        if entry:
            marked[column.name] = entry
    if not marked:
        return dict(meta)
    return {**meta, DBT_COLUMNS_KEY: marked}
