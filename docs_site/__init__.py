"""The static docs site: the catalog rendered into a folder that works from ``file://``.

``build_site(catalog, out)`` writes the pages, ``schema.json`` (the drift baseline) and
the search and lineage shards. Names load lazily (PEP 562): importing the package loads
neither Jinja nor the catalog.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from docs_site.build import SiteReport, build_site
    from docs_site.facts import DriftFinding

__all__ = ["DriftFinding", "SiteReport", "build_site"]

_HOMES = {"SiteReport": "docs_site.build", "build_site": "docs_site.build",
          "DriftFinding": "docs_site.facts"}  # fmt: skip


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        import importlib

        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'docs_site' has no attribute {name!r}")
