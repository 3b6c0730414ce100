"""OpenLineage: facets, the emitter and its sinks, the spool, and ingest of others' events."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lineage.lazy import lazy_exports

if TYPE_CHECKING:
    from connectors.openlineage.ingest import (
        EventLine,
        EventRecorder,
        IngestReport,
        event_time,
        event_to_batch,
        ingest_events,
        read_events,
    )

__all__ = [
    "EventLine",
    "EventRecorder",
    "IngestReport",
    "event_time",
    "event_to_batch",
    "ingest_events",
    "read_events",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "EventLine": "connectors.openlineage.ingest",
        "EventRecorder": "connectors.openlineage.ingest",
        "IngestReport": "connectors.openlineage.ingest",
        "event_time": "connectors.openlineage.ingest",
        "event_to_batch": "connectors.openlineage.ingest",
        "ingest_events": "connectors.openlineage.ingest",
        "read_events": "connectors.openlineage.ingest",
    },
)
