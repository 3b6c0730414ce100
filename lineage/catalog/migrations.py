"""The catalog's schema version, the steps that bring older catalogs to it, and the
runner that creates, checks and migrates a catalog when it is opened.

Versions:

1. datasets, schema versions, columns, jobs, job IO, column edges, runs, metrics, checks;
2. ``push_state``: what was last sent to each DataHub target;
3. ``sync_state``: the fingerprints of project scans move there from ``push_state``,
   where they were kept as a fake ``("project", "batch")`` aspect of a ``scan:...`` target;
4. unique keys on metric points and check results (dataset, name or check, column, run,
   time; NULL column and run coalesced to ``''``), duplicates removed first;
5. live schemas: ``schema_versions.facts`` and its time index, ``datasets.schema_source``,
   the ``dataset_layouts`` and ``profiles`` tables;
6. ``drift_findings``: schema drift findings, open, resolved or acknowledged;
7. ``runs.job_namespace`` and an index on ``check_results.run_id``.

A later change adds a step to ``MIGRATIONS`` (from version N to N+1) and raises
``CURRENT_VERSION``; opening an older catalog applies the missing steps in order, in one
transaction. A step is history: it spells out the values it writes rather than borrowing
constants that may change later.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, Engine, inspect, select, text

from lineage.catalog import tables as cs
from lineage.catalog.sql import WRITE_OPTION
from lineage.errors import CatalogError

__all__ = ["CURRENT_VERSION", "MIGRATIONS", "prepare"]

#: The schema version of the tables in ``lineage.catalog.tables``.
CURRENT_VERSION = 7

#: Migration steps: ``MIGRATIONS[n]`` upgrades a catalog from version n to n + 1. Each step
#: runs inside the opening transaction; the version row is updated after it.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {}

_PG_LOCK_KEY = 0x5117E4  # advisory lock serializing creation/migration on PostgreSQL


def _add_push_state(conn: Connection) -> None:
    """Version 1 -> 2: the push_state table (already there if created at version 2)."""
    cs.push_state.create(conn, checkfirst=True)


def _move_scan_fingerprints(conn: Connection) -> None:
    """Version 2 -> 3: the sync_state table, holding the project scans' fingerprints.

    Version 2 kept each as push state of target ``scan:<kind>:<path>``, URN ``project``,
    aspect ``batch``; it becomes sync state ``("project_scan", "<kind>:<path>")``.
    """
    cs.sync_state.create(conn, checkfirst=True)
    p = cs.push_state
    is_scan = (p.c.target.startswith("scan:"), p.c.urn == "project", p.c.aspect == "batch")
    found = conn.execute(select(p.c.target, p.c.hash, p.c.pushed_at).where(*is_scan)).all()
    rows = [
        {
            "kind": "project_scan",
            "target": target.removeprefix("scan:"),
            "state": fingerprint,
            "updated_at": pushed_at,
        }
        for target, fingerprint, pushed_at in found
    ]
    if rows:
        conn.execute(cs.sync_state.insert(), rows)
        conn.execute(p.delete().where(*is_scan))


# Version 4's keys, spelled out (history: not taken from ``tables``, which may change).
_POINT_KEYS = {
    "metrics": ("uq_metrics_point", "dataset_id, name"),
    "check_results": ("uq_check_results_point", "dataset_id, check_name"),
}


def _add_point_keys(conn: Connection) -> None:
    """Version 3 -> 4: one metric point / check result per natural key.

    Concurrent ingests stored some points more than once (each checked, then inserted):
    the oldest row (lowest id) of each key is kept, the others deleted, then the unique
    index is created (already there if the catalog was created at version 4).
    """
    for table, (index, leading) in _POINT_KEYS.items():
        key = f"{leading}, coalesce(column_name, ''), coalesce(run_id, ''), observed_at"
        conn.execute(
            text(
                f"DELETE FROM {table} WHERE id NOT IN (SELECT min(id) FROM {table} GROUP BY {key})"
            )
        )
        conn.execute(text(f"CREATE UNIQUE INDEX IF NOT EXISTS {index} ON {table} ({key})"))


def _add_live_schemas(conn: Connection) -> None:
    """Version 4 -> 5: what introspection and profiling record beside documented schemas
    (each part skipped where it is there already)."""
    for table, column in (("schema_versions", "facts"), ("datasets", "schema_source")):
        if column not in {c["name"] for c in inspect(conn).get_columns(table)}:
            conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} TEXT"))
    conn.execute(
        text(
            "CREATE INDEX IF NOT EXISTS ix_schema_versions_dataset_time "
            "ON schema_versions (dataset_id, observed_at)"
        )
    )
    cs.dataset_layouts.create(conn, checkfirst=True)
    cs.profiles.create(conn, checkfirst=True)


def _add_drift_findings(conn: Connection) -> None:
    """Version 5 -> 6: the drift_findings table (already there if created at version 6)."""
    cs.drift_findings.create(conn, checkfirst=True)


def _add_run_namespaces(conn: Connection) -> None:
    """Version 6 -> 7: the namespace of each run's job (unknown, NULL, for the runs
    recorded before), and the check results of one run found by index."""
    if "job_namespace" not in {c["name"] for c in inspect(conn).get_columns("runs")}:
        conn.execute(text("ALTER TABLE runs ADD COLUMN job_namespace TEXT"))
    conn.execute(text("CREATE INDEX IF NOT EXISTS ix_check_results_run ON check_results (run_id)"))


MIGRATIONS[1] = _add_push_state
MIGRATIONS[2] = _move_scan_fingerprints
MIGRATIONS[3] = _add_point_keys
MIGRATIONS[4] = _add_live_schemas
MIGRATIONS[5] = _add_drift_findings
MIGRATIONS[6] = _add_run_namespaces


def prepare(engine: Engine, url: str, reason: Callable[[BaseException], str]) -> None:
    """Create the tables on an empty database, migrate an older catalog, refuse others.

    ``url`` (password masked) goes into error messages, ``reason`` words a failure.

    Raises:
        CatalogError: the catalog is newer than this code, damaged, not a catalog, or a
            migration step is missing or fails (nothing is changed then).
    """
    with engine.connect() as conn, conn.begin():
        if _check_version(conn, url) == CURRENT_VERSION:
            return  # the common case: a read-only look, no write lock taken
    with engine.connect() as conn:
        conn.execution_options(**{WRITE_OPTION: True})
        with conn.begin():
            if conn.dialect.name == "postgresql":  # concurrent openers wait here
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
            found = _check_version(conn, url)
            if found is None:
                cs.metadata.create_all(conn)
                conn.execute(cs.catalog_version.insert(), {"id": 1, "version": CURRENT_VERSION})
                return
            _migrate(conn, found, url, reason)


def _migrate(
    conn: Connection, found: int, url: str, reason: Callable[[BaseException], str]
) -> None:
    for version in range(found, CURRENT_VERSION):
        step = MIGRATIONS.get(version)
        if step is None:
            raise CatalogError(
                f"no migration from catalog schema version {version} to "
                f"{version + 1} (this Silverline is at {CURRENT_VERSION})",
                obj=url,
            )
        try:
            step(conn)
        except Exception as exc:  # rolled back with the whole opening transaction
            raise CatalogError(
                f"migrating the catalog from schema version {version} to "
                f"{version + 1} failed: {reason(exc)}",
                obj=url,
            ) from exc
        conn.execute(cs.catalog_version.update().values(version=version + 1))


def _check_version(conn: Connection, url: str) -> int | None:
    """The catalog's schema version, None for an empty database; raises for others."""
    tables = set(inspect(conn).get_table_names())
    if cs.catalog_version.name not in tables:
        if tables:
            shown = ", ".join(sorted(tables)[:8])
            raise CatalogError(
                f"the database holds other tables ({shown}) but no catalog_version "
                "table: not a Silverline catalog (use an empty database)",
                obj=url,
            )
        return None
    found = conn.execute(select(cs.catalog_version.c.version)).scalar()
    if found is None:
        raise CatalogError("the catalog_version table is empty: the catalog is damaged", obj=url)
    if found > CURRENT_VERSION:
        raise CatalogError(
            f"the catalog is at schema version {found}, newer than this Silverline "
            f"(schema version {CURRENT_VERSION}): upgrade Silverline to use it",
            obj=url,
        )
    return int(found)
