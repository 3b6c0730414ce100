"""Statements on whole tables and files: COPY (loads and unloads), Redshift UNLOAD,
DROP, TRUNCATE, ALTER, and external tables over object stores.

They move data between tables and locations or change a table's schema; only an unload
from a query has column lineage (its query is traced into the location).

External tables (Redshift Spectrum, Athena, Hive / Glue, Spark tables with a LOCATION)
read their location: ``CREATE EXTERNAL TABLE spectrum.t (...) PARTITIONED BY (year int)
LOCATION 's3://lake/bronze/t/'`` is a dataset edge ``s3://lake/bronze/t -> spectrum.t``
whose output schema lists the columns, then the partition keys (the table's columns as a
query sees them). ``ALTER TABLE t ADD PARTITION (...) LOCATION '.../year=2024/'`` and
``ALTER TABLE t SET LOCATION`` read the table's root location (Hive-style ``key=value``
folders are partitions of one dataset, not datasets of their own, so every engine reading
the same bronze folder names the same S3 dataset); ``MSCK REPAIR TABLE t`` changes t's
partitions. ``CREATE EXTERNAL SCHEMA s FROM DATA CATALOG DATABASE 'db' IAM_ROLE '...'``
creates no dataset: what it maps (schema ``s`` -> catalog database ``db``, the IAM role
ARN) is kept as a statement warning, the only free-text metadata a statement carries.
An ARN names a role, it grants nothing by itself: it is kept as written (redaction leaves
it alone), while credentials in the same statement (``SECRET_ACCESS_KEY '...'``) are
never copied into the warning.
"""

from __future__ import annotations

import re
from itertools import pairwise

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers
from sqlglot.tokenizer_core import TokenType

from lineage.model import DatasetId, Field, Schema
from lineage.model import StatementKind as Kind
from lineage.model.sql_text import sql_text
from parsers.sql.names import LOWERCASE_DIALECT, location_dataset
from parsers.sql.query_tracing import TracedStatement

__all__ = ["TableCommands", "partition_root"]


_UNLOAD = re.compile(r"^\s*\(\s*'((?:[^']|'')*)'\s*\)\s*TO\s*'([^']*)'", re.IGNORECASE | re.DOTALL)
# The parts of Redshift's CREATE EXTERNAL SCHEMA that sqlglot keeps as raw text.
_EXTERNAL_SCHEMA = re.compile(
    r"^\s*EXTERNAL\s+SCHEMA\s+(?:IF\s+NOT\s+EXISTS\s+)?(\S+)\s+FROM\s+(.*)$",
    re.IGNORECASE | re.DOTALL,
)
_CATALOG_DATABASE = re.compile(r"\bDATABASE\s+'((?:[^']|'')*)'", re.IGNORECASE)
_IAM_ROLE = re.compile(r"\bIAM_ROLE\s+(?:'((?:[^']|'')*)'|(DEFAULT)\b)", re.IGNORECASE)
_SOURCE_KIND = re.compile(r"^\s*(DATA\s+CATALOG|HIVE\s+METASTORE|POSTGRES|MYSQL|KINESIS|KAFKA|"
                          r"REDSHIFT|MSK)\b", re.IGNORECASE)
_REPAIR = re.compile(r"^\s*(?:REPAIR\s+)?TABLE\s+(.+?)(?:\s+(?:ADD|DROP|SYNC)\s+PARTITIONS)?"
                     r"\s*;?\s*$", re.IGNORECASE | re.DOTALL)
_PARTITION_FOLDER = re.compile(r"^[^=/]+=[^/]*$")  # Hive-style year=2024


def partition_root(dataset: DatasetId) -> DatasetId:
    """The table location a partition's location is in: trailing ``key=value`` folders
    dropped (``bronze/t/year=2024/month=1`` -> ``bronze/t``)."""
    parts = dataset.name.split("/")
    while len(parts) > 1 and _PARTITION_FOLDER.match(parts[-1]):
        parts.pop()
    return DatasetId(dataset.namespace, "/".join(parts))


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
        verb = " ".join(str(command.this).upper().split())
        raw = command.expression  # the text after the verb: a str or a string Literal
        text = raw if isinstance(raw, str) else raw.name if raw is not None else ""
        if verb in ("MSCK", "MSCK REPAIR"):
            self._repair(text)
            return
        if verb in ("CREATE", "ALTER"):
            self._reparsed(verb, text)
            return
        if verb != "UNLOAD":
            self.kind = Kind.OTHER
            return
        self.kind = Kind.UNLOAD
        match = _UNLOAD.match(text)
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
        for action in actions:  # ADD PARTITION ... LOCATION, SET LOCATION: the table's files
            if isinstance(action, exp.AddPartition | exp.AlterSet):
                location = action.args.get("location")  # a LocationProperty or a string
                if isinstance(location, exp.LocationProperty | exp.Literal) and location.name:
                    root = partition_root(location_dataset(location.name, self.namespace))
                    self.inputs.add(root)
        if current is None:
            return
        fields = list(current.fields)
        for action in actions:
            if isinstance(action, exp.ColumnDef):
                kind = action.args.get("kind")
                fields.append(Field(action.name, sql_text(kind, self.dialect).lower() if kind
                                    else None))  # fmt: skip
            elif isinstance(action, exp.RenameColumn) and action.args.get("to") is not None:
                old, new = action.this.name, action.args["to"].name
                fields = [Field(new, f.type, f.description) if f.name == old else f for f in fields]
            elif isinstance(action, exp.Drop) and isinstance(action.this, exp.Column):
                fields = [f for f in fields if f.name != action.this.name]
        if tuple(fields) != current.fields:
            self.schemas.append((target, Schema(tuple(fields))))

    # -- external tables and schemas ------------------------------------------------------

    def _external_table(self) -> bool:
        """``CREATE [EXTERNAL] TABLE t (...) ... LOCATION '...'`` without a query: t reads
        the location. False (nothing done) for any other CREATE.

        Called by the CREATE handler first; a CREATE ... AS SELECT with a LOCATION writes
        the location instead, and stays with the query handler.
        """
        create = self.expression
        if not isinstance(create, exp.Create) or isinstance(create.expression, exp.Query):
            return False
        if str(create.args.get("kind") or "").upper() != "TABLE":
            return False
        properties = create.args.get("properties")
        props = list(properties.expressions) if properties is not None else []
        location = next((p for p in props if isinstance(p, exp.LocationProperty)), None)
        target = self._dataset(create.this)
        if location is None or target is None:
            return False
        self.kind = Kind.CREATE_TABLE
        self.outputs.append(target)
        self.inputs.add(location_dataset(location.name, self.namespace))
        fields = _column_fields(create.this, self.dialect)
        for prop in props:  # partition keys are columns too (after the declared ones)
            if isinstance(prop, exp.PartitionedByProperty):
                fields.extend(f for f in _column_fields(prop.this, self.dialect)
                              if f.name not in {known.name for known in fields})
        if fields:
            self.schemas.append((target, Schema(tuple(fields))))
        return True

    def _reparsed(self, verb: str, text: str) -> None:
        """A CREATE / ALTER sqlglot kept as raw text in this dialect: Redshift's external
        schema, and external-table DDL read again as Hive DDL (its origin). Any other
        command (CREATE FUNCTION, ALTER USER, ...) stays OTHER, as before."""
        self.kind = Kind.OTHER
        words = text.upper().split(None, 2)
        head = " ".join(words[:2] if verb == "CREATE" else words[:1])
        if verb == "CREATE" and head == "EXTERNAL SCHEMA":
            schema = _EXTERNAL_SCHEMA.match(text)
            if schema is not None:
                self._external_schema(schema.group(1), schema.group(2))
            return
        if head not in ("EXTERNAL TABLE", "TABLE"):
            return
        hive = _hive_ddl(f"{verb} {text}")
        if hive is None and verb == "ALTER" and self._partitions(text):
            return
        if hive is None:
            if verb == "CREATE":  # an external table whose location we could not read
                self._warn("CREATE EXTERNAL TABLE not understood; its location is unknown")
                self.confidence = 0.0
            return
        hive = normalize_identifiers(hive, dialect=LOWERCASE_DIALECT)
        self._bind_tables(hive)
        self.expression = hive
        if isinstance(hive, exp.Create):
            self._external_table()
        elif isinstance(hive, exp.Alter):
            self._alter()

    def _partitions(self, text: str) -> bool:
        """``ALTER TABLE t ADD PARTITION (...) LOCATION '...' PARTITION (...) LOCATION
        '...'`` (several partitions, which no sqlglot dialect reads): t, and the root of
        the partitions' locations. False when ``text`` is not that shape."""
        try:
            tokens = sqlglot.tokenize(text, read="hive")
        except SqlglotError:
            return False
        words = [t.text.upper() for t in tokens]
        if not words or words[0] != "TABLE" or "PARTITION" not in words:
            return False
        verb = next((i for i, w in enumerate(words) if w in ("ADD", "DROP")), None)
        if verb is None or verb < 2:
            return False
        name = text[tokens[1].start : tokens[verb - 1].end + 1]
        try:
            table = sqlglot.parse_one(name, into=exp.Table, read="hive")
        except SqlglotError:
            return False
        table = normalize_identifiers(table, dialect=LOWERCASE_DIALECT)
        self._bind_tables(table)
        target = self._dataset(table)
        if target is None:
            return False
        self.kind = Kind.ALTER
        self.outputs.append(target)
        for before, token in pairwise(tokens):
            if before.text.upper() == "LOCATION" and token.token_type is TokenType.STRING:
                self.inputs.add(partition_root(location_dataset(token.text, self.namespace)))
        return True

    def _external_schema(self, name: str, rest: str) -> None:
        """Redshift ``CREATE EXTERNAL SCHEMA``: no dataset; its mapping as a warning."""
        self.kind = Kind.OTHER
        source = _SOURCE_KIND.match(rest)
        database = _CATALOG_DATABASE.search(rest)
        role = _IAM_ROLE.search(rest)
        parts = [f"external schema {name.strip(chr(34)).lower()}"]
        if source is not None:
            parts.append(f"from {' '.join(source.group(1).lower().split())}")
        if database is not None:
            parts.append(f"database {database.group(1)!r}")
        if role is not None:
            parts.append(f"IAM role {role.group(1) or role.group(2).lower()}")
        self._warn(", ".join(parts))

    def _repair(self, text: str) -> None:
        """``MSCK REPAIR TABLE t``: t's partitions re-read from its location."""
        self.kind = Kind.ALTER
        match = _REPAIR.match(text)
        name = match.group(1) if match else ""
        table = None
        for dialect in (self.dialect, "hive") if name else ():  # Athena's DDL is Hive's
            try:
                table = sqlglot.parse_one(name, into=exp.Table, read=dialect)
                break
            except SqlglotError:
                continue
        if table is None:
            self._warn("MSCK REPAIR could not be read: expected MSCK REPAIR TABLE name")
            self.confidence = 0.0
            return
        table = normalize_identifiers(table, dialect=LOWERCASE_DIALECT)
        self._bind_tables(table)
        target = self._dataset(table)
        if target is not None:
            self.outputs.append(target)


def _column_fields(node: exp.Expr | None, dialect: str | None) -> list[Field]:
    """The ``name type`` columns of a DDL column list, in order."""
    if not isinstance(node, exp.Schema):
        return []
    fields = []
    for column in node.expressions:
        if isinstance(column, exp.ColumnDef):
            kind = column.args.get("kind")
            fields.append(Field(column.name, sql_text(kind, dialect).lower() if kind else None))
    return fields


def _hive_ddl(sql: str) -> exp.Expr | None:
    """External-table DDL as Hive reads it (Redshift's and Athena's come from Hive's);
    Redshift's trailing ``TABLE PROPERTIES (...)`` (Hive's TBLPROPERTIES) is cut off, as
    it holds nothing lineage needs. None when Hive cannot read it either."""
    try:
        tokens = sqlglot.tokenize(sql, read="hive")
        cut = next((a.start for a, b in pairwise(tokens)
                    if a.token_type is TokenType.TABLE and b.text.upper() == "PROPERTIES"),
                   None)
        parsed = sqlglot.parse_one(sql[:cut] if cut is not None else sql, read="hive",
                                   error_level=sqlglot.ErrorLevel.RAISE)
    except SqlglotError:
        return None
    return None if isinstance(parsed, exp.Command) else parsed
