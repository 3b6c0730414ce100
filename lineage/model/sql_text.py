"""SQL text of a sqlglot expression in a dialect, from one generator per dialect, options
and thread.

``expression.sql(dialect)`` makes a new generator on every call. sqlglot 30's DuckDB
generator parses 17 SQL templates when it is made (5 ms), so each CAST type, view body or
runbook query of a DuckDB project paid 5 ms: 70 % of analysing a statement. A generator
keeps no state from one ``generate`` to the next; it is never shared between threads.
"""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["sql_text"]

_local = threading.local()


def sql_text(
    expression: Any, dialect: str | None = None, *, pretty: bool = False, identify: bool = False
) -> str:
    """``expression.sql(dialect, pretty=..., identify=...)``, with a reused generator."""
    generators: dict[tuple[str | None, bool, bool], Any] | None = getattr(
        _local, "generators", None
    )
    if generators is None:
        generators = _local.generators = {}
    key = (dialect, pretty, identify)
    generator = generators.get(key)
    if generator is None:
        from sqlglot.dialects.dialect import Dialect

        generator = generators[key] = Dialect.get_or_raise(dialect).generator(
            pretty=pretty, identify=identify
        )
    return str(generator.generate(expression))
