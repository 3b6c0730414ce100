"""Statements on whole tables and files: COPY (loads and unloads), Redshift UNLOAD,
DROP, TRUNCATE and ALTER.

They move data between tables and locations or change a table's schema; only an unload
from a query has column lineage (its query is traced into the location).
"""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

from lineage.model import Field, Schema
from lineage.model import StatementKind as Kind
from parsers.sql.names import LOWERCASE_DIALECT, location_dataset
from parsers.sql.query_tracing import TracedStatement

__all__ = ["TableCommands"]


_UNLOAD = re.compile(r"^\s*\(\s*'((?:[^']|'')*)'\s*\)\s*TO\s*'([^']*)'", re.IGNORECASE | re.DOTALL)


class TableCommands(TracedStatement):
    """The handlers of COPY, UNLOAD, DROP, TRUNCATE and ALTER."""

    def _copy(self) -> None:
        copy = self.expression
        target_node = copy.this
        files = copy.args.get("files") or []
        loading = bool(copy.args.get("kind"))
        target = self._dataset(target_node)
        query = next((f.this for f in files if isinstance(f, exp.Subquery)), None)
        is_location = isinstance(target_node, exp.Table) and "dataset" not in target_node.meta
        if query is not None or (is_location and loading):
            # COPY INTO 's3://...' FROM (SELECT ...): an unload.
            self.kind = Kind.UNLOAD
            if target is not None:
                self.outputs.append(target)
            if query is not None:
                self._add(self._trace(query, target))
            return
        self.kind = Kind.COPY
        locations = [d for d in (self._dataset(f) for f in files) if d is not None]
        if target is None:
            return
        if loading:
            self.outputs.append(target)
            self.inputs |= set(locations)
        else:  # COPY t TO 'file'
            self.inputs.add(target)
            self.outputs.extend(locations)

    def _command(self) -> None:
        command = self.expression
        if str(command.this).upper() != "UNLOAD":
            self.kind = Kind.OTHER
            return
        self.kind = Kind.UNLOAD
        match = _UNLOAD.match(command.expression.name if command.expression else "")
        if match is None:
            self._warn("UNLOAD could not be read: expected UNLOAD ('query') TO 'location'")
            self.confidence = 0.0
            return
        target = location_dataset(match.group(2), self.namespace)
        self.outputs.append(target)
        try:
            query = sqlglot.parse_one(match.group(1).replace("''", "'"), read=self.dialect)
        except SqlglotError as exc:
            self._warn(f"the query inside UNLOAD does not parse: {exc}")
            self.confidence = 0.0
            return
        query = normalize_identifiers(query, dialect=LOWERCASE_DIALECT)
        self._bind_tables(query)
        self._add(self._trace(query, target))

    def _drop(self) -> None:
        self.kind = Kind.DROP
        target = self._dataset(self.expression.this)
        if target is not None:
            self.outputs.append(target)

    def _truncate(self) -> None:
        self.kind = Kind.TRUNCATE
        self.outputs.extend(d for d in (self._dataset(t) for t in self.expression.expressions) if d)

    def _alter(self) -> None:
        self.kind = Kind.ALTER
        target = self._dataset(self.expression.this)
        if target is None:
            return
        actions = self.expression.args.get("actions") or []
        current = self.state.schema_of(target)
        renamed_to = next(
            (self._dataset(a.this) for a in actions if isinstance(a, exp.AlterRename)), None
        )
        if renamed_to is not None:  # ALTER TABLE a RENAME TO b: b is a's data
            self.inputs.add(target)
            self.outputs.append(renamed_to)
            if current is not None:
                self.schemas.append((renamed_to, current))
            return
        self.outputs.append(target)
        if current is None:
            return
        fields = list(current.fields)
        for action in actions:
            if isinstance(action, exp.ColumnDef):
                kind = action.args.get("kind")
                fields.append(Field(action.name, kind.sql(self.dialect).lower() if kind else None))
            elif isinstance(action, exp.RenameColumn) and action.args.get("to") is not None:
                old, new = action.this.name, action.args["to"].name
                fields = [Field(new, f.type, f.description) if f.name == old else f for f in fields]
            elif isinstance(action, exp.Drop) and isinstance(action.this, exp.Column):
                fields = [f for f in fields if f.name != action.this.name]
        if tuple(fields) != current.fields:
            self.schemas.append((target, Schema(tuple(fields))))
