"""A statement's tables bound to datasets, against what the script has taught so far.

``ScriptState`` carries what earlier statements of a script established (created
tables, temporary tables and their lineage); ``BoundStatement`` is one statement under
analysis, the base of every statement kind, holding what it reads, writes and finds.

Base tables are bound to their ``DatasetId`` once and renamed to a single flat
identifier, so sqlglot's qualifier sees one schema depth whatever mix of
``table`` / ``schema.table`` / ``db.schema.table`` the statement uses.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlglot import exp

from lineage.model import (
    ColumnLineage,
    DatasetId,
    ParseWarning,
    Schema,
    SqlContext,
    StatementLineage,
)
from lineage.model import StatementKind as Kind
from parsers.sql.names import location_dataset, table_parts
from parsers.sql.output_names import SourceText
from parsers.sql.schema import SchemaRegistry
from parsers.sql.sources import TempTable
from parsers.sql.transformations import Edges, input_fields_to_edges, merge_edges

__all__ = ["BoundStatement", "ScriptState"]


@dataclass
class ScriptState:
    """What earlier statements of the script taught: created tables and temporary tables."""

    registry: SchemaRegistry
    created: dict[str, Schema] = field(default_factory=dict)
    temp_tables: dict[DatasetId, TempTable] = field(default_factory=dict)
    fingerprint: str = ""

    def columns_of(self, dataset: DatasetId) -> Sequence[str] | None:
        temp = self.temp_tables.get(dataset)
        if temp is not None:
            # A wildcard (``*``) field: its columns are those of sources nobody knows.
            return None if "*" in temp.fields else list(temp.fields)
        schema = self.schema_of(dataset)
        return schema.names if schema is not None else None

    def schema_of(self, dataset: DatasetId) -> Schema | None:
        created = self.created.get(dataset.name)
        if created is not None:
            return created
        return self.registry.lookup(dataset.name)

    def apply(self, statement: StatementLineage) -> None:
        """Learn from a statement that ran: new tables, dropped tables, temporary lineage."""
        changed = False
        for dataset, schema in statement.output_schemas:
            self.created[dataset.name] = schema
            changed = True
        if statement.kind is Kind.DROP:
            for dataset in statement.outputs:
                self.created.pop(dataset.name, None)
                changed = self.temp_tables.pop(dataset, None) is not None or changed
        for lineage in statement.column_lineage:
            output = lineage.output
            if output is None or not (statement.temporary or output in self.temp_tables):
                continue
            previous = self.temp_tables.get(output)
            fields: dict[str, Edges] = (
                {k: dict(v) for k, v in previous.fields.items()} if previous else {}
            )
            for name, column_inputs in lineage.fields:
                merge_edges(fields.setdefault(name, {}), input_fields_to_edges(column_inputs))
            rows: Edges = dict(previous.dataset) if previous else {}
            merge_edges(rows, input_fields_to_edges(lineage.dataset))
            sources = frozenset(statement.inputs) | (previous.inputs if previous else frozenset())
            self.temp_tables[output] = TempTable(fields, rows, sources)
            changed = True
        if changed:
            digest = hashlib.sha1(self.fingerprint.encode(), usedforsecurity=False)
            digest.update(repr(statement.to_dict()).encode())
            self.fingerprint = digest.hexdigest()


class BoundStatement:
    """One statement under analysis: its tables bound to datasets, and what it found."""

    def __init__(self, expression: exp.Expr, context: SqlContext, state: ScriptState) -> None:
        self.expression = expression
        self.context = context
        self.dialect = context.dialect
        self.namespace = context.dataset_namespace
        self.state = state
        self.kind = Kind.OTHER
        self.inputs: set[DatasetId] = set()
        self.outputs: list[DatasetId] = []
        self.lineage: list[ColumnLineage] = []
        self.schemas: list[tuple[DatasetId, Schema]] = []
        self.warnings: list[ParseWarning] = []
        self.confidence = 1.0
        self.temporary = False
        # The statement's text and tokens, for output names that are the text as written.
        self.source: SourceText | None = None
        self._bind_tables(expression)

    # -- binding tables to datasets ----------------------------------------------------

    def _bind_tables(self, expression: exp.Expr) -> None:
        cte_names = {cte.alias_or_name for cte in expression.find_all(exp.CTE)}
        for table in list(expression.find_all(exp.Table)):
            dynamic = table.this
            if isinstance(dynamic, exp.DynamicIdentifier) and isinstance(dynamic.this, exp.Literal):
                # Snowflake IDENTIFIER('db.schema.table') names a table by a string.
                named = exp.to_table(dynamic.this.name)
                for part in ("this", "db", "catalog"):
                    table.set(part, named.args.get(part))
            path = None if "dataset" in table.meta else _file_path(table)
            if path is not None:
                # read_parquet('s3://.../*.parquet'), FROM 's3://...', parquet.`path`: the
                # files are the input, named as a bronze folder is (globs folded).
                dataset = location_dataset(path, self.namespace)
                table.meta["dataset"] = dataset
                if not table.alias:
                    table.set("alias", exp.TableAlias(this=exp.to_identifier(_alias_of(dataset))))
                table.set("this", exp.to_identifier(dataset.name, quoted=True))
                table.set("db", None)
                table.set("catalog", None)
                continue
            if not isinstance(table.this, exp.Identifier) or "dataset" in table.meta:
                continue
            if not table.args.get("db") and table.name in cte_names:
                continue
            parts = table_parts(table, self.context)
            if table.this.args.get("temporary"):  # T-SQL #tmp keeps its # in the name
                parts = [f"#{table.name}"]
            dataset = DatasetId(self.namespace, ".".join(parts))
            table.meta["dataset"] = dataset
            if table.this.args.get("temporary"):  # T-SQL #tmp
                table.meta["temporary"] = True
            if not table.alias:
                table.set("alias", exp.TableAlias(this=exp.to_identifier(table.name)))
            table.set("this", exp.to_identifier(dataset.name, quoted=True))
            table.set("db", None)
            table.set("catalog", None)

    def _dataset(self, node: exp.Expr | None) -> DatasetId | None:
        if isinstance(node, exp.Schema):
            node = node.this
        if isinstance(node, exp.Table):
            dataset = node.meta.get("dataset")
            if isinstance(dataset, DatasetId):
                return dataset
            if isinstance(node.this, exp.Literal):
                return location_dataset(node.this.name, self.namespace)
            if isinstance(node.this, exp.Var):  # a Snowflake stage: @stage/path
                return DatasetId(self.namespace, node.this.name)
        if isinstance(node, exp.Literal) and node.is_string:
            return location_dataset(node.name, self.namespace)
        if isinstance(node, exp.Directory):
            return location_dataset(node.this.name, self.namespace)
        return None

    def _tables_in(self, node: exp.Expr) -> set[DatasetId]:
        found: set[DatasetId] = set()
        for table in node.find_all(exp.Table):
            dataset = table.meta.get("dataset")
            if isinstance(dataset, DatasetId):
                temp = self.state.temp_tables.get(dataset)
                found.update(temp.inputs if temp is not None else (dataset,))
        return found

    def _add(self, lineage: ColumnLineage | None) -> None:
        if lineage is not None:
            self.lineage.append(lineage)

    def _warn(self, message: str, column: str | None = None) -> None:
        self.warnings.append(ParseWarning(message, column))

    def _target_columns(self, dataset: DatasetId) -> Sequence[str] | None:
        return self.state.columns_of(dataset)

    def _is_temp(self, dataset: DatasetId) -> bool:
        return dataset in self.state.temp_tables


# Table functions that read files, and Spark's `format`.`path` prefixes.
_FILE_READERS = frozenset({
    "read_parquet", "parquet_scan", "read_csv", "read_csv_auto", "read_json",
    "read_json_auto", "read_ndjson", "read_ndjson_auto", "iceberg_scan", "delta_scan",
})
_FILE_FORMATS = frozenset({"parquet", "csv", "json", "orc", "avro", "delta", "text", "binaryfile"})
_DATA_FILE = re.compile(r"\.(parquet|csv|tsv|json|jsonl|ndjson|orc|avro)(\.gz|\.zst)?$", re.I)


def _file_path(table: exp.Table) -> str | None:
    """The path a table reference reads files from, or None for a table."""
    this = table.this
    if isinstance(this, (exp.ReadParquet, exp.ReadCSV)) or (
        isinstance(this, exp.Anonymous) and str(this.name).lower() in _FILE_READERS
    ):
        literal = next((a for a in this.find_all(exp.Literal) if a.is_string), None)
        return literal.name if literal is not None else None
    if isinstance(this, exp.Identifier) and this.quoted and not table.args.get("catalog"):
        name, db = this.name, table.args.get("db")
        looks_like_path = "://" in name or name.startswith("/") or bool(_DATA_FILE.search(name))
        if looks_like_path and (db is None or str(db.name).lower() in _FILE_FORMATS):
            return name
    return None


def _alias_of(dataset: DatasetId) -> str:
    """A readable alias for a file dataset: its last folder (``cust_az12``)."""
    last = dataset.name.rstrip("/").rsplit("/", 1)[-1]
    last = _DATA_FILE.sub("", last)
    return re.sub(r"\W", "_", last) or "files"
