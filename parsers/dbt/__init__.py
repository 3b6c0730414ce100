"""dbt projects without dbt: project files, Jinja, rendering, manifest, lineage batches."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from parsers.dbt.detect import *  # noqa: F403
    from parsers.dbt.load import *  # noqa: F403

_EXPORTS = {
    "is_dbt_project": "parsers.dbt.detect",
    "load_dbt_project": "parsers.dbt.load",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    # PEP 562: the module that defines ``name`` is imported on first access only.
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
