"""The generic Inspector fallback agrees with the bulk backends on real databases."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlalchemy as sa

from connectors.warehouse.inspector import InspectorBackend
from connectors.warehouse.introspect import Backend, observe
from connectors.warehouse.postgres import PostgresBackend
from connectors.warehouse.sqlite import SqliteBackend
from lineage.model import DatasetKind, Observation
from tests.connectors.warehouse.test_introspect_postgres import SEED, _execute


def _read(backend: Backend) -> Observation:
    try:
        return observe(backend)
    finally:
        backend.close()


def _facts(observation: Observation) -> list[tuple[object, ...]]:
    # Names, nullability, keys, comments, kinds: what every backend must agree on.
    return [
        (t.id.name.rsplit(".", 1)[-1], t.kind, t.comment,
         [(c.name, c.nullable, c.primary_key, c.comment) for c in t.columns])
        for t in observation.tables
    ]  # fmt: skip


def test_inspector_matches_the_postgres_backend(postgres_database: str) -> None:
    _execute(postgres_database, SEED)
    engine = sa.create_engine(postgres_database)
    try:
        generic = _read(InspectorBackend(engine, owned=False, statement_timeout_s=None))
        bulk = _read(PostgresBackend(engine, owned=False, statement_timeout_s=None))
    finally:
        engine.dispose()
    assert generic.issues == () and len(generic.tables) == 4
    assert _facts(generic) == _facts(bulk)
    generic_views = {t.id.name: t.definition for t in generic.tables}
    assert generic_views == {t.id.name: t.definition for t in bulk.tables}
    kinds = {t.id.name.rsplit(".", 1)[1]: t.kind for t in generic.tables}
    assert kinds["mv_gender_counts"] is DatasetKind.MATERIALIZED_VIEW
    assert [t.id.name for t in generic.tables] == [t.id.name for t in bulk.tables]


def test_inspector_matches_the_sqlite_backend(tmp_path: Path) -> None:
    path = tmp_path / "wh.db"
    with sqlite3.connect(path) as con:
        con.executescript(
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL);"
            "CREATE VIEW v AS SELECT id FROM customers;"
        )
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        generic = _read(InspectorBackend(engine, owned=False, statement_timeout_s=None))
        bulk = _read(SqliteBackend(engine, owned=False, statement_timeout_s=None))
    finally:
        engine.dispose()
    assert _facts(generic) == _facts(bulk)
    assert [c.type for c in generic.tables[0].columns] == ["INTEGER", "VARCHAR(50)"]
    assert generic.tables[1].definition == bulk.tables[1].definition
