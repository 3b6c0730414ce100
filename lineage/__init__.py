"""Silverline: metadata, column-level lineage and catalog for data pipelines.

``lineage.job`` (a decorator) and ``lineage.run`` (a context manager) wrap pipeline runs
and emit OpenLineage events; ``lineage.current_run()`` is the run the code is in. The
rest of the API lives in the submodules. They load on first use, so ``import
lineage.model`` (or any core module) loads no connector.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lineage.errors import LineageError
from lineage.model import ColumnId, DatasetId, ScriptLineage, StatementLineage
from lineage.version import __version__

if TYPE_CHECKING:
    from lineage.run.decorator import current_run, job, run

__all__ = [
    "ColumnId",
    "DatasetId",
    "LineageError",
    "ScriptLineage",
    "StatementLineage",
    "__version__",
    "current_run",
    "job",
    "run",
]


def __getattr__(name: str) -> Any:
    # ``lineage.run`` is both the subpackage and the context manager: the subpackage is
    # callable (``lineage.run("job")`` calls ``lineage.run.run``), so whichever import
    # binds the attribute first, both uses work.
    if name in ("job", "run", "current_run"):
        import lineage.run as run_package

        value = run_package if name == "run" else getattr(run_package, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'lineage' has no attribute {name!r}")
