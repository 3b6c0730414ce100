"""SQL scripts -> column-level lineage with sqlglot: split, statements, tracer, names, schema."""

from __future__ import annotations

from parsers.sql.parse import *  # noqa: F403
from parsers.sql.parse import __all__ as _parse_all
from parsers.sql.views import parse_view

__all__ = [*_parse_all, "parse_view"]
