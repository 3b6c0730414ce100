"""Baselines as ``DatasetSchema`` values: the docs site's ``schema.json``, contracts.

``schema.json`` (format ``silverline-schema/1``, written by the docs site build) lists
every documented dataset with its columns in table order; ``nullable``, ``default``,
``primary_key`` and ``partition`` come from the latest live schema where one was known,
and ``null`` means unknown (never compared). Column order is compared for datasets the
site knew only live (``"source": "live"``): a documented order is the docs' order. An
unknown ``format`` is an error. Reading the file or URL is the composition root's job;
these functions take the parsed JSON.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lineage.contracts import Contract
from lineage.drift.diff import DatasetSchema
from lineage.errors import InputError
from lineage.model import DatasetId, DatasetKind, LiveColumn

__all__ = ["SCHEMA_FORMAT", "contract_schema", "read_schema_document", "schema_document"]

#: The ``format`` value of the published schema this code reads and writes.
SCHEMA_FORMAT = "silverline-schema/1"


def read_schema_document(raw: Any, *, where: str = "schema.json") -> list[DatasetSchema]:
    """The datasets of a parsed ``schema.json``.

    Raises:
        InputError: not a ``silverline-schema/1`` document, or a dataset or column lacks
            its name (``where`` names the file or URL in the message).
    """
    if not isinstance(raw, Mapping):
        raise InputError("not a published schema: a JSON object was expected", file=where)
    found = raw.get("format")
    if found != SCHEMA_FORMAT:
        raise InputError(f"unknown schema format {found!r} (this Silverline reads "
                         f"{SCHEMA_FORMAT!r})", file=where)  # fmt: skip
    out: list[DatasetSchema] = []
    for index, entry in enumerate(raw.get("datasets") or ()):
        try:
            out.append(_dataset(entry))
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"dataset #{index + 1} is malformed: {exc!r}", file=where) from exc
    return out


def _dataset(entry: Mapping[str, Any]) -> DatasetSchema:
    partitions = {str(p).casefold() for p in entry.get("partition_columns") or ()}
    columns = tuple(
        LiveColumn(
            name=str(c["name"]),
            type=c.get("type"),
            nullable=c.get("nullable"),
            default=c.get("default"),
            comment=c.get("description"),
            primary_key=bool(c.get("primary_key") or False),
            partition=bool(c.get("partition") or str(c["name"]).casefold() in partitions),
        )
        for c in entry.get("columns") or ()
    )
    kind = entry.get("kind") or "table"
    source = str(entry.get("source") or "documented")
    return DatasetSchema(
        id=DatasetId(str(entry["namespace"]), str(entry["name"])),
        columns=columns,
        kind=DatasetKind(kind) if kind in {k.value for k in DatasetKind} else DatasetKind.UNKNOWN,
        description=entry.get("description"),
        owners=tuple(entry.get("owners") or ()),
        source=source,
        # Documented columns come in the order the docs list them (a dbt schema.yml's
        # order is anyone's): only a live table's order is the table's.
        ordered=source == "live",
    )


def schema_document(
    datasets: Sequence[DatasetSchema], *, generated_at: str, generator: str
) -> dict[str, Any]:
    """A ``schema.json`` document of ``datasets`` (the docs site writes the same shape)."""
    rows = []
    for ds in sorted(datasets, key=lambda d: (d.id.namespace, d.id.name)):
        if not ds.columns:
            continue
        rows.append({
            "namespace": ds.id.namespace, "name": ds.id.name, "kind": ds.kind.value,
            "layer": _layer(ds.id.name), "description": ds.description,
            "owners": list(ds.owners), "source": ds.source or "documented",
            "partition_columns": [c.name for c in ds.columns if c.partition],
            "columns": [{"name": c.name, "type": c.type, "description": c.comment,
                         "nullable": c.nullable, "default": c.default,
                         "primary_key": c.primary_key, "partition": c.partition}
                        for c in ds.columns],
        })  # fmt: skip
    return {"format": SCHEMA_FORMAT, "generated_at": generated_at, "generator": generator,
            "datasets": rows}  # fmt: skip


def _layer(name: str) -> str | None:
    parts = name.lower().split(".")
    return next((p for p in parts if p in ("bronze", "silver", "gold")), None)


def contract_schema(contract: Contract, dataset: DatasetId) -> DatasetSchema:
    """The schema a contract promises: its fields, types, required -> NOT NULL.

    Its order means nothing and partitions are not said, so neither is compared.
    """
    columns = tuple(
        LiveColumn(name=f.name, type=f.type, nullable=False if f.required else None,
                   comment=f.description, primary_key=f.primary_key)
        for f in contract.fields
    )
    return DatasetSchema(dataset, columns, description=contract.description,
                         owners=contract.owners, source="contract", ordered=False,
                         knows_partitions=False, logical_types=True)  # fmt: skip
