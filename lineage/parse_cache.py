"""Parse results kept between runs, so re-scanning an unchanged project costs hashes.

The SQL parser already caches scripts in memory by (text, dialect, defaults, schema); this
saves that cache under ``.lineage/cache/`` and loads it at the next scan. The file is
private to this machine's Silverline and sqlglot versions: any other version, or a file
that cannot be read, is ignored and rebuilt (it is a cache, never the truth).
"""

from __future__ import annotations

import os
import pickle
import tempfile
from importlib.metadata import version
from pathlib import Path

import lineage
from parsers.sql import export_cache, import_cache

__all__ = ["ParseCache"]

_FORMAT = 1


class ParseCache:
    """Load and save ``parsers.sql``'s script cache in one folder."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / f"sql-lineage-{lineage.__version__}-sqlglot-{version('sqlglot')}.pkl"
        self._loaded = 0

    def load(self) -> int:
        """Add the saved results to the in-memory cache; returns how many were added."""
        try:
            with self.path.open("rb") as handle:
                # Written by this same code into the project's own .lineage/ folder.
                document = pickle.load(handle)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            return 0
        if not isinstance(document, dict) or document.get("format") != _FORMAT:
            return 0
        self._loaded = import_cache(document.get("entries", {}))
        return self._loaded

    def save(self) -> None:
        """Write the in-memory cache back, atomically; failures only cost speed."""
        entries = export_cache()
        if len(entries) <= self._loaded:  # nothing new since load: keep the file as is
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.path.parent, suffix=".tmp")
            with os.fdopen(handle, "wb") as out:
                pickle.dump(
                    {"format": _FORMAT, "entries": entries}, out, protocol=pickle.HIGHEST_PROTOCOL
                )
            os.replace(temporary, self.path)
        except OSError:
            return
