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
    """Table name (dotted, lower-cased) -> ``Schema``, with suffix matching."""

    def __init__(self, mapping: Mapping[str, Any] | None = None) -> None:
        self._tables: dict[tuple[str, ...], Schema] = {}
        for parts, columns in _flatten(mapping or {}, ()):
            self._tables[parts] = Schema(
                tuple(Field(str(c).lower(), _type(t)) for c, t in columns.items())
            )
        self._by_name: dict[str, list[tuple[str, ...]]] = {}
        for parts in self._tables:
            self._by_name.setdefault(parts[-1], []).append(parts)
        self.fingerprint = _fingerprint(self._tables)

    def __len__(self) -> int:
        return len(self._tables)

    def lookup(self, name: str) -> Schema | None:
        """The schema of ``name`` (``db.schema.table`` or shorter), or None if unknown."""
        parts = tuple(name.lower().split("."))
        exact = self._tables.get(parts)
        if exact is not None:
            return exact
        candidates = [
            c
            for c in self._by_name.get(parts[-1], ())
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


def _fingerprint(tables: Mapping[tuple[str, ...], Schema]) -> str:
    doc = sorted((".".join(k), [(f.name, f.type) for f in v.fields]) for k, v in tables.items())
    return hashlib.sha1(json.dumps(doc).encode(), usedforsecurity=False).hexdigest()
