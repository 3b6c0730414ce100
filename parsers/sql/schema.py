"""Known table schemas: what the user gave (``schema=``) and what the script created.

User schemas map ``"db.schema.table"``, ``"schema.table"`` or ``"table"`` (or nested
``{db: {schema: {table: ...}}}``) to ``{column: type}``. A table in a query is matched on
its full name first, then on the longest unambiguous suffix, so a schema written as
``schema.table`` serves ``db.schema.table`` and the other way round.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from lineage.errors import ConfigError
from lineage.model import Dataset, DatasetId, DatasetKind, Field, Schema, SqlContext

__all__ = ["SchemaRegistry", "schema_datasets"]


class SchemaRegistry:
    """Table name (dotted, lower-cased) -> ``Schema``, with suffix matching.

    The mapping is checked and fingerprinted at once; its ``Schema`` objects are built on
    the first lookup: a dbt rescan makes one registry per model only to key the parse
    cache, and a hit never looks a table up.
    """

    def __init__(self, mapping: Mapping[str, Any] | None = None) -> None:
        columns_of: dict[tuple[str, ...], list[tuple[str, str | None]]] = {}
        for parts, columns in _flatten(mapping or {}, ()):
            columns_of[parts] = [(str(c).lower(), _type(t)) for c, t in columns.items()]
        self._columns_of = columns_of
        self._schemas: dict[tuple[str, ...], Schema] | None = None
        self._by_name: dict[str, list[tuple[str, ...]]] = {}
        self.fingerprint = _fingerprint(columns_of)

    def __len__(self) -> int:
        return len(self._columns_of)

    @property
    def _tables(self) -> dict[tuple[str, ...], Schema]:
        if self._schemas is None:
            self._schemas = {
                parts: Schema(tuple(Field(name, type_) for name, type_ in columns))
                for parts, columns in self._columns_of.items()
            }
            for parts in self._schemas:
                self._by_name.setdefault(parts[-1], []).append(parts)
        return self._schemas

    def lookup(self, name: str) -> Schema | None:
        """The schema of ``name`` (``db.schema.table`` or shorter), or None if unknown."""
        parts = tuple(name.lower().split("."))
        exact = self._tables.get(parts)
        if exact is not None:
            return exact
        candidates = [
            c
            for c in self._by_name.get(parts[-1], ())  # filled with ``_tables``
            if c[-len(parts) :] == parts or parts[-len(c) :] == c
        ]
        return self._tables[candidates[0]] if len(candidates) == 1 else None


def schema_datasets(mapping: Mapping[str, Any], context: SqlContext) -> tuple[Dataset, ...]:
    """The tables a schema file (``--schema``) describes, with every column and type, named
    as the parser names them in ``context`` (so they are the scanned SQL's datasets).

    Columns keep the case the file gives them; a ``{"type": ..., "description": ...}``
    column spec gives its description too.
    """
    found = []
    for parts, columns in _flatten(mapping, ()):
        name = ".".join(context.qualify(list(parts)))
        fields = tuple(
            Field(str(column), _type(spec),
                  spec.get("description") if isinstance(spec, Mapping) else None)
            for column, spec in columns.items()
        )  # fmt: skip
        found.append(
            Dataset(
                DatasetId(context.dataset_namespace, name),
                kind=DatasetKind.UNKNOWN,
                schema=Schema(fields),
            )
        )
    return tuple(found)


def _flatten(
    mapping: Mapping[str, Any], prefix: tuple[str, ...]
) -> list[tuple[tuple[str, ...], Mapping[str, Any]]]:
    out: list[tuple[tuple[str, ...], Mapping[str, Any]]] = []
    for key, value in mapping.items():
        if not isinstance(value, Mapping):
            raise ConfigError(
                f"schema entry {'.'.join((*prefix, str(key)))!r} must map to columns, "
                f"got {type(value).__name__}"
            )
        parts = (*prefix, *(p.strip('"`[] ').lower() for p in str(key).split(".")))
        if value and all(isinstance(v, Mapping) and not _is_column_spec(v) for v in value.values()):
            out.extend(_flatten(value, parts))
        else:
            out.append((parts, value))
    return out


def _is_column_spec(value: Mapping[str, Any]) -> bool:
    return isinstance(value.get("type") or value.get("data_type"), str)


def _type(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, Mapping):  # {"type": "int", "description": ...}
        return _type(value.get("type") or value.get("data_type"))
    return str(value)


def _fingerprint(tables: Mapping[tuple[str, ...], list[tuple[str, str | None]]]) -> str:
    doc = sorted((".".join(k), [[name, type_] for name, type_ in v]) for k, v in tables.items())
    return hashlib.sha1(json.dumps(doc).encode(), usedforsecurity=False).hexdigest()
