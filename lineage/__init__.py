"""Silverline: metadata, column-level lineage and catalog for data pipelines.

``lineage.job`` (a decorator) and ``lineage.run`` (a context manager) wrap pipeline runs
and emit OpenLineage events; the rest of the API lives in the submodules.
"""

from lineage.errors import LineageError
from lineage.model import ColumnId, DatasetId, ScriptLineage, StatementLineage
from lineage.run import job, run

__all__ = [
    "ColumnId",
    "DatasetId",
    "LineageError",
    "ScriptLineage",
    "StatementLineage",
    "job",
    "run",
]
__version__ = "0.1.0"
