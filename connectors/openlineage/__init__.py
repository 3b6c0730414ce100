"""OpenLineage: facets, the emitter and its sinks, the spool, and ingest of others' events."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lineage.lazy import lazy_exports

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
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
