"""The catalog: one SQLAlchemy store (SQLite embedded, PostgreSQL for teams) for every part."""

from __future__ import annotations

from lineage.catalog.store import *  # noqa: F403
from lineage.catalog.store import __all__ as __all__
