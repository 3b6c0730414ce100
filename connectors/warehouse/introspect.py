"""Bulk introspection of a warehouse: what it holds now, as one ``Observation``.

``introspect(url)`` opens the backend that fits the URL (one module per backend whose
catalog queries differ, ``inspector`` for any other SQLAlchemy dialect) and reads each
schema with a fixed number of queries, whatever the number of tables in it: the
relations (kind, comment, view SQL, location), the columns (native type, nullability,
default, comment, partition key) and the primary keys.

A schema that cannot be listed is one ``ObservationIssue``; a schema whose relations were
listed but whose columns or keys could not be read makes one issue per table (a table
with half its facts would look like a schema change downstream). The rest goes on.

Names follow the OpenLineage naming spec as ``lineage.run.datasets`` names a SQLAlchemy
table: ``database.schema.table`` in the namespace ``lineage.model.namespace_of`` gives;
SQLite has no schemas (an attached database is one), so its tables are
``<file stem>.<table>``, the two-part name a job writing through a SQLite engine gets.

A view's SQL (``LiveTable.definition``) is the text the database keeps: the query for
PostgreSQL, Redshift and BigQuery, the whole ``CREATE VIEW`` statement for SQLite, DuckDB
and Snowflake (``parsers.sql`` reads both). Output is deterministic: tables sorted by
name, columns in ordinal order, issues in schema order.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from itertools import groupby
from operator import itemgetter, lt
from typing import TYPE_CHECKING, NamedTuple, Protocol

from connectors.classify import classify
from lineage.errors import ConnectorError, TemporaryConnectorError
from lineage.model import (
    DatasetId,
    DatasetKind,
    LiveColumn,
    LiveTable,
    Observation,
    ObservationIssue,
    live_column,
    redact_text,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

__all__ = [
    "Backend",
    "ColumnFact",
    "Relation",
    "assemble",
    "describe_error",
    "group_columns",
    "introspect",
    "observe",
    "selected",
]


class Relation(NamedTuple):
    """A table, view or external table as a backend's relation query lists it.

    Named tuples, not dataclasses, for the backends' rows: 100,000 columns are built in
    a tenth of a second instead of half a second.
    """

    schema: str
    name: str
    kind: DatasetKind
    comment: str | None = None
    definition: str | None = None
    location: str | None = None


class ColumnFact(NamedTuple):
    """One column as a backend's column query reports it; ``position`` orders the columns."""

    schema: str
    table: str
    name: str
    position: int
    type: str | None = None
    nullable: bool | None = None
    default: str | None = None
    comment: str | None = None
    primary_key: bool = False
    partition: bool = False


class Backend(Protocol):
    """What ``introspect`` needs from a backend; each method raises on failure."""

    source: str  # the redacted URL
    namespace: str
    #: ``(schema, table)`` -> the database's message, for tables whose columns could not be
    #: read while the rest of their schema's could (filled by ``columns``).
    failures: dict[tuple[str, str], str]
    def dataset_name(self, schema: str, table: str) -> str: ...

    def schemas(self) -> list[str]: ...

    def unreadable(self, schema: str) -> str | None:
        """Why ``schema`` cannot be read at all (as the database would say it), or None."""
        ...

    def relations(self, schema: str) -> list[Relation]: ...

    def columns(self, schema: str, relations: Sequence[Relation]) -> Iterable[ColumnFact]:
        """The columns of ``relations``, in any order; may be a stream read as it arrives."""
        ...

    def primary_keys(self, schema: str) -> set[tuple[str, str]]:
        """``(table, column)`` pairs of the primary keys of ``schema``."""
        ...

    def close(self) -> None: ...


@dataclass
class _Collected:
    tables: list[LiveTable] = field(default_factory=list)
    issues: list[ObservationIssue] = field(default_factory=list)


def describe_error(exc: BaseException) -> str:
    """The database's own message on one line, secrets masked, without SQLAlchemy's
    statement and parameter echo (the statement is ours, the parameters may be secret)."""
    orig = getattr(exc, "orig", None)
    text = str(orig if isinstance(orig, BaseException) else exc)
    text = text.split("\n[SQL:", 1)[0]
    text = " ".join(text.split())[:500] or type(exc).__name__
    return redact_text(text)


def selected(
    schema: str, table: str, full_name: str, include: Sequence[str], exclude: Sequence[str]
) -> bool:
    """Whether ``schema.table`` (or the full dataset name, or its last two parts, as
    named: lower case for Snowflake) passes include and exclude."""
    keys = (f"{schema}.{table}", full_name, ".".join(full_name.split(".")[-2:]))

    def hit(patterns: Sequence[str]) -> bool:
        return any(fnmatchcase(key, pattern) for key in keys for pattern in patterns)

    return (not include or hit(include)) and not hit(exclude)


def assemble(
    namespace: str,
    name_of: Callable[[str, str], str],
    relations: Iterable[Relation],
    columns: Iterable[ColumnFact],
    primary_keys: Iterable[tuple[str, str, str]] = (),
) -> list[LiveTable]:
    """LiveTables from a backend's rows: columns grouped per table in ordinal order, the
    primary-key flag set from ``(schema, table, column)`` triples; sorted by name."""
    return _tables(namespace, name_of, relations, group_columns(columns, set(primary_keys)))


def group_columns(
    columns: Iterable[ColumnFact], keys: Collection[tuple[str, str, str]] = ()
) -> dict[tuple[str, str], tuple[LiveColumn, ...]]:
    """Each ``(schema, table)``'s LiveColumns in ordinal order, in one pass over
    ``columns`` as they arrive (a stream is consumed while the server still sends it).

    Rows usually come one table's together and in order (PostgreSQL's join order, most
    catalog views): such a run becomes its columns at once. A table whose rows come in
    several runs or out of order is sorted by position at the end, so any order is right.
    """
    runs: dict[tuple[str, str], list[ColumnFact]] = {}
    built: dict[tuple[str, str], tuple[LiveColumn, ...]] = {}
    for table, run in groupby(columns, key=_TABLE_OF):
        facts = list(run)
        seen = runs.get(table)
        if seen is not None:
            seen.extend(facts)
            built.pop(table, None)
        else:
            runs[table] = facts
            if _ascending(facts):
                built[table] = _live_columns(facts, keys)
    for table, facts in runs.items():
        if table not in built:
            built[table] = _live_columns(sorted(facts, key=_POSITION), keys)
    return built


def _tables(
    namespace: str,
    name_of: Callable[[str, str], str],
    relations: Iterable[Relation],
    columns_of: dict[tuple[str, str], tuple[LiveColumn, ...]],
) -> list[LiveTable]:
    tables = [
        LiveTable(
            id=DatasetId(namespace, name_of(rel.schema, rel.name)),
            kind=rel.kind,
            columns=columns_of.get((rel.schema, rel.name), ()),
            comment=rel.comment,
            definition=rel.definition,
            location=rel.location,
        )
        for rel in relations
    ]
    return sorted(tables, key=lambda t: t.id.name)


def _ascending(facts: list[ColumnFact]) -> bool:
    positions = list(map(_POSITION, facts))
    return all(map(lt, positions, positions[1:]))


# By index, not by name: a backend may stream the driver's plain tuples in ColumnFact's
# field order (PostgreSQL), and C getters keep the per-row cost of 100,000 columns down.
_TABLE_OF = itemgetter(0, 1)
_POSITION = itemgetter(3)


def _live_columns(
    facts: list[ColumnFact], keys: Collection[tuple[str, str, str]]
) -> tuple[LiveColumn, ...]:
    # Backends that flag keys in their column query (PostgreSQL) pass no separate keys:
    # by index, the hot loop of 100,000 columns.
    if not keys:
        return tuple([live_column(f[2], f[4], f[5], f[6], f[7], f[8], f[9]) for f in facts])
    return tuple(
        [live_column(f[2], f[4], f[5], f[6], f[7], f[8] or (f[0], f[1], f[2]) in keys, f[9])
         for f in facts]
    )  # fmt: skip


def _read_schema(
    backend: Backend,
    schema: str,
    include: Sequence[str],
    exclude: Sequence[str],
    into: _Collected,
) -> None:
    why = backend.unreadable(schema)
    if why is not None:
        into.issues.append(ObservationIssue(f"schema {schema}", why))
        return
    try:
        listed = backend.relations(schema)
    except Exception as exc:  # one schema never stops the others
        into.issues.append(ObservationIssue(f"schema {schema}", describe_error(exc)))
        return
    chosen = [
        rel
        for rel in listed
        if selected(schema, rel.name, backend.dataset_name(schema, rel.name), include, exclude)
    ]
    if not chosen:
        return
    try:
        # Grouped inside the try: a backend may stream its columns, and a failure midway
        # fails the schema's tables like a failed query.
        columns = backend.columns(schema, chosen)
        keys = {(schema, table, column) for table, column in backend.primary_keys(schema)}
        columns_of = group_columns(columns, keys)
    except Exception as exc:
        message = describe_error(exc)
        for rel in chosen:
            into.issues.append(ObservationIssue(backend.dataset_name(schema, rel.name), message))
        return
    failed = {rel for rel in chosen if (rel.schema, rel.name) in backend.failures}
    for rel in sorted(failed, key=lambda r: r.name):
        message = backend.failures[(rel.schema, rel.name)]
        into.issues.append(ObservationIssue(backend.dataset_name(schema, rel.name), message))
    kept = [rel for rel in chosen if rel not in failed]
    into.tables.extend(_tables(backend.namespace, backend.dataset_name, kept, columns_of))


def introspect(
    source: str | Engine,
    *,
    schemas: Sequence[str] = (),
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    statement_timeout_s: float | None = None,
) -> Observation:
    """What the warehouse at ``source`` (a SQLAlchemy URL or Engine) holds now.

    Args:
        source: ``postgresql+psycopg://...``, ``duckdb:///path.duckdb``,
            ``sqlite:///path.db``, ``redshift+...``, ``snowflake://...``, ``bigquery://...``
            or any SQLAlchemy URL or Engine; a URL without a password takes it from
            ``LINEAGE_WAREHOUSE_PASSWORD``.
        schemas: the schemas to read; empty for every non-system schema.
        include: fnmatch patterns over ``schema.table`` and the full dataset name; empty
            for every table.
        exclude: patterns of tables to leave out (applied after ``include``).
        statement_timeout_s: a per-statement limit where the backend has one (see
            ``connectors.warehouse.engine``).

    Raises:
        ConnectorError: the warehouse cannot be reached (Temporary) or refuses the
            connection or has no such database (Permanent); a missing driver (Permanent,
            naming the extra to install).
    """
    from connectors.warehouse.engine import open_backend

    backend = open_backend(source, statement_timeout_s=statement_timeout_s)
    try:
        return observe(backend, schemas=schemas, include=include, exclude=exclude)
    finally:
        backend.close()


def observe(
    backend: Backend,
    *,
    schemas: Sequence[str] = (),
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> Observation:
    """The Observation of an open ``backend`` (``introspect`` opens one for a URL).

    Schema names given in ``schemas`` match case-insensitively when they do not match
    exactly (Snowflake keeps unquoted names in upper case).
    """
    with _collector_paused():
        return _observe(backend, schemas, include, exclude)


@contextmanager
def _collector_paused() -> Iterator[None]:
    # 100,000 columns are 200,000 new objects and no garbage: left on, the cyclic
    # collector runs its full passes over them again and again (half the build time).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _observe(
    backend: Backend, schemas: Sequence[str], include: Sequence[str], exclude: Sequence[str]
) -> Observation:
    collected = _Collected()
    try:
        available = backend.schemas()
    except ConnectorError:
        raise
    except Exception as exc:  # nothing can be read: the whole introspection fails
        kind = classify(exc) or TemporaryConnectorError
        raise kind(f"cannot list schemas: {describe_error(exc)}", obj=backend.source) from None
    folded = {name.lower(): name for name in available}
    wanted = list(schemas) if schemas else available
    for asked in sorted(dict.fromkeys(wanted)):
        schema = asked if asked in available else folded.get(asked.lower())
        if schema is None:
            collected.issues.append(
                ObservationIssue(f"schema {asked}", "no such schema (or not visible)")
            )
            continue
        _read_schema(backend, schema, include, exclude, collected)
    return Observation(
        source=backend.source,
        tables=tuple(sorted(collected.tables, key=lambda t: t.id.name)),
        issues=tuple(collected.issues),
    )
