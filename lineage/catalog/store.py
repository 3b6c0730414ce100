"""The catalog store: datasets, schema versions, jobs, column edges, runs, metrics, checks.

SQLAlchemy Core on any URL; SQLite (``.lineage/catalog.db``, the default) and PostgreSQL
(``postgresql+psycopg://...``) are first-class. The tables and migrations live in
``lineage.catalog.tables``.

Writes are idempotent and incremental: ``write(batch)`` runs in one transaction, skips a
job whose fingerprint (its fields plus its sorted edges) is unchanged, replaces the IO and
edges of a changed one, and adds a schema version only when a dataset's fields differ from
the latest version seen by the same observer. Writing the same batch twice changes
nothing::

    with Catalog("sqlite:///.lineage/catalog.db") as catalog:
        summary = catalog.write(batch)         # WriteSummary(jobs_added=..., ...)
        catalog.find_datasets("erp_customers")  # finds dev.silver.erp_customers
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from operator import itemgetter
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Row,
    Table,
    bindparam,
    create_engine,
    event,
    func,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, SQLAlchemyError

from lineage.catalog import tables as cs
from lineage.catalog.tables import CURRENT_VERSION, MIGRATIONS
from lineage.errors import CatalogError
from lineage.model import (
    ColumnEdge,
    ColumnId,
    Dataset,
    DatasetId,
    DatasetKind,
    DataTest,
    Field,
    Freshness,
    Job,
    LineageBatch,
    Schema,
    Transformation,
    TransformationSubtype,
    TransformationType,
)

__all__ = [
    "CATALOG_URL_ENV",
    "CURRENT_VERSION",
    "DEFAULT_CATALOG_URL",
    "MIGRATIONS",
    "Catalog",
    "SchemaVersion",
    "WriteSummary",
    "mask_url",
]

#: The default store, relative to the current directory.
DEFAULT_CATALOG_URL = "sqlite:///.lineage/catalog.db"
#: The environment variable that names the catalog when no URL is given.
CATALOG_URL_ENV = "LINEAGE_CATALOG_URL"

_CHUNK = 900  # values per IN (...) list: below even old SQLite builds' 999 limit
_WRITE_OPTION = "silverline_write"  # SQLite: take the write lock at BEGIN (IMMEDIATE)
_PG_LOCK_KEY = 0x5117E4  # advisory lock serializing creation/migration on PostgreSQL
_WRITE_ATTEMPTS = 3  # a concurrent writer inserting the same new rows: retry the batch

# source namespace, name, field, target namespace, name, field ('' for the whole dataset)
_EdgeKey = tuple[str, str, str, str, str, str]
_JobKey = tuple[str, str]  # namespace, name
_EdgeRow = tuple[int | None, int, str, int, str]  # job, source ds, field, target ds, field


@dataclass(frozen=True)
class SchemaVersion:
    """One observed version of a dataset's schema (numbered per observer from 1)."""

    version: int
    schema: Schema
    observed_by: str
    observed_at: datetime
    fingerprint: str


@dataclass(frozen=True)
class WriteSummary:
    """What one ``Catalog.write`` changed."""

    datasets_added: int = 0
    datasets_updated: int = 0
    schema_versions_added: int = 0
    jobs_added: int = 0
    jobs_changed: int = 0
    jobs_unchanged: int = 0
    edges_added: int = 0
    edges_removed: int = 0


def mask_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` (for messages, logs and reports)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return re.sub(r"(://[^/:@]*:)[^@/]*@", r"\1***@", url)


class Catalog:
    """The catalog store on one SQLAlchemy URL; also a context manager that closes it."""

    def __init__(self, url: str | None = None) -> None:
        """Open (creating or migrating) the catalog at ``url``.

        ``None`` means ``$LINEAGE_CATALOG_URL``, else ``DEFAULT_CATALOG_URL``. A new
        database gets the tables; an older catalog is migrated; nothing is ever recreated.

        Raises:
            CatalogError: the database cannot be opened, is newer than this code, or holds
                other tables but no ``catalog_version`` (the message shows the URL with any
                password masked).
        """
        self.url = self.resolve_url(url)
        self.masked_url = mask_url(self.url)
        self._closed = False
        try:
            parsed = make_url(self.url)
        except ArgumentError as exc:
            raise CatalogError(  # exc's text would repeat the URL, password included
                "invalid catalog URL: expected dialect+driver://user:password@host/database "
                "or the path of a SQLite file",
                obj=self.masked_url,
            ) from exc
        self._password = parsed.password if isinstance(parsed.password, str) else None
        self._engine = self._open(parsed)

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def resolve_url(cls, url: str | None) -> str:
        """The URL to use: ``url``, else ``$LINEAGE_CATALOG_URL``, else the default.

        A value without ``://`` is taken as the path of a SQLite file.
        """
        chosen = (url or "").strip() or os.environ.get(CATALOG_URL_ENV, "").strip()
        chosen = chosen or DEFAULT_CATALOG_URL
        if "://" not in chosen:
            chosen = f"sqlite:///{Path(chosen).expanduser()}"
        return chosen

    def _open(self, url: URL) -> Engine:
        engine: Engine | None = None
        try:
            if url.get_backend_name() == "sqlite":
                _make_sqlite_folder(url)
                engine = _sqlite_engine(url)
            else:
                engine = create_engine(url, pool_pre_ping=True)
            self._prepare(engine)
            return engine
        except CatalogError:
            if engine is not None:
                engine.dispose()
            raise
        except (SQLAlchemyError, OSError, ImportError) as exc:
            if engine is not None:
                engine.dispose()
            raise CatalogError(
                f"cannot open the catalog: {self._reason(exc)}", obj=self.masked_url
            ) from exc

    def _prepare(self, engine: Engine) -> None:
        """Create the tables on an empty database, migrate an older catalog, refuse others."""
        with engine.connect() as conn, conn.begin():
            if self._check_version(conn) == CURRENT_VERSION:
                return  # the common case: a read-only look, no write lock taken
        with engine.connect() as conn:
            conn.execution_options(**{_WRITE_OPTION: True})
            with conn.begin():
                if conn.dialect.name == "postgresql":  # concurrent openers wait here
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
                found = self._check_version(conn)
                if found is None:
                    cs.metadata.create_all(conn)
                    conn.execute(cs.catalog_version.insert(), {"id": 1, "version": CURRENT_VERSION})
                    return
                for version in range(found, CURRENT_VERSION):
                    step = MIGRATIONS.get(version)
                    if step is None:
                        raise CatalogError(
                            f"no migration from catalog schema version {version} to "
                            f"{version + 1} (this Silverline is at {CURRENT_VERSION})",
                            obj=self.masked_url,
                        )
                    try:
                        step(conn)
                    except Exception as exc:  # rolled back with the whole opening transaction
                        raise CatalogError(
                            f"migrating the catalog from schema version {version} to "
                            f"{version + 1} failed: {self._reason(exc)}",
                            obj=self.masked_url,
                        ) from exc
                    conn.execute(cs.catalog_version.update().values(version=version + 1))

    def _check_version(self, conn: Connection) -> int | None:
        """The catalog's schema version, None for an empty database; raises for others."""
        tables = set(inspect(conn).get_table_names())
        if cs.catalog_version.name not in tables:
            if tables:
                shown = ", ".join(sorted(tables)[:8])
                raise CatalogError(
                    f"the database holds other tables ({shown}) but no catalog_version "
                    "table: not a Silverline catalog (use an empty database)",
                    obj=self.masked_url,
                )
            return None
        found = conn.execute(select(cs.catalog_version.c.version)).scalar()
        if found is None:
            raise CatalogError(
                "the catalog_version table is empty: the catalog is damaged",
                obj=self.masked_url,
            )
        if found > CURRENT_VERSION:
            raise CatalogError(
                f"the catalog is at schema version {found}, newer than this Silverline "
                f"(schema version {CURRENT_VERSION}): upgrade Silverline to use it",
                obj=self.masked_url,
            )
        return int(found)

    def close(self) -> None:
        """Release the database connections; the catalog cannot be used afterwards."""
        if not self._closed:
            self._closed = True
            self._engine.dispose()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Catalog({self.masked_url!r})"

    def _reason(self, exc: BaseException) -> str:
        source = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
        if isinstance(source, ImportError):
            reason = f"the database driver is not installed ({source})"
        else:
            reason = " ".join(str(source).split()) or type(source).__name__
        if self._password:
            reason = reason.replace(self._password, "***")
        return reason

    @contextmanager
    def _transaction(self, action: str, *, write: bool = False) -> Iterator[Connection]:
        if self._closed:
            raise CatalogError("the catalog is closed", obj=self.masked_url)
        try:
            with self._engine.connect() as conn:
                if write:
                    conn.execution_options(**{_WRITE_OPTION: True})
                with conn.begin():
                    yield conn
        except SQLAlchemyError as exc:
            message = f"cannot {action}: {self._reason(exc)}"
            raise CatalogError(message, obj=self.masked_url) from exc

    # -- writing lineage -----------------------------------------------------------------

    def write(self, batch: LineageBatch, *, observed_at: datetime | None = None) -> WriteSummary:
        """Record a batch in one transaction; unchanged jobs and schemas are skipped.

        ``observed_at`` (default: now) stamps new schema versions and updated rows.
        Every edge's ``job`` must name a job of the batch (or be None).

        Raises:
            CatalogError: an edge names a job missing from the batch, or the database fails.
        """
        plan = _Plan.of(batch)
        when = _utc(observed_at) if observed_at is not None else datetime.now(timezone.utc)
        for attempt in range(1, _WRITE_ATTEMPTS + 1):
            try:
                with self._transaction("write to the catalog", write=True) as conn:
                    return _Writer(conn, plan, batch.observed_by, when).run()
            except CatalogError as exc:
                if attempt == _WRITE_ATTEMPTS or not isinstance(exc.__cause__, IntegrityError):
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    # -- reading lineage -----------------------------------------------------------------

    def datasets(self) -> list[Dataset]:
        """Every dataset in its current state, sorted by (namespace, name)."""
        with self._transaction("read datasets") as conn:
            rows = conn.execute(select(cs.datasets)).all()
            return _build_datasets(conn, rows, all_columns=True)

    def dataset(self, dataset: DatasetId) -> Dataset | None:
        """One dataset in its current state, or None if the catalog does not know it."""
        with self._transaction("read a dataset") as conn:
            rows = conn.execute(select(cs.datasets).where(*_dataset_is(dataset))).all()
            found = _build_datasets(conn, rows)
            return found[0] if found else None

    def find_datasets(self, name: str) -> list[Dataset]:
        """Datasets named ``name`` exactly, else those whose name ends with ``"." + name``.

        Case-insensitive: ``erp_customers`` finds ``dev.silver.erp_customers``.
        """
        wanted = name.strip().lower()
        if not wanted:
            return []
        lowered = func.lower(cs.datasets.c.name)
        pattern = "%." + re.sub(r"([\\%_])", r"\\\1", wanted)
        with self._transaction("find datasets") as conn:
            rows = conn.execute(select(cs.datasets).where(lowered == wanted)).all()
            if not rows:
                rows = conn.execute(
                    select(cs.datasets).where(lowered.like(pattern, escape="\\"))
                ).all()
            return _build_datasets(conn, rows)

    def schema_history(
        self, dataset: DatasetId, *, observed_by: str | None = None
    ) -> list[SchemaVersion]:
        """The schema versions of a dataset, oldest first (optionally of one observer)."""
        sv = cs.schema_versions
        query = (
            select(sv)
            .join(cs.datasets, cs.datasets.c.id == sv.c.dataset_id)
            .where(*_dataset_is(dataset))
            .order_by(sv.c.observed_at, sv.c.id)
        )
        if observed_by is not None:
            query = query.where(sv.c.observed_by == observed_by)
        with self._transaction("read schema history") as conn:
            return [
                SchemaVersion(
                    version=row.version,
                    schema=_schema_from_json(row.fields),
                    observed_by=row.observed_by,
                    observed_at=row.observed_at,
                    fingerprint=row.fingerprint,
                )
                for row in conn.execute(query)
            ]

    def jobs(self) -> list[Job]:
        """Every job, sorted by (namespace, name)."""
        with self._transaction("read jobs") as conn:
            return _build_jobs(conn, conn.execute(select(cs.jobs)).all(), all_io=True)

    def job(self, namespace: str, name: str) -> Job | None:
        """One job, or None."""
        query = select(cs.jobs).where(cs.jobs.c.namespace == namespace, cs.jobs.c.name == name)
        with self._transaction("read a job") as conn:
            found = _build_jobs(conn, conn.execute(query).all())
            return found[0] if found else None

    def column_edges(self) -> list[ColumnEdge]:
        """Every column edge, sorted."""
        with self._transaction("read column edges") as conn:
            return _read_edges(conn)

    def edges_of_job(self, job_name: str) -> list[ColumnEdge]:
        """The column edges of the job(s) named ``job_name``, sorted."""
        with self._transaction("read column edges") as conn:
            return _read_edges(conn, job_name)

    # -- runs, metrics, check results ----------------------------------------------------

    def record_run(
        self,
        run_id: str,
        job_name: str,
        state: str,
        event_time: datetime,
        facets: dict[str, Any] | None = None,
    ) -> None:
        """Record one OpenLineage run event; events of the same ``run_id`` update one run.

        START sets ``started_at``; COMPLETE, FAIL and ABORT set ``ended_at`` and the final
        state (a late START never reopens an ended run). Facets are merged; the
        ``errorMessage`` facet's message of a FAIL/ABORT becomes ``error``.

        Raises:
            CatalogError: ``state`` is not an OpenLineage run state, or the database fails.
        """
        state = state.strip().upper()
        if state not in cs.RUN_STATES:
            raise CatalogError(
                f"unknown run state {state!r}; expected one of {', '.join(cs.RUN_STATES)}",
                obj=run_id,
            )
        when = _utc(event_time)
        runs = cs.runs
        with self._transaction("record a run", write=True) as conn:
            _insert_ignore(
                conn,
                runs,
                [
                    {
                        "run_id": run_id,
                        "job_name": job_name,
                        "state": state,
                        "first_event_at": when,
                        "last_event_at": when,
                        "facets": "{}",
                    }
                ],
                ["run_id"],
            )
            row = conn.execute(select(runs).where(runs.c.run_id == run_id).with_for_update()).one()
            values = _run_update(row, job_name, state, when, facets or {})
            conn.execute(update(runs).where(runs.c.id == row.id).values(**values))

    def runs(self, job_name: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Runs, newest first: ``run_id, job_name, state, started_at, ended_at, error,
        facets, first_event_at, last_event_at``."""
        runs = cs.runs
        query = select(runs).order_by(runs.c.first_event_at.desc(), runs.c.id.desc()).limit(limit)
        if job_name is not None:
            query = query.where(runs.c.job_name == job_name)
        with self._transaction("read runs") as conn:
            return [
                {
                    "run_id": row.run_id,
                    "job_name": row.job_name,
                    "state": row.state,
                    "started_at": row.started_at,
                    "ended_at": row.ended_at,
                    "error": row.error,
                    "facets": json.loads(row.facets),
                    "first_event_at": row.first_event_at,
                    "last_event_at": row.last_event_at,
                }
                for row in conn.execute(query)
            ]

    def record_metric(
        self,
        dataset: DatasetId,
        name: str,
        value: float,
        observed_at: datetime,
        run_id: str | None = None,
        column: str | None = None,
    ) -> None:
        """Record one measurement (row count, null fraction, ...) of a dataset or column.

        An unknown dataset is added (kind unknown).

        Raises:
            CatalogError: ``value`` is not a finite number, or the database fails.
        """
        number = float(value)
        if not math.isfinite(number):
            raise CatalogError(
                f"metric {name!r} must be a finite number, got {value!r}", obj=str(dataset)
            )
        with self._transaction("record a metric", write=True) as conn:
            ids = _ensure_datasets(conn, {dataset}, {}, _utc(observed_at)).ids
            conn.execute(
                cs.metrics.insert(),
                {
                    "dataset_id": ids[dataset],
                    "name": name,
                    "column_name": column,
                    "value": number,
                    "observed_at": _utc(observed_at),
                    "run_id": run_id,
                },
            )

    def metrics(
        self, dataset: DatasetId, name: str | None = None, since: datetime | None = None
    ) -> list[dict[str, Any]]:
        """Measurements of a dataset, oldest first: ``dataset, name, column, value,
        observed_at, run_id`` (only ``name``, only from ``since`` on, when given)."""
        m = cs.metrics
        query = (
            select(m)
            .join(cs.datasets, cs.datasets.c.id == m.c.dataset_id)
            .where(*_dataset_is(dataset))
            .order_by(m.c.observed_at, m.c.id)
        )
        if name is not None:
            query = query.where(m.c.name == name)
        if since is not None:
            query = query.where(m.c.observed_at >= _utc(since))
        with self._transaction("read metrics") as conn:
            return [
                {
                    "dataset": dataset,
                    "name": row.name,
                    "column": row.column_name,
                    "value": row.value,
                    "observed_at": row.observed_at,
                    "run_id": row.run_id,
                }
                for row in conn.execute(query)
            ]

    def record_check_result(
        self,
        dataset: DatasetId,
        check: str,
        status: str,
        observed_at: datetime,
        column: str | None = None,
        run_id: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        """Record the outcome of one quality check (``status``: pass, warn, fail, error...).

        An unknown dataset is added (kind unknown).
        """
        with self._transaction("record a check result", write=True) as conn:
            ids = _ensure_datasets(conn, {dataset}, {}, _utc(observed_at)).ids
            conn.execute(
                cs.check_results.insert(),
                {
                    "dataset_id": ids[dataset],
                    "check_name": check,
                    "column_name": column,
                    "status": status,
                    "observed_at": _utc(observed_at),
                    "run_id": run_id,
                    "details": _json(details or {}),
                },
            )

    def check_results(self, dataset: DatasetId | None = None) -> list[dict[str, Any]]:
        """Check results, oldest first (of one dataset when given): ``dataset, check,
        column, status, observed_at, run_id, details``."""
        c, d = cs.check_results, cs.datasets
        query = (
            select(c, d.c.namespace, d.c.name)
            .join(d, d.c.id == c.c.dataset_id)
            .order_by(c.c.observed_at, c.c.id)
        )
        if dataset is not None:
            query = query.where(*_dataset_is(dataset))
        with self._transaction("read check results") as conn:
            return [
                {
                    "dataset": DatasetId(row.namespace, row.name),
                    "check": row.check_name,
                    "column": row.column_name,
                    "status": row.status,
                    "observed_at": row.observed_at,
                    "run_id": row.run_id,
                    "details": json.loads(row.details),
                }
                for row in conn.execute(query)
            ]

    # -- push state (what each DataHub target last received) -----------------------------

    def push_state(self, target: str) -> dict[tuple[str, str], str]:
        """The hash of every ``(urn, aspect)`` last sent to ``target`` (``"lite:/path"``,
        ``"rest:http://gms:8080"``, ...); empty for a target never pushed to."""
        p = cs.push_state
        query = select(p.c.urn, p.c.aspect, p.c.hash).where(p.c.target == target)
        with self._transaction("read the push state") as conn:
            rows = conn.execute(query).all()  # fetchall: ~3x faster than row by row
            return {(urn, aspect): digest for urn, aspect, digest in rows}

    def record_push(
        self,
        target: str,
        hashes: Mapping[tuple[str, str], str],
        *,
        pushed_at: datetime | None = None,
    ) -> None:
        """Record that ``target`` now holds these ``(urn, aspect) -> hash`` (others kept).

        Raises:
            CatalogError: the database fails.
        """
        if not hashes:
            return
        when = _utc(pushed_at) if pushed_at is not None else datetime.now(timezone.utc)
        rows = [
            {"target": target, "urn": urn, "aspect": aspect, "hash": digest, "pushed_at": when}
            for (urn, aspect), digest in hashes.items()
        ]
        p = cs.push_state
        with self._transaction("record a push", write=True) as conn:
            dialect = conn.dialect.name
            if dialect in ("sqlite", "postgresql"):
                insert = sqlite_insert(p) if dialect == "sqlite" else pg_insert(p)
                statement = insert.on_conflict_do_update(
                    index_elements=["target", "urn", "aspect"],
                    set_={"hash": insert.excluded.hash, "pushed_at": insert.excluded.pushed_at},
                )
                for start in range(0, len(rows), 5000):
                    conn.execute(statement, rows[start : start + 5000])
            else:  # pragma: no cover - other backends: replace row by row
                for row in rows:
                    conn.execute(
                        p.delete().where(
                            p.c.target == target, p.c.urn == row["urn"], p.c.aspect == row["aspect"]
                        )
                    )
                conn.execute(p.insert(), rows)


# -- engines -----------------------------------------------------------------------------


def _make_sqlite_folder(url: URL) -> None:
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _sqlite_engine(url: URL) -> Engine:
    engine = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's BEGIN (below) drive transactions, so DDL is transactional too.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        writing = conn.get_execution_options().get(_WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")

    return engine


# -- values ------------------------------------------------------------------------------


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _digest(value: Any) -> str:
    return hashlib.sha256(_json(value).encode("utf-8")).hexdigest()


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def _chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _dataset_is(dataset: DatasetId) -> tuple[Any, ...]:
    return (cs.datasets.c.namespace == dataset.namespace, cs.datasets.c.name == dataset.name)


def _fields_doc(schema: Schema) -> list[dict[str, str | None]]:
    return [{"name": f.name, "type": f.type, "description": f.description} for f in schema.fields]


def _fields_fingerprint(schema: Schema) -> str:
    """A digest of the fields (name, type, description), in order."""
    doc = [[f.name, f.type, f.description] for f in schema.fields]
    return hashlib.sha256(json.dumps(doc, separators=(",", ":")).encode("utf-8")).hexdigest()


def _schema_from_json(raw: str) -> Schema:
    return Schema(
        tuple(Field(f["name"], f.get("type"), f.get("description")) for f in json.loads(raw))
    )


def _dataset_values(dataset: Dataset) -> dict[str, Any]:
    """The metadata columns of a dataset row (everything but identity and schema)."""
    return {
        "kind": DatasetKind(dataset.kind).value,
        "description": dataset.description,
        "owners": _json(list(dataset.owners)) if dataset.owners else "[]",
        "tags": _json(list(dataset.tags)) if dataset.tags else "[]",
        "meta": dataset.meta,
        "contract_enforced": bool(dataset.contract_enforced),
        "freshness": _json(asdict(dataset.freshness)) if dataset.freshness else None,
        "source_file": dataset.source_file,
        "tests": _json([asdict(t) for t in dataset.tests]) if dataset.tests else "[]",
    }


def _unknown_dataset_values() -> dict[str, Any]:
    return _dataset_values(Dataset(DatasetId("", ""), kind=DatasetKind.UNKNOWN))


_TRANSFORMATIONS_JSON: dict[tuple[Transformation, ...], str] = {}


def _transformations_json(transformations: tuple[Transformation, ...]) -> str:
    """Canonical JSON (sorted, without duplicates); memoized, as a batch repeats a few."""
    found = _TRANSFORMATIONS_JSON.get(transformations)
    if found is None:
        found = _json([t.to_dict() for t in sorted(set(transformations))])
        if len(_TRANSFORMATIONS_JSON) < 4096:
            _TRANSFORMATIONS_JSON[transformations] = found
    return found


_TRANSFORMATIONS_CACHE: dict[str, tuple[Transformation, ...]] = {}


def _transformations_from_json(raw: str) -> tuple[Transformation, ...]:
    found = _TRANSFORMATIONS_CACHE.get(raw)
    if found is None:
        found = tuple(
            Transformation(
                TransformationType(t["type"]),
                TransformationSubtype(t["subtype"]),
                bool(t.get("masking", False)),
            )
            for t in json.loads(raw)
        )
        if len(_TRANSFORMATIONS_CACHE) < 4096:
            _TRANSFORMATIONS_CACHE[raw] = found
    return found


def _insert_ignore(
    conn: Connection, table: Table, rows: list[dict[str, Any]], keys: list[str]
) -> None:
    """Insert rows, skipping those that collide on ``keys`` (a concurrent writer's)."""
    if not rows:
        return
    dialect = conn.dialect.name
    if dialect == "sqlite":
        conn.execute(sqlite_insert(table).on_conflict_do_nothing(index_elements=keys), rows)
    elif dialect == "postgresql":
        conn.execute(pg_insert(table).on_conflict_do_nothing(index_elements=keys), rows)
    else:  # pragma: no cover - other backends: plain insert
        conn.execute(table.insert(), rows)


def _fast_insert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """A bulk insert of plain values (no type processing) straight to the driver.

    For the big tables (edges, columns) of plain integers and strings: it skips
    SQLAlchemy's per-row parameter processing (about half the time of a large insert on
    SQLite) and uses COPY on PostgreSQL.
    """
    if not rows:
        return
    keys = list(rows[0])
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
        # COPY on the same connection (so inside the transaction): ~20x executemany.
        quote = conn.dialect.identifier_preparer.quote
        names = ", ".join(quote(k) for k in keys)
        raw = conn.connection.driver_connection
        assert raw is not None
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY {quote(table.name)} ({names}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row([row[k] for k in keys])
        return
    compiled = table.insert().compile(dialect=conn.dialect, column_keys=keys)
    if compiled.positional and compiled.positiontup is not None:
        order = compiled.positiontup
        conn.exec_driver_sql(str(compiled), [tuple(row[k] for k in order) for row in rows])
    else:
        conn.exec_driver_sql(str(compiled), rows)


def _run_update(
    row: Row[Any], job_name: str, state: str, when: datetime, facets: dict[str, Any]
) -> dict[str, Any]:
    """The new values of a run row after one more event."""
    values: dict[str, Any] = {
        "job_name": row.job_name or job_name,
        "first_event_at": min(row.first_event_at, when),
        "last_event_at": max(row.last_event_at, when),
        "facets": _json({**json.loads(row.facets), **facets}),
    }
    ended = row.state in cs.TERMINAL_RUN_STATES
    if state in cs.TERMINAL_RUN_STATES:
        if row.ended_at is None or when >= row.ended_at:
            values.update(state=state, ended_at=when)
            if state in ("FAIL", "ABORT"):
                message = (facets.get("errorMessage") or {}).get("message")
                if message:
                    values["error"] = str(message)
            elif state == "COMPLETE":
                values["error"] = None
    elif not ended and when >= row.last_event_at:
        values["state"] = state
    if state == "START" and (row.started_at is None or when < row.started_at):
        values["started_at"] = when
    return values


# -- the write path ----------------------------------------------------------------------


@dataclass
class _Plan:
    """A batch normalized: last occurrence wins, edges merged per key and grouped by job."""

    datasets: dict[DatasetId, Dataset]
    jobs: dict[_JobKey, Job]
    job_edges: dict[_JobKey, dict[_EdgeKey, str]]
    loose_edges: dict[_EdgeKey, str]  # edges without a job
    fingerprints: dict[_JobKey, str]

    @classmethod
    def of(cls, batch: LineageBatch) -> _Plan:
        datasets = {d.id: d for d in batch.datasets}
        jobs = {(j.namespace, j.name): j for j in batch.jobs}
        by_name: dict[str, list[_JobKey]] = {}  # edges name jobs by name only
        for job_key in jobs:
            by_name.setdefault(job_key[1], []).append(job_key)
        merged: dict[_JobKey | None, dict[_EdgeKey, tuple[Transformation, ...]]] = {}
        # Plain-string keys: hashing them is much cheaper than hashing DatasetIds.
        for edge in batch.edges:
            owner: _JobKey | None = None
            if edge.job is not None:
                keys = by_name.get(edge.job, ())
                if len(keys) != 1:
                    problem = (
                        "is not in the batch"
                        if not keys
                        else "is ambiguous: " + ", ".join(f"{ns}/{name}" for ns, name in keys)
                    )
                    raise CatalogError(
                        f"column edge {edge.source} -> {edge.target.name}."
                        f"{edge.target_field or '*'} names job {edge.job!r}, which {problem}"
                    )
                owner = keys[0]
            source, target = edge.source.dataset, edge.target
            key = (
                source.namespace,
                source.name,
                edge.source.name,
                target.namespace,
                target.name,
                edge.target_field or "",
            )
            bucket = merged.get(owner)
            if bucket is None:
                bucket = merged[owner] = {}
            before = bucket.get(key)
            bucket[key] = edge.transformations if before is None else before + edge.transformations
        seen: dict[int, str] = {}  # by identity: the batch keeps every tuple alive meanwhile

        def as_text(ts: tuple[Transformation, ...]) -> str:
            found = seen.get(id(ts))
            if found is None:
                found = seen[id(ts)] = _transformations_json(ts)
            return found

        as_json = {
            by: {key: as_text(ts) for key, ts in edges.items()} for by, edges in merged.items()
        }
        job_edges = {job_key: as_json.get(job_key, {}) for job_key in jobs}
        fingerprints = {k: _job_fingerprint(job, job_edges[k]) for k, job in jobs.items()}
        return cls(datasets, jobs, job_edges, as_json.get(None, {}), fingerprints)


def _job_fingerprint(job: Job, edges: dict[_EdgeKey, str]) -> str:
    return _digest(
        {
            "namespace": job.namespace,
            "name": job.name,
            "kind": job.kind,
            "sql": job.sql,
            "source_file": job.source_file,
            "owners": list(job.owners),
            "description": job.description,
            "inputs": [[d.namespace, d.name] for d in job.inputs],
            "outputs": [[d.namespace, d.name] for d in job.outputs],
            "edges": sorted((*key, ts) for key, ts in edges.items()),
        }
    )


def _edge_datasets(edges: Iterable[_EdgeKey]) -> set[DatasetId]:
    pairs = {(k[0], k[1]) for k in edges} | {(k[3], k[4]) for k in edges}
    return {DatasetId(ns, name) for ns, name in pairs}


@dataclass
class _Resolved:
    ids: dict[DatasetId, int]
    rows: dict[DatasetId, Row[Any]]
    added: set[DatasetId] = field(default_factory=set)


def _select_datasets(conn: Connection, wanted: Iterable[DatasetId]) -> dict[DatasetId, Row[Any]]:
    wanted = set(wanted)
    found: dict[DatasetId, Row[Any]] = {}
    for chunk in _chunks(sorted({d.name for d in wanted})):
        for row in conn.execute(select(cs.datasets).where(cs.datasets.c.name.in_(chunk))):
            key = DatasetId(row.namespace, row.name)
            if key in wanted:
                found[key] = row
    return found


def _ensure_datasets(
    conn: Connection,
    wanted: set[DatasetId],
    listed: dict[DatasetId, Dataset],
    now: datetime,
) -> _Resolved:
    """Rows of ``wanted``, inserting the missing ones (listed: full metadata; else unknown)."""
    rows = _select_datasets(conn, wanted)
    missing = sorted(wanted - rows.keys())
    if missing:
        unknown = _unknown_dataset_values()
        new_rows = []
        for dataset_id in missing:
            listed_dataset = listed.get(dataset_id)
            values = _dataset_values(listed_dataset) if listed_dataset else unknown
            new_rows.append(
                {
                    "namespace": dataset_id.namespace,
                    "name": dataset_id.name,
                    **values,
                    "schema_fingerprint": None,
                    "updated_at": now,
                }
            )
        _insert_ignore(conn, cs.datasets, new_rows, ["namespace", "name"])
        rows.update(_select_datasets(conn, missing))
    return _Resolved({key: row.id for key, row in rows.items()}, rows, set(missing))


class _Writer:
    """One ``Catalog.write``: every step inside the caller's transaction."""

    def __init__(self, conn: Connection, plan: _Plan, observer: str, now: datetime) -> None:
        self.conn = conn
        self.plan = plan
        self.observer = observer
        self.now = now
        self.counts: dict[str, int] = {f.name: 0 for f in fields(WriteSummary)}
        self.updated: set[DatasetId] = set()

    def run(self) -> WriteSummary:
        plan = self.plan
        existing = self._existing_jobs()
        new = [key for key in plan.jobs if key not in existing]
        changed = [
            key
            for key in plan.jobs
            if key in existing and existing[key][1] != plan.fingerprints[key]
        ]
        self.counts["jobs_added"] = len(new)
        self.counts["jobs_changed"] = len(changed)
        self.counts["jobs_unchanged"] = len(plan.jobs) - len(new) - len(changed)

        wanted = set(plan.datasets)
        for key in (*new, *changed):
            job = plan.jobs[key]
            wanted.update(job.inputs, job.outputs)
            wanted.update(_edge_datasets(plan.job_edges[key]))
        wanted.update(_edge_datasets(plan.loose_edges))
        resolved = _ensure_datasets(self.conn, wanted, plan.datasets, self.now)
        self.counts["datasets_added"] = len(resolved.added)

        self._update_metadata(resolved)
        self._add_schema_versions(resolved)
        job_ids = self._write_jobs(new, changed, existing)
        self._write_io(job_ids, resolved.ids, [existing[k][0] for k in changed])
        by_pair = {(d.namespace, d.name): pk for d, pk in resolved.ids.items()}
        self._write_job_edges(job_ids, by_pair, [existing[k][0] for k in changed])
        self._write_loose_edges(by_pair)
        self.counts["datasets_updated"] = len(self.updated - resolved.added)
        return WriteSummary(**self.counts)

    def _existing_jobs(self) -> dict[_JobKey, tuple[int, str]]:
        t = cs.jobs
        found: dict[_JobKey, tuple[int, str]] = {}
        names = sorted({name for _, name in self.plan.jobs})
        for chunk in _chunks(names):
            query = select(t.c.id, t.c.namespace, t.c.name, t.c.fingerprint).where(
                t.c.name.in_(chunk)
            )
            for row in self.conn.execute(query):
                key = (row.namespace, row.name)
                if key in self.plan.jobs:
                    found[key] = (row.id, row.fingerprint)
        return found

    def _update_metadata(self, resolved: _Resolved) -> None:
        updates = []
        for dataset_id, dataset in self.plan.datasets.items():
            if dataset_id in resolved.added:
                continue
            row = resolved.rows[dataset_id]
            values = _dataset_values(dataset)
            if row.source_file and row.source_file != dataset.source_file:
                # Another file (a SQL script touching a dbt model's table) adds what it knows
                # but never erases what the file that defines the dataset wrote.
                values = {
                    name: value
                    for name, value in values.items()
                    if value not in (None, "", "[]", "{}", False)
                    and name != "source_file"
                    and (name != "kind" or row.kind == DatasetKind.UNKNOWN.value)
                }
            if any(getattr(row, name) != value for name, value in values.items()):
                updates.append({"b_id": row.id, **values, "updated_at": self.now})
                self.updated.add(dataset_id)
        if updates:
            t = cs.datasets
            self.conn.execute(update(t).where(t.c.id == bindparam("b_id")), updates)

    def _add_schema_versions(self, resolved: _Resolved) -> None:
        observed = {
            resolved.ids[d]: (d, dataset.schema)
            for d, dataset in self.plan.datasets.items()
            if dataset.schema is not None
        }
        if not observed:
            return
        sv = cs.schema_versions
        latest: dict[int, tuple[int, str]] = {}
        for chunk in _chunks(sorted(observed)):
            query = select(sv.c.dataset_id, sv.c.version, sv.c.fingerprint).where(
                sv.c.observed_by == self.observer, sv.c.dataset_id.in_(chunk)
            )
            for row in self.conn.execute(query):
                if row.version > latest.get(row.dataset_id, (0, ""))[0]:
                    latest[row.dataset_id] = (row.version, row.fingerprint)
        versions: list[dict[str, Any]] = []
        column_rows: list[dict[str, Any]] = []
        current: list[dict[str, Any]] = []
        for dataset_pk, (dataset_id, schema) in observed.items():
            fingerprint = _fields_fingerprint(schema)
            version, previous = latest.get(dataset_pk, (0, None))
            if previous == fingerprint:
                continue
            versions.append(
                {
                    "dataset_id": dataset_pk,
                    "version": version + 1,
                    "fields": _json(_fields_doc(schema)),
                    "fingerprint": fingerprint,
                    "observed_by": self.observer,
                    "observed_at": self.now,
                }
            )
            if resolved.rows[dataset_id].schema_fingerprint != fingerprint:
                current.append({"b_id": dataset_pk, "schema_fingerprint": fingerprint})
                column_rows.extend(
                    {
                        "dataset_id": dataset_pk,
                        "ordinal": i,
                        "name": f.name,
                        "type": f.type,
                        "description": f.description,
                    }
                    for i, f in enumerate(schema.fields)
                )
            self.updated.add(dataset_id)
        if not versions:
            return
        self.conn.execute(sv.insert(), versions)
        self.counts["schema_versions_added"] = len(versions)
        if current:
            ids = [row["b_id"] for row in current]
            for chunk in _chunks(ids):
                self.conn.execute(cs.columns.delete().where(cs.columns.c.dataset_id.in_(chunk)))
            _fast_insert(self.conn, cs.columns, column_rows)
            t = cs.datasets
            self.conn.execute(update(t).where(t.c.id == bindparam("b_id")), current)

    def _job_values(self, key: _JobKey) -> dict[str, Any]:
        job = self.plan.jobs[key]
        return {
            "kind": job.kind,
            "sql": job.sql,
            "source_file": job.source_file,
            "owners": _json(list(job.owners)),
            "description": job.description,
            "fingerprint": self.plan.fingerprints[key],
            "updated_at": self.now,
        }

    def _write_jobs(
        self, new: list[_JobKey], changed: list[_JobKey], existing: dict[_JobKey, tuple[int, str]]
    ) -> dict[_JobKey, int]:
        t = cs.jobs
        ids = {key: existing[key][0] for key in changed}
        if new:
            self.conn.execute(
                t.insert(),
                [
                    {"namespace": ns, "name": name, **self._job_values((ns, name))}
                    for ns, name in new
                ],
            )
            wanted = set(new)
            for chunk in _chunks(sorted({name for _, name in new})):
                query = select(t.c.id, t.c.namespace, t.c.name).where(t.c.name.in_(chunk))
                for row in self.conn.execute(query):
                    if (row.namespace, row.name) in wanted:
                        ids[(row.namespace, row.name)] = row.id
        if changed:
            self.conn.execute(
                update(t).where(t.c.id == bindparam("b_id")),
                [{"b_id": ids[key], **self._job_values(key)} for key in changed],
            )
        return ids

    def _write_io(
        self, job_ids: dict[_JobKey, int], dataset_ids: dict[DatasetId, int], changed: list[int]
    ) -> None:
        for chunk in _chunks(changed):
            self.conn.execute(cs.job_io.delete().where(cs.job_io.c.job_id.in_(chunk)))
        rows: list[dict[str, Any]] = []
        for key, job_id in job_ids.items():
            job = self.plan.jobs[key]
            for direction, datasets in (("input", job.inputs), ("output", job.outputs)):
                rows.extend(
                    {
                        "job_id": job_id,
                        "direction": direction,
                        "ordinal": i,
                        "dataset_id": dataset_ids[d],
                    }
                    for i, d in enumerate(datasets)
                )
        if rows:
            self.conn.execute(cs.job_io.insert(), rows)

    def _write_job_edges(
        self, job_ids: dict[_JobKey, int], ids: dict[tuple[str, str], int], changed: list[int]
    ) -> None:
        e = cs.column_edges
        wanted: dict[_EdgeRow, str] = {}
        for key, job_id in job_ids.items():
            for (sns, sname, sf, tns, tname, tf), ts in self.plan.job_edges[key].items():
                wanted[(job_id, ids[sns, sname], sf, ids[tns, tname], tf)] = ts
        stale: list[int] = []
        for chunk in _chunks(changed):
            query = select(
                e.c.id,
                e.c.job_id,
                e.c.source_dataset_id,
                e.c.source_field,
                e.c.target_dataset_id,
                e.c.target_field,
                e.c.transformations,
            ).where(e.c.job_id.in_(chunk))
            for row in self.conn.execute(query):
                edge_key = (
                    row.job_id,
                    row.source_dataset_id,
                    row.source_field,
                    row.target_dataset_id,
                    row.target_field,
                )
                if wanted.get(edge_key) == row.transformations:
                    del wanted[edge_key]  # already stored as is
                else:
                    stale.append(row.id)
        for chunk in _chunks(stale):
            self.conn.execute(e.delete().where(e.c.id.in_(chunk)))
        self._insert_edges(wanted)
        self.counts["edges_removed"] += len(stale)

    def _write_loose_edges(self, ids: dict[tuple[str, str], int]) -> None:
        if not self.plan.loose_edges:
            return
        e = cs.column_edges
        wanted: dict[_EdgeRow, str] = {
            (None, ids[sns, sname], sf, ids[tns, tname], tf): ts
            for (sns, sname, sf, tns, tname, tf), ts in self.plan.loose_edges.items()
        }
        stale: list[int] = []
        targets = sorted({key[3] for key in wanted})
        for chunk in _chunks(targets):
            query = select(
                e.c.id,
                e.c.source_dataset_id,
                e.c.source_field,
                e.c.target_dataset_id,
                e.c.target_field,
                e.c.transformations,
            ).where(e.c.job_id.is_(None), e.c.target_dataset_id.in_(chunk))
            for row in self.conn.execute(query):
                edge_key = (
                    None,
                    row.source_dataset_id,
                    row.source_field,
                    row.target_dataset_id,
                    row.target_field,
                )
                if edge_key not in wanted:
                    continue  # another observation's edge: kept
                if wanted[edge_key] == row.transformations:
                    del wanted[edge_key]
                else:
                    stale.append(row.id)
        for chunk in _chunks(stale):
            self.conn.execute(e.delete().where(e.c.id.in_(chunk)))
        self._insert_edges(wanted)
        self.counts["edges_removed"] += len(stale)

    def _insert_edges(self, edges: dict[_EdgeRow, str]) -> None:
        if not edges:
            return
        _fast_insert(
            self.conn,
            cs.column_edges,
            [
                {
                    "job_id": job_id,
                    "source_dataset_id": s,
                    "source_field": sf,
                    "target_dataset_id": t,
                    "target_field": tf,
                    "transformations": ts,
                }
                for (job_id, s, sf, t, tf), ts in edges.items()
            ],
        )
        self.counts["edges_added"] += len(edges)


# -- the read path -----------------------------------------------------------------------


def _build_datasets(
    conn: Connection, rows: Sequence[Row[Any]], *, all_columns: bool = False
) -> list[Dataset]:
    """Datasets from their rows plus their ``columns`` (sorted by id)."""
    by_dataset: dict[int, list[Field]] = {}
    c = cs.columns
    base = select(c.c.dataset_id, c.c.name, c.c.type, c.c.description).order_by(
        c.c.dataset_id, c.c.ordinal
    )
    with_schema = [row.id for row in rows if row.schema_fingerprint is not None]
    queries = (
        [base]
        if all_columns
        else [base.where(c.c.dataset_id.in_(chunk)) for chunk in _chunks(with_schema)]
    )
    for query in queries:
        for dataset_pk, name, type_, description in conn.execute(query):
            found = by_dataset.get(dataset_pk)
            if found is None:
                found = by_dataset[dataset_pk] = []
            found.append(Field(name, type_, description))
    out = [_dataset_from_row(row, by_dataset.get(row.id, [])) for row in rows]
    return sorted(out, key=lambda d: (d.id.namespace, d.id.name))


def _dataset_from_row(row: Row[Any], schema_fields: list[Field]) -> Dataset:
    try:
        kind = DatasetKind(row.kind)
    except ValueError:
        kind = DatasetKind.UNKNOWN
    freshness = json.loads(row.freshness) if row.freshness else None
    return Dataset(
        id=DatasetId(row.namespace, row.name),
        kind=kind,
        schema=Schema(tuple(schema_fields)) if row.schema_fingerprint is not None else None,
        description=row.description,
        owners=tuple(json.loads(row.owners)),
        tags=tuple(json.loads(row.tags)),
        meta=row.meta,
        tests=tuple(DataTest(**t) for t in json.loads(row.tests)),
        contract_enforced=bool(row.contract_enforced),
        freshness=Freshness(**freshness) if freshness is not None else None,
        source_file=row.source_file,
    )


def _dataset_names(conn: Connection) -> dict[int, DatasetId]:
    d = cs.datasets
    return {
        pk: DatasetId(namespace, name)
        for pk, namespace, name in conn.execute(select(d.c.id, d.c.namespace, d.c.name))
    }


def _build_jobs(conn: Connection, rows: Sequence[Row[Any]], *, all_io: bool = False) -> list[Job]:
    io = cs.job_io
    names = _dataset_names(conn) if rows else {}
    queries = (
        [select(io)]
        if all_io
        else [select(io).where(io.c.job_id.in_(chunk)) for chunk in _chunks([r.id for r in rows])]
    )
    links: dict[tuple[int, str], list[tuple[int, DatasetId]]] = {}
    for query in queries:
        for link in conn.execute(query):
            links.setdefault((link.job_id, link.direction), []).append(
                (link.ordinal, names[link.dataset_id])
            )

    def ordered(job_id: int, direction: str) -> tuple[DatasetId, ...]:
        return tuple(d for _, d in sorted(links.get((job_id, direction), [])))

    jobs = [
        Job(
            namespace=row.namespace,
            name=row.name,
            kind=row.kind,
            sql=row.sql,
            source_file=row.source_file,
            owners=tuple(json.loads(row.owners)),
            description=row.description,
            inputs=ordered(row.id, "input"),
            outputs=ordered(row.id, "output"),
        )
        for row in rows
    ]
    return sorted(jobs, key=lambda j: (j.namespace, j.name))


def _read_edges(conn: Connection, job_name: str | None = None) -> list[ColumnEdge]:
    e, j = cs.column_edges, cs.jobs
    query = select(
        e.c.source_dataset_id,
        e.c.source_field,
        e.c.target_dataset_id,
        e.c.target_field,
        e.c.transformations,
        j.c.name.label("job_name"),
    ).select_from(e.outerjoin(j, j.c.id == e.c.job_id))
    if job_name is not None:
        query = query.where(j.c.name == job_name)
    rows = conn.execute(query).all()
    if not rows:
        return []
    names = _dataset_names(conn)
    # Sorted on plain strings (comparing dataclasses is slow): source, target, job.
    decorated: list[tuple[tuple[str, ...], ColumnEdge]] = []
    for source_pk, source_field, target_pk, target_field, transformations, job in rows:
        source, target = names[source_pk], names[target_pk]
        key = (
            source.namespace,
            source.name,
            source_field,
            target.namespace,
            target.name,
            target_field,
            job or "",
            transformations,
        )
        decorated.append(
            (
                key,
                ColumnEdge(
                    ColumnId(source, source_field),
                    target,
                    target_field or None,
                    _transformations_from_json(transformations),
                    job,
                ),
            )
        )
    decorated.sort(key=itemgetter(0))
    return [edge for _, edge in decorated]
