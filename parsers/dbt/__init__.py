"""dbt projects without dbt: project files, Jinja, rendering, manifest, lineage batches."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lineage.lazy import lazy_exports

if TYPE_CHECKING:
    from parsers.dbt.load import (
        is_dbt_project,
        load_dbt_project,
    )

__all__ = [
    "is_dbt_project",
    "load_dbt_project",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "is_dbt_project": "parsers.dbt.load",
        "load_dbt_project": "parsers.dbt.load",
    },
)
