"""The live warehouse: bulk introspection (``introspect``), one module per backend.

``introspect(url)`` returns a ``lineage.model.Observation`` of what a PostgreSQL, DuckDB,
SQLite, Redshift, Snowflake or BigQuery warehouse (or any SQLAlchemy dialect) holds now.
Importing this package loads nothing heavy: ``connectors.warehouse.introspect`` needs only
the core vocabulary (drivers load when a backend opens), and the engine helpers resolve
on first use (PEP 562).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Imported, not resolved lazily: the function shares its module's name, and a lazy
# lookup would hand out the module once anything imported it.
from connectors.warehouse.introspect import introspect

if TYPE_CHECKING:
    from connectors.warehouse.engine import create_warehouse_engine

_EXPORTS = {"create_warehouse_engine": "connectors.warehouse.engine"}
__all__ = ["create_warehouse_engine", "introspect"]


def __getattr__(name: str) -> Any:
    # PEP 562: the module that defines ``name`` is imported on first access only.
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
