"""The vocabulary every layer of Silverline speaks.

Frozen dataclasses with tuples, never lists, so values can be hashed, cached and shared
between processes. ``to_dict`` methods produce the OpenLineage-shaped JSON that the CLI
prints and that golden tests compare.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

__all__ = [
    "ColumnEdge",
    "ColumnId",
    "ColumnLineage",
    "DataTest",
    "Dataset",
    "DatasetId",
    "DatasetKind",
    "Field",
    "Freshness",
    "InputField",
    "Job",
    "LineageBatch",
    "ParseIssue",
    "ParseWarning",
    "Schema",
    "ScriptLineage",
    "SqlContext",
    "StatementKind",
    "StatementLineage",
    "Transformation",
    "TransformationSubtype",
    "TransformationType",
    "statement_edges",
]


class TransformationType(str, Enum):
    """Whether the output value is derived from the input (DIRECT) or only shaped by it."""

    DIRECT = "DIRECT"
    INDIRECT = "INDIRECT"


class TransformationSubtype(str, Enum):
    """OpenLineage ColumnLineageDatasetFacet 1-2-0 subtypes."""

    IDENTITY = "IDENTITY"
    TRANSFORMATION = "TRANSFORMATION"
    AGGREGATION = "AGGREGATION"
    JOIN = "JOIN"
    GROUP_BY = "GROUP_BY"
    FILTER = "FILTER"
    SORT = "SORT"
    WINDOW = "WINDOW"
    CONDITIONAL = "CONDITIONAL"


# DIRECT subtypes ordered by how much they change the value; composition keeps the strongest.
_DIRECT_RANK = {
    TransformationSubtype.IDENTITY: 0,
    TransformationSubtype.TRANSFORMATION: 1,
    TransformationSubtype.AGGREGATION: 2,
}


@dataclass(frozen=True, order=True)
class DatasetId:
    """A dataset named by the OpenLineage naming spec: ``namespace`` + ``name``."""

    namespace: str
    name: str

    def to_dict(self) -> dict[str, str]:
        return {"namespace": self.namespace, "name": self.name}

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class SqlContext:
    """How SQL text names its tables: dialect, OpenLineage namespace, and the database and
    schema of names that lack one. One value travels from lineage.yml or the command line
    through the scan, the parser and the job wrappers, so they all name a table alike.
    """

    dialect: str | None = None
    namespace: str | None = None
    default_database: str | None = None
    default_schema: str | None = None

    @property
    def dataset_namespace(self) -> str:
        """The namespace of the tables: ``namespace``, else the dialect's name, else ``sql``."""
        return self.namespace or self.dialect or "sql"

    @property
    def key(self) -> tuple[str, str, str, str]:
        """The context as part of a cache key (unset values as empty text)."""
        return (
            self.dialect or "",
            self.dataset_namespace,
            self.default_database or "",
            self.default_schema or "",
        )

    def updated(
        self,
        *,
        dialect: str | None = None,
        namespace: str | None = None,
        default_database: str | None = None,
        default_schema: str | None = None,
    ) -> SqlContext:
        """This context with each value given (not None) in place of its own."""
        return SqlContext(
            self.dialect if dialect is None else dialect,
            self.namespace if namespace is None else namespace,
            self.default_database if default_database is None else default_database,
            self.default_schema if default_schema is None else default_schema,
        )

    def qualify(self, parts: list[str]) -> list[str]:
        """``[database, schema, table]`` as far as known, completed with the defaults."""
        parts = list(parts)
        if len(parts) == 1 and self.default_schema:
            parts.insert(0, self.default_schema)
        if len(parts) == 2 and self.default_database:
            parts.insert(0, self.default_database)
        return parts


@dataclass(frozen=True, order=True)
class ColumnId:
    """One column of one dataset."""

    dataset: DatasetId
    name: str

    def __str__(self) -> str:
        return f"{self.dataset.name}.{self.name}"


@dataclass(frozen=True, order=True)
class Field:
    """A column of a schema; ``type`` is the native type as written, or None if unknown."""

    name: str
    type: str | None = None
    description: str | None = None

    def to_dict(self) -> dict[str, str]:
        out = {"name": self.name}
        if self.type is not None:
            out["type"] = self.type
        if self.description is not None:
            out["description"] = self.description
        return out


@dataclass(frozen=True)
class Schema:
    """The ordered fields of a dataset."""

    fields: tuple[Field, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def to_dict(self) -> dict[str, Any]:
        return {"fields": [f.to_dict() for f in self.fields]}


@dataclass(frozen=True, order=True)
class Transformation:
    """How an input field takes part in an output field (OpenLineage 1-2-0)."""

    type: TransformationType
    subtype: TransformationSubtype
    masking: bool = False

    @property
    def is_direct(self) -> bool:
        return self.type is TransformationType.DIRECT

    def then(self, outer: Transformation) -> Transformation:
        """Compose: ``self`` produced an intermediate value that ``outer`` then used.

        An INDIRECT outer use wins (``WHERE cte.x > 0`` filters whatever ``x`` came
        from); otherwise an INDIRECT inner one is kept; two DIRECT ones keep the
        stronger subtype (IDENTITY < TRANSFORMATION < AGGREGATION).
        """
        if not outer.is_direct:
            return outer
        if not self.is_direct:
            return self
        subtype = max(self.subtype, outer.subtype, key=_DIRECT_RANK.__getitem__)
        return Transformation(TransformationType.DIRECT, subtype, self.masking or outer.masking)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type.value, "subtype": self.subtype.value, "masking": self.masking}

    @classmethod
    def direct(cls, subtype: TransformationSubtype, masking: bool = False) -> Transformation:
        return cls(TransformationType.DIRECT, subtype, masking)

    @classmethod
    def indirect(cls, subtype: TransformationSubtype) -> Transformation:
        return cls(TransformationType.INDIRECT, subtype, False)


IDENTITY = Transformation.direct(TransformationSubtype.IDENTITY)


@dataclass(frozen=True, order=True)
class InputField:
    """One input column of an output column, with every way it takes part."""

    dataset: DatasetId
    field: str
    transformations: tuple[Transformation, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "namespace": self.dataset.namespace,
            "name": self.dataset.name,
            "field": self.field,
            "transformations": [t.to_dict() for t in self.transformations],
        }


@dataclass(frozen=True)
class ColumnLineage:
    """Column lineage of one output dataset (None for a bare SELECT's result).

    ``fields`` keeps output column order; ``dataset`` holds the inputs that shape every
    row (OpenLineage's dataset-level lineage).
    """

    output: DatasetId | None
    fields: tuple[tuple[str, tuple[InputField, ...]], ...] = ()
    dataset: tuple[InputField, ...] = ()

    def field_map(self) -> Mapping[str, tuple[InputField, ...]]:
        return dict(self.fields)

    def to_dict(self) -> dict[str, Any]:
        return {
            "output": self.output.to_dict() if self.output else None,
            "fields": {
                name: {"inputFields": [i.to_dict() for i in inputs]} for name, inputs in self.fields
            },
            "dataset": [i.to_dict() for i in self.dataset],
        }


@dataclass(frozen=True)
class ParseIssue:
    """Input that could not be read (a statement, a model, an event): where, and the text."""

    message: str
    line: int | None = None
    column: int | None = None
    text: str | None = None
    file: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "message": self.message,
            "line": self.line,
            "column": self.column,
            "text": self.text,
        }
        if self.file is not None:
            out["file"] = self.file
        return out

    def __str__(self) -> str:
        where = ":".join(str(p) for p in (self.file, self.line, self.column) if p is not None)
        return f"{where}: {self.message}" if where else self.message


@dataclass(frozen=True)
class ParseWarning:
    """Something the parser could not decide; the lineage it affects is left out, not guessed."""

    message: str
    column: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"message": self.message}
        if self.column is not None:
            out["column"] = self.column
        return out


class StatementKind(str, Enum):
    SELECT = "SELECT"
    INSERT = "INSERT"
    CREATE_TABLE = "CREATE_TABLE"
    CREATE_TABLE_AS = "CREATE_TABLE_AS"
    CREATE_VIEW = "CREATE_VIEW"
    CREATE_MATERIALIZED_VIEW = "CREATE_MATERIALIZED_VIEW"
    MERGE = "MERGE"
    UPDATE = "UPDATE"
    DELETE = "DELETE"
    COPY = "COPY"
    UNLOAD = "UNLOAD"
    DROP = "DROP"
    ALTER = "ALTER"
    TRUNCATE = "TRUNCATE"
    OTHER = "OTHER"
    UNKNOWN = "UNKNOWN"


@dataclass(frozen=True)
class StatementLineage:
    """The lineage of one SQL statement of a script."""

    index: int
    kind: StatementKind
    dialect: str | None
    inputs: tuple[DatasetId, ...] = ()
    outputs: tuple[DatasetId, ...] = ()
    column_lineage: tuple[ColumnLineage, ...] = ()
    output_schemas: tuple[tuple[DatasetId, Schema], ...] = ()
    confidence: float = 1.0
    warnings: tuple[ParseWarning, ...] = ()
    errors: tuple[ParseIssue, ...] = ()
    file: str | None = None
    line: int | None = None
    sql: str = ""
    temporary: bool = False
    #: The stored procedure (or script block) whose body holds this statement, as named
    #: in its CREATE PROCEDURE; the catalog makes it the statement's job.
    procedure: str | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def schema_of(self, dataset: DatasetId) -> Schema | None:
        return dict(self.output_schemas).get(dataset)

    def to_dict(self) -> dict[str, Any]:
        schemas = dict(self.output_schemas)

        def output(dataset: DatasetId) -> dict[str, Any]:
            out: dict[str, Any] = dataset.to_dict()
            if dataset in schemas and schemas[dataset].fields:
                out["facets"] = {"schema": schemas[dataset].to_dict()}
            return out

        doc: dict[str, Any] = {
            "file": self.file,
            "index": self.index,
            "line": self.line,
            "kind": self.kind.value,
            "dialect": self.dialect,
            "confidence": self.confidence,
            "inputs": [d.to_dict() for d in self.inputs],
            "outputs": [output(d) for d in self.outputs],
            "columnLineage": [c.to_dict() for c in self.column_lineage],
            "warnings": [w.to_dict() for w in self.warnings],
            "errors": [e.to_dict() for e in self.errors],
        }
        if self.temporary:
            doc["temporary"] = True
        if self.procedure is not None:
            doc["procedure"] = self.procedure
        return doc


@dataclass(frozen=True)
class ScriptLineage:
    """The lineage of every statement of one or more SQL scripts, in order."""

    statements: tuple[StatementLineage, ...] = field(default_factory=tuple)

    @property
    def errors(self) -> tuple[ParseIssue, ...]:
        return tuple(e for s in self.statements for e in s.errors)

    def __add__(self, other: ScriptLineage) -> ScriptLineage:
        return ScriptLineage(self.statements + other.statements)

    def to_dict(self) -> dict[str, Any]:
        return {"statements": [s.to_dict() for s in self.statements]}


# -- the catalog's vocabulary --------------------------------------------------------------


class DatasetKind(str, Enum):
    """What a dataset is; dbt models are tables or views with ``job`` set."""

    TABLE = "table"
    VIEW = "view"
    MATERIALIZED_VIEW = "materialized_view"
    EXTERNAL = "external"  # an external table over files (Spectrum, Athena, Hive)
    SOURCE = "source"
    SEED = "seed"
    SNAPSHOT = "snapshot"
    LOCATION = "location"
    UNKNOWN = "unknown"


@dataclass(frozen=True, order=True)
class DataTest:
    """A declared check on a dataset or one of its columns (dbt tests, contract rules).

    ``name`` is ``not_null``, ``unique``, ``accepted_values``, ``relationships`` or any
    other test name; ``arguments`` is its configuration as canonical JSON
    (``json.dumps(..., sort_keys=True)``) so the value stays hashable.
    """

    name: str
    column: str | None = None
    arguments: str = "{}"
    severity: str = "error"


@dataclass(frozen=True)
class Freshness:
    """How fresh a source must be: dbt's ``freshness`` block (``warn_after: 24h``)."""

    loaded_at_field: str | None = None
    warn_after: str | None = None
    error_after: str | None = None


@dataclass(frozen=True)
class Dataset:
    """Everything known about one dataset, as one observer saw it."""

    id: DatasetId
    kind: DatasetKind = DatasetKind.TABLE
    schema: Schema | None = None
    description: str | None = None
    owners: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    meta: str = "{}"
    tests: tuple[DataTest, ...] = ()
    contract_enforced: bool = False
    freshness: Freshness | None = None
    source_file: str | None = None


@dataclass(frozen=True)
class Job:
    """Something that writes datasets: a SQL file, a dbt model, a decorated Python job."""

    namespace: str
    name: str
    kind: str = "sql"
    sql: str | None = None
    source_file: str | None = None
    owners: tuple[str, ...] = ()
    description: str | None = None
    inputs: tuple[DatasetId, ...] = ()
    outputs: tuple[DatasetId, ...] = ()


@dataclass(frozen=True, order=True)
class ColumnEdge:
    """One input column flowing into an output column, or (``target_field`` None) into
    every row of the output dataset, with how, and the job that does it."""

    source: ColumnId
    target: DatasetId
    target_field: str | None
    transformations: tuple[Transformation, ...]
    job: str | None = None

    @property
    def is_direct(self) -> bool:
        return any(t.is_direct for t in self.transformations)


@dataclass(frozen=True)
class LineageBatch:
    """What one scan or ingest observed, ready to be written to the catalog in one go.

    ``observed_by`` says where the schemas come from: ``parser``, ``warehouse``,
    ``contract`` or ``openlineage`` (schema versions are kept per observer).
    """

    datasets: tuple[Dataset, ...] = ()
    jobs: tuple[Job, ...] = ()
    edges: tuple[ColumnEdge, ...] = ()
    issues: tuple[ParseIssue, ...] = ()
    observed_by: str = "parser"


def statement_edges(statement: StatementLineage, job: str | None) -> tuple[ColumnEdge, ...]:
    """The column edges of one statement, attributed to ``job``."""
    edges: list[ColumnEdge] = []
    for lineage in statement.column_lineage:
        if lineage.output is None:
            continue
        for name, inputs in lineage.fields:
            edges.extend(
                ColumnEdge(
                    ColumnId(i.dataset, i.field), lineage.output, name, i.transformations, job
                )
                for i in inputs
            )
        edges.extend(
            ColumnEdge(ColumnId(i.dataset, i.field), lineage.output, None, i.transformations, job)
            for i in lineage.dataset
        )
    return tuple(edges)
