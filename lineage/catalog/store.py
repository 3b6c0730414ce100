"""The catalog store: datasets, schema versions, jobs, column edges, runs, metrics, checks.

SQLAlchemy Core on any URL; SQLite (``.lineage/catalog.db``, the default) and PostgreSQL
(``postgresql+psycopg://...``) are first-class. ``Catalog`` is the entry point: it opens
the database and runs each call in one transaction; the work is done by ``tables``,
``migrations``, ``write`` (the write plan), ``read`` (the read path), ``runs`` (runs,
metrics, checks) and ``sync`` (sync state per target), all in ``lineage.catalog``.

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

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, SQLAlchemyError

from lineage.catalog import drift, live, read, sync
from lineage.catalog import runs as history
from lineage.catalog.drift import DriftRecordable, DriftRecordSummary, StoredDrift
from lineage.catalog.migrations import CURRENT_VERSION, MIGRATIONS, prepare
from lineage.catalog.read import RecordedTimes, SchemaVersion
from lineage.catalog.slices import LineageSlice, read_slice
from lineage.catalog.sql import WRITE_OPTION, make_sqlite_folder, sqlite_engine, utc
from lineage.catalog.write import WritePlan, WriteSummary, write_plan
from lineage.errors import CatalogError
from lineage.model import (
    ColumnEdge,
    ColumnId,
    Dataset,
    DatasetId,
    DatasetProfile,
    Job,
    LineageBatch,
    Observation,
    redact_url,
)
from lineage.views import (
    CheckResult,
    CheckStatus,
    LayoutView,
    MetricPoint,
    ObservedSchema,
    RunRecord,
    RunState,
)

__all__ = [
    "CATALOG_URL_ENV",
    "CURRENT_VERSION",
    "DEFAULT_CATALOG_URL",
    "MIGRATIONS",
    "PROJECT_SCAN",
    "Catalog",
    "DriftRecordSummary",
    "SchemaVersion",
    "StoredDrift",
    "WriteSummary",
    "mask_url",
]

#: The default store, relative to the current directory.
DEFAULT_CATALOG_URL = "sqlite:///.lineage/catalog.db"
#: The environment variable that names the catalog when no URL is given.
CATALOG_URL_ENV = "LINEAGE_CATALOG_URL"
#: The sync-state kind of project scans (``Catalog.sync_state``).
PROJECT_SCAN = sync.PROJECT_SCAN

_WRITE_ATTEMPTS = 3  # a concurrent writer inserting the same new rows: retry the batch


def mask_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` (for messages, logs and reports).

    ``lineage.model``'s redaction rules: also a password holding ``/`` or ``@`` and secret query
    parameters (``?password=...``), which SQLAlchemy's own rendering keeps.
    """
    return redact_url(url)


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
                make_sqlite_folder(url)
                engine = sqlite_engine(url)
            else:
                engine = create_engine(url, pool_pre_ping=True)
            prepare(engine, self.masked_url, self._reason)
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
                    conn.execution_options(**{WRITE_OPTION: True})
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
        plan = WritePlan.of(batch)
        when = _when(observed_at)
        for attempt in range(1, _WRITE_ATTEMPTS + 1):
            try:
                with self._transaction("write to the catalog", write=True) as conn:
                    return write_plan(conn, plan, batch.observed_by, when)
            except CatalogError as exc:
                if attempt == _WRITE_ATTEMPTS or not isinstance(exc.__cause__, IntegrityError):
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    # -- reading lineage -----------------------------------------------------------------

    def datasets(self) -> list[Dataset]:
        """Every dataset in its current state, sorted by (namespace, name)."""
        with self._transaction("read datasets") as conn:
            return read.read_datasets(conn)

    def dataset(self, dataset: DatasetId) -> Dataset | None:
        """One dataset in its current state, or None if the catalog does not know it."""
        with self._transaction("read a dataset") as conn:
            return read.read_dataset(conn, dataset)

    def find_datasets(self, name: str) -> list[Dataset]:
        """Datasets named ``name`` exactly, else those whose name ends with ``"." + name``.

        Case-insensitive: ``erp_customers`` finds ``dev.silver.erp_customers``.
        """
        with self._transaction("find datasets") as conn:
            return read.find_datasets(conn, name)

    def last_changed_at(self) -> datetime | None:
        """When the catalog last learnt anything; None for an empty catalog."""
        with self._transaction("read the last change") as conn:
            return read.last_changed_at(conn)

    def find_columns(self, name: str) -> list[ColumnId]:
        """Columns named ``name`` in any dataset (exactly, else case-insensitively)."""
        with self._transaction("find columns") as conn:
            return read.find_columns(conn, name)

    def schema_history(
        self, dataset: DatasetId, *, observed_by: str | None = None
    ) -> list[SchemaVersion]:
        """The schema versions of a dataset, oldest first (optionally of one observer)."""
        with self._transaction("read schema history") as conn:
            return read.schema_history(conn, dataset, observed_by)

    def schema_observers(self) -> dict[DatasetId, set[str]]:
        """Who recorded schema versions of each dataset (``observed_by``: a parser, a
        contract, ``warehouse:<url>``, ...), for every dataset with a version."""
        with self._transaction("read schema observers") as conn:
            return read.schema_observers(conn)

    def jobs(self) -> list[Job]:
        """Every job, sorted by (namespace, name)."""
        with self._transaction("read jobs") as conn:
            return read.read_jobs(conn)

    def job(self, namespace: str, name: str) -> Job | None:
        """One job, or None."""
        with self._transaction("read a job") as conn:
            return read.read_job(conn, namespace, name)

    def column_edges(self) -> list[ColumnEdge]:
        """Every column edge, sorted."""
        with self._transaction("read column edges") as conn:
            return read.read_edges(conn)

    def lineage_slice(
        self,
        roots: Sequence[DatasetId],
        *,
        upstream: bool,
        downstream: bool,
        depth: int | None = None,
        upstream_depth: int | None = None,
    ) -> LineageSlice:
        """The datasets, jobs and edges that walks from ``roots`` can reach (see
        ``lineage.catalog.slices``): ``LineageGraph.build`` over them answers as the whole
        catalog's graph would, for those walks."""
        with self._transaction("read a lineage slice") as conn:
            return read_slice(conn, roots, upstream=upstream, downstream=downstream,
                              depth=depth, upstream_depth=upstream_depth)  # fmt: skip

    def change_marker(self) -> str:
        """A text that changes whenever anything in the catalog does (see
        ``lineage.catalog.read.change_marker``): equal markers, nothing changed between."""
        with self._transaction("read the change marker") as conn:
            return read.change_marker(conn)

    def recorded_times(self) -> RecordedTimes:
        """When each dataset, job and current schema version was recorded (audit stamps)."""
        with self._transaction("read when datasets and jobs were recorded") as conn:
            return read.recorded_times(conn)

    def edges_of_job(self, job_name: str) -> list[ColumnEdge]:
        """The column edges of the job(s) named ``job_name``, sorted."""
        with self._transaction("read column edges") as conn:
            return read.read_edges(conn, job_name)

    # -- runs, metrics, check results ----------------------------------------------------

    def record_run(
        self,
        run_id: str,
        job_name: str,
        state: RunState | str,
        event_time: datetime,
        facets: dict[str, Any] | None = None,
        job_namespace: str | None = None,
    ) -> None:
        """Record one OpenLineage run event; events of the same ``run_id`` update one run.

        ``job_namespace`` is the namespace of the job the event names: the first one a
        run's events give is kept.

        START sets ``started_at``; COMPLETE, FAIL and ABORT set ``ended_at`` and the final
        state (a late START never reopens an ended run). Facets are merged; the
        ``errorMessage`` facet's message of a FAIL/ABORT becomes ``error``.

        Raises:
            CatalogError: ``state`` is not an OpenLineage run state, or the database fails.
        """
        parsed = history.run_state(state, run_id)
        with self._transaction("record a run", write=True) as conn:
            history.record_run(conn, run_id, job_name, parsed, utc(event_time), facets or {},
                               job_namespace)  # fmt: skip

    def runs(
        self,
        job_name: str | None = None,
        limit: int = 100,
        *,
        since: datetime | None = None,
        states: Sequence[RunState] = (),
    ) -> list[RunRecord]:
        """Runs, newest first (of one job, from ``since`` on, in one of ``states``, when
        given), at most ``limit``."""
        with self._transaction("read runs") as conn:
            return history.read_runs(
                conn, job_name, limit, None if since is None else utc(since), states
            )

    def run_outcomes(self, runs: Sequence[RunRecord]) -> dict[str, tuple[float | None, list[str]]]:
        """Per run id: the rows the run wrote (None if never reported) and its failing
        checks (failed or errored)."""
        with self._transaction("read run outcomes") as conn:
            return history.run_outcomes(conn, runs)

    def record_metric(
        self,
        dataset: DatasetId,
        name: str,
        value: float,
        observed_at: datetime,
        run_id: str | None = None,
        column: str | None = None,
    ) -> bool:
        """Record one measurement (row count, null fraction, ...) of a dataset or column.

        An unknown dataset is added (kind unknown). The same point (dataset, name, column,
        run, time) is stored once: recording it again returns False and changes nothing.

        Raises:
            CatalogError: ``value`` is not a finite number, or the database fails.
        """
        number = history.metric_value(value, name, dataset)
        point = MetricPoint(dataset, name, number, utc(observed_at), column, run_id)
        with self._transaction("record a metric", write=True) as conn:
            return history.record_metric(conn, point)

    def metrics(
        self, dataset: DatasetId | None, name: str | None = None, since: datetime | None = None
    ) -> list[MetricPoint]:
        """Measurements of a dataset (of every dataset when None), oldest first (only
        ``name``, only from ``since`` on, when given)."""
        with self._transaction("read metrics") as conn:
            return history.read_metrics(conn, dataset, name, since)

    def record_check_result(
        self,
        dataset: DatasetId,
        check: str,
        status: CheckStatus | str,
        observed_at: datetime,
        column: str | None = None,
        run_id: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> bool:
        """Record the outcome of one quality check.

        ``status`` is a ``CheckStatus`` or the tool's own word for it (``pass``, ``warn``,
        ``fail``, ``error``, ...), kept as written and read back through
        ``CheckStatus.parse``. An unknown dataset is added (kind unknown). A result of the
        same check, column, run and time is stored once: False when it was already there.
        """
        text = status.value if isinstance(status, CheckStatus) else status
        with self._transaction("record a check result", write=True) as conn:
            return history.record_check_result(
                conn, dataset, check, text, utc(observed_at), column, run_id, details or {}
            )

    def check_results(
        self, dataset: DatasetId | None = None, *, run_id: str | None = None
    ) -> list[CheckResult]:
        """Check results, oldest first (of one dataset, of one run, when given)."""
        with self._transaction("read check results") as conn:
            return history.read_check_results(conn, dataset, run_id)

    # -- live schemas: introspections, file layouts, profiles -----------------------------

    def record_observation(
        self, observation: Observation, *, observed_by: str, observed_at: datetime | None = None
    ) -> live.ObservationSummary:
        """Record what an introspection found, in one transaction.

        ``observed_by`` names the observer (``"warehouse:<url>"``, ``"files:<root>"``);
        versions are numbered per observer. An unchanged table adds no schema version, an
        unchanged layout no metric point; a documented schema is never replaced.
        """
        with self._transaction("record an observation", write=True) as conn:
            return live.record_observation(conn, observation, observed_by, _when(observed_at))

    def live_schema(self, dataset: DatasetId) -> ObservedSchema | None:
        """The newest live schema of ``dataset`` (any observer), or None."""
        with self._transaction("read a live schema") as conn:
            return live.live_schema(conn, dataset)

    def live_schemas(self) -> dict[DatasetId, ObservedSchema]:
        """The newest live schema of every dataset that was ever introspected."""
        with self._transaction("read live schemas") as conn:
            return live.live_schemas(conn)

    def layout(self, dataset: DatasetId) -> LayoutView | None:
        """The last observed file layout of a bronze dataset, or None."""
        with self._transaction("read a file layout") as conn:
            return live.read_layout(conn, dataset)

    def layouts(self) -> dict[DatasetId, LayoutView]:
        """The last observed file layout of every dataset that has one."""
        with self._transaction("read file layouts") as conn:
            return live.read_layouts(conn)

    def record_profile(self, profile: DatasetProfile) -> bool:
        """Record a profile (its figures become metric points); False if already there."""
        profile = replace(profile, observed_at=utc(profile.observed_at))
        with self._transaction("record a profile", write=True) as conn:
            return live.record_profile(conn, profile)

    def latest_profile(self, dataset: DatasetId) -> DatasetProfile | None:
        """The newest profile of ``dataset``, or None."""
        with self._transaction("read a profile") as conn:
            return live.latest_profile(conn, dataset)

    def latest_profiles(self) -> dict[DatasetId, DatasetProfile]:
        """The newest profile of every profiled dataset."""
        with self._transaction("read profiles") as conn:
            return live.latest_profiles(conn)

    # -- schema drift findings ---------------------------------------------------------

    def record_drift(
        self,
        findings: Sequence[DriftRecordable],
        *,
        baseline: str,
        observed_by: str,
        run_id: str | None = None,
        observed_at: datetime | None = None,
    ) -> DriftRecordSummary:
        """Record the findings of one comparison (``baseline`` against ``observed_by``).

        Findings still observed are updated (last seen, grade, message, impact), new ones
        added, open ones of the same comparison it no longer reports marked resolved.
        An acknowledged finding stays acknowledged. Unknown datasets are added.

        Raises:
            CatalogError: the database fails.
        """
        with self._transaction("record drift findings", write=True) as conn:
            return drift.record_drift(conn, findings, baseline=baseline,
                                      observed_by=observed_by, run_id=run_id,
                                      now=_when(observed_at))  # fmt: skip

    def drift_findings(
        self, open_only: bool = True, dataset: DatasetId | None = None
    ) -> list[StoredDrift]:
        """Drift findings, newest first: by default the open ones (neither resolved nor
        acknowledged); of one dataset when given."""
        with self._transaction("read drift findings") as conn:
            return drift.read_drift(conn, open_only=open_only, dataset=dataset)

    def acknowledge_drift(
        self, finding_id: int, *, by: str | None = None, at: datetime | None = None
    ) -> bool:
        """Acknowledge one finding (it leaves the open list); False for an unknown id."""
        with self._transaction("acknowledge a drift finding", write=True) as conn:
            return drift.acknowledge_drift(conn, finding_id, by, _when(at))

    # -- sync state (what each target last received) -------------------------------------

    def push_state_size(self, target: str) -> int:
        """How many aspect hashes ``push_state(target)`` holds, without reading them."""
        with self._transaction("count the push state") as conn:
            return sync.count_push_state(conn, target)

    def push_state(self, target: str) -> dict[tuple[str, str], str]:
        """The hash of every ``(urn, aspect)`` last sent to ``target`` (``"lite:/path"``,
        ``"rest:http://gms:8080"``, ...); empty for a target never pushed to."""
        with self._transaction("read the push state") as conn:
            return sync.read_push_state(conn, target)

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
        with self._transaction("record a push", write=True) as conn:
            sync.record_push(conn, target, hashes, _when(pushed_at))

    def sync_state(self, kind: str, target: str) -> str | None:
        """The state last recorded for ``(kind, target)`` (e.g. ``PROJECT_SCAN`` and
        ``"dbt:/abs/project"``: the fingerprint of the scan the catalog holds), or None."""
        with self._transaction("read the sync state") as conn:
            return sync.read_sync_state(conn, kind, target)

    def record_sync_state(
        self, kind: str, target: str, state: str, *, updated_at: datetime | None = None
    ) -> None:
        """Record ``state`` as the last state of ``(kind, target)``, replacing the previous.

        Raises:
            CatalogError: the database fails.
        """
        with self._transaction("record the sync state", write=True) as conn:
            sync.record_sync_state(conn, kind, target, state, _when(updated_at))


def _when(moment: datetime | None) -> datetime:
    """``moment`` in UTC; None means now."""
    return utc(moment) if moment is not None else datetime.now(timezone.utc)
