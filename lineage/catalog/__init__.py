"""The catalog: one SQLAlchemy store (SQLite embedded, PostgreSQL for teams) for every part."""

from __future__ import annotations

from lineage.catalog.store import (
    CATALOG_URL_ENV,
    CURRENT_VERSION,
    DEFAULT_CATALOG_URL,
    MIGRATIONS,
    Catalog,
    SchemaVersion,
    WriteSummary,
    mask_url,
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
