"""Parse results kept between runs, so re-scanning an unchanged project costs hashes.

The SQL parser already caches scripts in memory by (text, dialect, defaults, schema); this
saves that cache under ``.lineage/cache/`` and loads it at the next scan. A dbt project's
whole batch is kept too, keyed by a fingerprint of every file it reads. The files are
private to this machine's Silverline and sqlglot versions: any other version, or a file
that cannot be read, is ignored and rebuilt (it is a cache, never the truth).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import tempfile
from importlib.metadata import version
from pathlib import Path
from typing import Any

from lineage.model import LineageBatch, ParseIssue
from lineage.version import __version__
from parsers.sql.parse import export_cache, import_cache

__all__ = ["BatchCache", "ParseCache", "project_fingerprint"]

_FORMAT = 1


class ParseCache:
    """Load and save ``parsers.sql``'s script cache in one folder."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / f"sql-lineage-{__version__}-sqlglot-{version('sqlglot')}.pkl"
        self._loaded = 0
        self._done = False

    def load(self) -> int:
        """Add the saved results to the in-memory cache; returns how many were added."""
        if self._done:
            return self._loaded
        self._done = True
        document = _read_pickle(self.path)
        if not isinstance(document, dict) or document.get("format") != _FORMAT:
            return 0
        self._loaded = import_cache(document.get("entries", {}))
        return self._loaded

    def save(self) -> None:
        """Write the in-memory cache back, atomically; failures only cost speed."""
        entries = export_cache()
        # Never loaded (nothing was parsed) or nothing new: keep the file as it is.
        if not self._done or len(entries) <= self._loaded:
            return
        _atomic_pickle(self.path, {"format": _FORMAT, "entries": entries})


_ENV_VAR = re.compile(rb"""env_var\(\s*['"]([^'"]+)['"]""")
_SKIPPED_DIRS = {".git", ".lineage", "logs", "__pycache__", ".venv", "node_modules"}
_TARGET_FILES = {"manifest.json", "catalog.json"}


def project_fingerprint(project: Path, settings: str) -> str:
    """A hash of everything a dbt project's lineage can depend on.

    Every file under the project (models, macros, YAML, packages, profiles), dbt's
    ``target/manifest.json`` and ``catalog.json``, the values of the environment variables
    the project reads with ``env_var()``, and ``settings`` (the loader's options).
    """
    digest = hashlib.blake2b(settings.encode(), digest_size=20)
    names: set[bytes] = set()
    for folder, dirs, files in os.walk(project):
        relative = Path(folder).relative_to(project)
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS)
        in_target = relative.parts[:1] == ("target",)
        for name in sorted(files):
            if in_target and (len(relative.parts) > 1 or name not in _TARGET_FILES):
                continue
            path = Path(folder) / name
            try:
                content = path.read_bytes()
            except OSError:
                continue
            digest.update(str(relative / name).encode() + b"\0" + content + b"\0")
            names.update(_ENV_VAR.findall(content))
    for env_name in sorted(names):
        value = os.environ.get(env_name.decode(errors="replace"))
        digest.update(env_name + b"=" + (value or "\0unset").encode() + b"\0")
    return digest.hexdigest()


class BatchCache:
    """The last batch built from one dbt project, reused while its fingerprint holds."""

    def __init__(self, folder: Path, project: Path) -> None:
        key = hashlib.blake2b(str(project.resolve()).encode(), digest_size=8).hexdigest()
        self.path = folder / f"dbt-{key}-{__version__}.pkl"
        self.summary_path = self.path.with_suffix(".summary.pkl")

    def load(self, fingerprint: str) -> LineageBatch | None:
        document = _read_pickle(self.path)
        if not isinstance(document, dict) or document.get("fingerprint") != fingerprint:
            return None
        batch = document.get("batch")
        return batch if isinstance(batch, LineageBatch) else None

    def save(self, fingerprint: str, batch: LineageBatch) -> None:
        _atomic_pickle(self.path, {"fingerprint": fingerprint, "batch": batch})
        # A small summary beside it, so a scan the catalog already holds loads nothing big.
        counts = (len(batch.datasets), len(batch.jobs), len(batch.edges))
        _atomic_pickle(
            self.summary_path,
            {"fingerprint": fingerprint, "counts": counts, "issues": batch.issues},
        )

    def summary(
        self, fingerprint: str
    ) -> tuple[tuple[int, int, int], tuple[ParseIssue, ...]] | None:
        """(datasets, jobs, edges) counts and issues of the saved batch, if it is current."""
        document = _read_pickle(self.summary_path)
        if not isinstance(document, dict) or document.get("fingerprint") != fingerprint:
            return None
        if not self.path.exists():
            return None
        return tuple(document["counts"]), tuple(document["issues"])


def _read_pickle(path: Path) -> Any:
    """A cache file's content, or None when it is missing or unreadable (rebuilt then).

    Only ever files this module wrote into the project's own ``.lineage/`` folder.
    """
    try:
        with path.open("rb") as handle:
            return pickle.load(handle)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        return None


def _atomic_pickle(path: Path, document: object) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(handle, "wb") as out:
            pickle.dump(document, out, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, path)
    except OSError:
        return
