"""What the live systems hold now: introspected tables, bronze file layouts, profiles.

The other half of the catalog: parsers say what SQL and dbt *document*, these values say
what a warehouse or a bronze folder *is*. Connectors (``connectors.warehouse``,
``connectors.files``) produce them, the catalog keeps them as schema versions and metric
history, and contracts, checks and drift read them back. Frozen, tuples only, like the
rest of the vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from lineage.model.vocabulary import DatasetId, DatasetKind, Field, Schema

__all__ = [
    "DatasetProfile",
    "FileLayout",
    "FilePartition",
    "Finding",
    "LiveColumn",
    "LiveTable",
    "Observation",
    "ObservationIssue",
    "ProfileMetric",
    "Severity",
    "TableSnapshot",
    "live_column",
]


@dataclass(frozen=True)
class LiveColumn:
    """A column as the warehouse or the file footer reports it.

    ``type`` is the native type as the source spells it (``character varying(50)``,
    ``VARCHAR``, ``int64``); ``nullable`` and ``default`` are None where the source does
    not say. ``partition`` marks Hive / table partition columns.
    """

    name: str
    type: str | None = None
    nullable: bool | None = None
    default: str | None = None
    comment: str | None = None
    primary_key: bool = False
    partition: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The column as JSON: only the facts the source gave (stable for fingerprints)."""
        out: dict[str, Any] = {"name": self.name}
        if self.type is not None:
            out["type"] = self.type
        if self.nullable is not None:
            out["nullable"] = self.nullable
        if self.default is not None:
            out["default"] = self.default
        if self.comment is not None:
            out["description"] = self.comment
        if self.primary_key:
            out["primary_key"] = True
        if self.partition:
            out["partition"] = True
        return out

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> LiveColumn:
        return cls(
            name=str(raw["name"]),
            type=raw.get("type"),
            nullable=raw.get("nullable"),
            default=raw.get("default"),
            comment=raw.get("description"),
            primary_key=bool(raw.get("primary_key", False)),
            partition=bool(raw.get("partition", False)),
        )


_new_object = object.__new__


def live_column(
    name: str,
    type: str | None,
    nullable: bool | None,
    default: str | None,
    comment: str | None,
    primary_key: bool,
    partition: bool,
) -> LiveColumn:
    """``LiveColumn(...)`` with every field given, for introspection's hot loop.

    The frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``;
    filling the instance dict at once is twice as fast (100,000 columns: 0.18 s -> 0.08 s)
    and gives an equal, equally hashable value. Nothing is validated either way.
    """
    column: LiveColumn = _new_object(LiveColumn)
    column.__dict__.update(
        name=name, type=type, nullable=nullable, default=default, comment=comment,
        primary_key=primary_key, partition=partition,
    )  # fmt: skip
    return column


@dataclass(frozen=True)
class FilePartition:
    """One partition of a bronze folder (``values`` empty for an unpartitioned folder).

    Sizes in bytes; ``row_count`` is the sum of the Parquet footers' row counts, None
    for formats without one (CSV, JSON lines).
    """

    values: tuple[tuple[str, str], ...]
    file_count: int
    total_bytes: int
    row_count: int | None
    smallest_file_bytes: int
    largest_file_bytes: int

    @property
    def path(self) -> str:
        """The partition as its folder path: ``year=2024/month=01``."""
        return "/".join(f"{key}={value}" for key, value in self.values)

    def to_dict(self) -> dict[str, Any]:
        return {
            "values": [list(pair) for pair in self.values],
            "file_count": self.file_count,
            "total_bytes": self.total_bytes,
            "row_count": self.row_count,
            "smallest_file_bytes": self.smallest_file_bytes,
            "largest_file_bytes": self.largest_file_bytes,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> FilePartition:
        return cls(
            values=tuple((str(k), str(v)) for k, v in raw.get("values", [])),
            file_count=int(raw["file_count"]),
            total_bytes=int(raw["total_bytes"]),
            row_count=None if raw.get("row_count") is None else int(raw["row_count"]),
            smallest_file_bytes=int(raw["smallest_file_bytes"]),
            largest_file_bytes=int(raw["largest_file_bytes"]),
        )


@dataclass(frozen=True)
class TableSnapshot:
    """One snapshot (Iceberg) or version (Delta) of a table format's history."""

    id: str
    committed_at: datetime | None
    operation: str | None = None
    summary: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "committed_at": None if self.committed_at is None else self.committed_at.isoformat(),
            "operation": self.operation,
            "summary": [list(pair) for pair in self.summary],
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> TableSnapshot:
        moment = raw.get("committed_at")
        return cls(
            id=str(raw["id"]),
            committed_at=None if moment is None else datetime.fromisoformat(moment),
            operation=raw.get("operation"),
            summary=tuple((str(k), str(v)) for k, v in raw.get("summary", [])),
        )


@dataclass(frozen=True)
class FileLayout:
    """How a bronze dataset is laid out in files.

    ``format`` is ``parquet``, ``csv``, ``json``, ``iceberg`` or ``delta``; ``root`` the
    dataset's root URI (``s3://bucket/bronze/erp/cust_az12`` or an absolute path).
    """

    format: str
    root: str
    partition_columns: tuple[str, ...] = ()
    partitions: tuple[FilePartition, ...] = ()
    snapshots: tuple[TableSnapshot, ...] = ()

    @property
    def file_count(self) -> int:
        return sum(p.file_count for p in self.partitions)

    @property
    def total_bytes(self) -> int:
        return sum(p.total_bytes for p in self.partitions)

    @property
    def row_count(self) -> int | None:
        counts = [p.row_count for p in self.partitions]
        if not counts or any(c is None for c in counts):
            return None
        return sum(c for c in counts if c is not None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "root": self.root,
            "partition_columns": list(self.partition_columns),
            "partitions": [p.to_dict() for p in self.partitions],
            "snapshots": [s.to_dict() for s in self.snapshots],
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> FileLayout:
        return cls(
            format=str(raw["format"]),
            root=str(raw["root"]),
            partition_columns=tuple(raw.get("partition_columns", [])),
            partitions=tuple(FilePartition.from_dict(p) for p in raw.get("partitions", [])),
            snapshots=tuple(TableSnapshot.from_dict(s) for s in raw.get("snapshots", [])),
        )


@dataclass(frozen=True)
class LiveTable:
    """A table, view, materialized view, external table or bronze folder as it is now.

    ``definition`` is a view's SQL (parsed into lineage by the workspace); ``location``
    the storage root of an external table or folder; ``layout`` the file layout of a
    bronze folder or table format.
    """

    id: DatasetId
    kind: DatasetKind
    columns: tuple[LiveColumn, ...]
    comment: str | None = None
    definition: str | None = None
    location: str | None = None
    layout: FileLayout | None = None

    @property
    def schema(self) -> Schema:
        """The columns as the catalog's plain schema (name, type, comment)."""
        return Schema(tuple(Field(c.name, c.type, c.comment) for c in self.columns))

    @property
    def primary_key(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.primary_key)

    def schema_facts(self) -> dict[str, Any]:
        """What a schema version records (and fingerprints): columns and table facts.

        The layout is not part of it: file counts move with every load, the schema not.
        """
        out: dict[str, Any] = {
            "kind": self.kind.value,
            "columns": [c.to_dict() for c in self.columns],
        }
        if self.comment is not None:
            out["comment"] = self.comment
        if self.definition is not None:
            out["definition"] = self.definition
        if self.location is not None:
            out["location"] = self.location
        return out


class Severity(str, Enum):
    """How much a finding matters to the person on call."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True)
class Finding:
    """Something worth a look that is not an error (``small_files``, ``schema_mismatch``)."""

    dataset: DatasetId
    kind: str
    message: str
    severity: Severity = Severity.WARNING

    def to_dict(self) -> dict[str, str]:
        return {
            "dataset": str(self.dataset),
            "kind": self.kind,
            "message": self.message,
            "severity": self.severity.value,
        }


@dataclass(frozen=True)
class ObservationIssue:
    """An object that could not be observed: its name and the source's own message."""

    subject: str
    message: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.message}"


@dataclass(frozen=True)
class Observation:
    """One introspection of one source: what it holds, what failed, what to look at.

    ``source`` names where it came from (a redacted URL or a folder URI); it is the
    ``observed_by`` of the schema versions written from it, prefixed by the kind
    (``warehouse:`` or ``files:``) in the catalog.
    """

    source: str
    tables: tuple[LiveTable, ...] = ()
    issues: tuple[ObservationIssue, ...] = ()
    findings: tuple[Finding, ...] = ()


@dataclass(frozen=True)
class ProfileMetric:
    """One figure of a profile: ``row_count``, ``null_rate`` of a column, ``max`` ..."""

    name: str
    value: float
    column: str | None = None


@dataclass(frozen=True)
class DatasetProfile:
    """One profiling scan of one dataset.

    ``sampled_rows`` is set when the figures come from a sample (above the configured
    threshold), so readers can say so; ``row_count`` metrics are always exact. Text
    statistics (min/max of strings and dates) go in ``bounds`` since metrics are numbers.
    """

    dataset: DatasetId
    observed_at: datetime
    metrics: tuple[ProfileMetric, ...] = ()
    bounds: tuple[tuple[str, str | None, str | None], ...] = ()  # (column, min, max) as text
    sampled_rows: int | None = None

    def metric(self, name: str, column: str | None = None) -> float | None:
        for point in self.metrics:
            if point.name == name and point.column == column:
                return point.value
        return None
