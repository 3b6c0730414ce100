"""OpenLineage: facets, the emitter and its sinks, the spool, and ingest of others' events."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from connectors.openlineage.ingest import *  # noqa: F403

_EXPORTS = {
    "EventLine": "connectors.openlineage.ingest",
    "EventRecorder": "connectors.openlineage.ingest",
    "IngestReport": "connectors.openlineage.ingest",
    "event_time": "connectors.openlineage.ingest",
    "event_to_batch": "connectors.openlineage.ingest",
    "ingest_events": "connectors.openlineage.ingest",
    "read_events": "connectors.openlineage.ingest",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    # PEP 562: the module that defines ``name`` is imported on first access only.
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
