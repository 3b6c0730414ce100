"""SQL scripts -> column-level lineage with sqlglot: split, statements, tracer, names, schema."""

from __future__ import annotations

from parsers.sql.parse import *  # noqa: F403
from parsers.sql.parse import __all__ as __all__
