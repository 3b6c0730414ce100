"""Silverline: metadata, column-level lineage and catalog for data pipelines."""

from lineage.errors import LineageError
from lineage.model import ColumnId, DatasetId, ScriptLineage, StatementLineage

__all__ = ["ColumnId", "DatasetId", "LineageError", "ScriptLineage", "StatementLineage"]
__version__ = "0.1.0"
