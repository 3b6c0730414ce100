"""What a rebuild may leave as it is: the build manifest of a site folder.

A site is a pure function of the catalog and the build's arguments, and every dataset's
(and job's) files are a pure function of the values its pages are rendered from. The
manifest (``.silverline-build.json``) keeps, per dataset and job, a digest of those values,
and per other file a digest of its content. A rebuild computes the values (cheap: the
catalog read and the walks are done anyway) and renders and writes only the datasets and
jobs whose digest changed, and only the files whose content did; the rest stay as they are,
byte for byte what a full build would write.

The digest covers everything else a page depends on through ``scope``: the code and
templates of this package, the site's title, base URL, generator and every value shown on
every page. A manifest written under another scope, torn or forged, is ignored: the build
is then a full one. Values that cannot be pickled get no digest (always rendered).

A build whose inputs are all unchanged (the catalog's change marker, contracts, notes,
drift findings, options and this code) and whose folder holds exactly the files the last
build left does nothing at all: the site, build time included, stays as it is.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "MANIFEST",
    "BuildManifest",
    "code_digest",
    "digest_of",
    "read_manifest",
    "unchanged_site",
]

#: The manifest's file in the site folder.
MANIFEST = ".silverline-build.json"
_FORMAT = "silverline-build/1"
_PACKAGE = Path(__file__).parent


@functools.lru_cache(maxsize=1)
def code_digest() -> str:
    """A digest of this package's code, templates and static files: a new version of any
    of them renders every page again (read once per process: a build asks twice)."""
    digest = hashlib.sha1()
    for path in sorted(_PACKAGE.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".html", ".js", ".css"):
            digest.update(str(path.relative_to(_PACKAGE)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def digest_of(*values: Any) -> str | None:
    """A digest of ``values`` (their pickled state), or None when they cannot be pickled.

    Equal bytes mean equal values, so an equal digest never hides a change; equal values
    may pickle differently (shared objects), which only costs a render.
    """
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    # No memo: the bytes follow the values alone, not which of them are the same object
    # (a worker and the building process share different objects). Values hold no cycle.
    pickler.fast = True
    try:
        pickler.dump(values)
    except (pickle.PicklingError, TypeError, AttributeError, RecursionError, ValueError):
        return None
    return hashlib.sha1(buffer.getbuffer()).hexdigest()


class BuildManifest:
    """The digests of the previous build (``previous``) and of this one (``current``)."""

    def __init__(self, out: Path, scope: str) -> None:
        self.out = out
        self.path = out / MANIFEST
        self.scope = scope
        document = read_manifest(out)
        digests = document.get("digests") if document.get("scope") == scope else None
        self.previous: dict[str, str] = {
            k: v for k, v in (digests if isinstance(digests, dict) else {}).items()
            if isinstance(k, str) and isinstance(v, str)
        }  # fmt: skip
        self.current: dict[str, str] = {}

    def unchanged(self, key: str, digest: str | None, files: list[Path]) -> bool:
        """Record ``digest`` for ``key``; True when the previous build had the same one
        and every file it wrote for ``key`` is still there."""
        if digest is None:
            return False
        self.current[key] = digest
        return self.previous.get(key) == digest and all(f.is_file() for f in files)

    def merge(self, digests: Mapping[str, str]) -> None:
        """Digests recorded in a worker process."""
        self.current.update(digests)

    def save(self, inputs: str | None, report: Mapping[str, int], files: list[Path]) -> Path:
        """Write the manifest: the digests, and for a rebuild with nothing changed the
        build's ``inputs`` digest, its report figures and every file it left."""
        document = {
            "format": _FORMAT, "scope": self.scope, "inputs": inputs, "report": dict(report),
            "files": sorted(str(f.relative_to(self.out)) for f in files if f != self.path),
            "digests": dict(sorted(self.current.items())),
        }  # fmt: skip
        self.path.write_text(json.dumps(document, separators=(",", ":")) + "\n", "utf-8")
        return self.path


def read_manifest(out: Path) -> dict[str, Any]:
    """The manifest in ``out`` ({} when there is none, or it is torn or of another format)."""
    try:
        document = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(document, dict) or document.get("format") != _FORMAT:
        return {}
    return document


def unchanged_site(out: Path, inputs: str | None) -> dict[str, int] | None:
    """The previous build's report when it was built from the same ``inputs`` and its
    folder holds exactly the files it wrote (none deleted, none added); else None."""
    document = read_manifest(out)
    report, files = document.get("report"), document.get("files")
    if inputs is None or document.get("inputs") != inputs or not isinstance(report, dict):
        return None
    if not isinstance(files, list) or not all(isinstance(v, int) for v in report.values()):
        return None
    found: list[str] = []
    for folder, _, names in os.walk(out):
        relative = os.path.relpath(folder, out)
        found.extend(name if relative == "." else f"{relative}/{name}" for name in names)
    if sorted(found) != sorted([*files, MANIFEST]):
        return None
    return report
