"""dbt projects without dbt: project files, Jinja, rendering, manifest, lineage batches."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lineage.lazy import lazy_exports

if TYPE_CHECKING:
    from parsers.dbt.detect import *  # noqa: F403
    from parsers.dbt.load import *  # noqa: F403

_EXPORTS = {
    "is_dbt_project": "parsers.dbt.detect",
    "load_dbt_project": "parsers.dbt.load",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
