"""Where events go: sinks that the emitter's worker thread delivers to.

A sink has a ``name`` (spooled events remember which sinks still owe them) and a ``send``
that raises ``TemporaryConnectorError`` (the emitter spools the event) or
``PermanentConnectorError`` (it does not: see ``connectors.openlineage.emitter``) on
failure, translated by ``connectors.openlineage.errors``. Three kinds:

- ``ClientSink``: the openlineage-python client with *its* configuration
  (``openlineage.yml``, ``OPENLINEAGE__TRANSPORT__*``, ``OPENLINEAGE_URL``): http, kafka,
  file, console, composite ... The client never runs on the caller's thread.
- ``CatalogSink`` + ``JsonLinesSink``: the default when no OpenLineage transport is
  configured: the Silverline catalog, and one JSON-lines file per day under
  ``.lineage/events/`` (``lineage ingest`` reads those files back).
- ``MemorySink``: keeps events in a list (tests, notebooks).

``openlineage_configured()`` tells whether the client would find a configuration, checking
the same places in the same order as the client, without building one (building it imports
``requests`` and friends).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from connectors.openlineage.errors import translate
from lineage.errors import ConnectorError, PermanentConnectorError, TemporaryConnectorError

if TYPE_CHECKING:
    from lineage.catalog.store import Catalog

__all__ = [
    "CATALOG_SINK",
    "CLIENT_SINK",
    "EVENTS_FILE_SINK",
    "CatalogSink",
    "ClientSink",
    "EventSink",
    "JsonLinesSink",
    "MemorySink",
    "openlineage_configured",
    "to_client_event",
]

CLIENT_SINK = "openlineage"
CATALOG_SINK = "catalog"
EVENTS_FILE_SINK = "events_file"


class EventSink(Protocol):
    """One destination of events; ``send`` raises a ``ConnectorError`` when it fails
    (temporary or permanent; any other exception counts as temporary)."""

    name: str

    def send(self, event: Mapping[str, Any]) -> None: ...

    def close(self) -> None: ...


def openlineage_configured(environ: Mapping[str, str] | None = None) -> bool:
    """True if the openlineage-python client would find a transport configuration.

    Mirrors the client's order: ``OPENLINEAGE_DISABLED``, ``$OPENLINEAGE_CONFIG``,
    ``./openlineage.yml``, ``~/.openlineage/openlineage.yml``, ``OPENLINEAGE__TRANSPORT*``
    variables, legacy ``OPENLINEAGE_URL``.
    """
    env = os.environ if environ is None else environ
    if env.get("OPENLINEAGE_DISABLED", "").strip().lower() == "true":
        return True  # configured: to emit nothing
    candidates = [
        env.get("OPENLINEAGE_CONFIG"),
        os.path.join(os.getcwd(), "openlineage.yml"),
        os.path.join(os.path.expanduser("~/.openlineage"), "openlineage.yml"),
    ]
    if any(path and os.path.isfile(path) for path in candidates):
        return True
    if any(key.startswith("OPENLINEAGE__TRANSPORT") for key in env):
        return True
    return bool(env.get("OPENLINEAGE_URL"))


def to_client_event(event: Mapping[str, Any]) -> Any:
    """An openlineage-python ``event_v2`` object for a run/job/dataset event dict.

    Facets stay plain dicts (the client serializes them as they are); facet dicts are
    copied, because the client adds its own facets (``tags``, ``environmentVariables``) to
    the event it is given.
    """
    from openlineage.client import event_v2

    def datasets(entries: Any, cls: Any, extra: str) -> list[Any]:
        found = []
        for entry in entries or []:
            kwargs: dict[str, Any] = {"facets": dict(entry.get("facets") or {})}
            if entry.get(extra):
                kwargs[extra] = dict(entry[extra])
            found.append(cls(namespace=entry["namespace"], name=entry["name"], **kwargs))
        return found

    common = {"eventTime": event["eventTime"], "producer": event.get("producer", "")}
    if "run" in event:
        job = event["job"]
        return event_v2.RunEvent(
            eventType=event_v2.RunState(event.get("eventType") or "OTHER"),
            run=event_v2.Run(
                runId=event["run"]["runId"], facets=dict(event["run"].get("facets") or {})
            ),
            job=event_v2.Job(
                namespace=job["namespace"], name=job["name"], facets=dict(job.get("facets") or {})
            ),
            inputs=datasets(event.get("inputs"), event_v2.InputDataset, "inputFacets"),
            outputs=datasets(event.get("outputs"), event_v2.OutputDataset, "outputFacets"),
            **common,
        )
    if "dataset" in event:
        dataset = event["dataset"]
        return event_v2.DatasetEvent(
            dataset=event_v2.StaticDataset(
                namespace=dataset["namespace"],
                name=dataset["name"],
                facets=dict(dataset.get("facets") or {}),
            ),
            **common,
        )
    job = event["job"]
    return event_v2.JobEvent(
        job=event_v2.Job(
            namespace=job["namespace"], name=job["name"], facets=dict(job.get("facets") or {})
        ),
        inputs=datasets(event.get("inputs"), event_v2.InputDataset, "inputFacets"),
        outputs=datasets(event.get("outputs"), event_v2.OutputDataset, "outputFacets"),
        **common,
    )


class ClientSink:
    """Delivers through an ``OpenLineageClient`` (built from its own configuration when
    none is given, on first use, in the worker thread)."""

    name = CLIENT_SINK

    def __init__(self, client: Any | None = None, *, transport: Any | None = None) -> None:
        self._client = client
        self._transport = transport
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                from openlineage.client import OpenLineageClient

                try:
                    self._client = (
                        OpenLineageClient(transport=self._transport)
                        if self._transport is not None
                        else OpenLineageClient()
                    )
                except Exception as exc:
                    what = "cannot build the OpenLineage client from its configuration"
                    raise translate(exc, what, default=PermanentConnectorError) from exc
            return self._client

    def send(self, event: Mapping[str, Any]) -> None:
        client = self.client
        try:
            client.emit(to_client_event(event))
        except Exception as exc:
            what = f"OpenLineage {getattr(client.transport, 'kind', 'transport')} failed"
            raise translate(exc, what) from exc

    def close(self) -> None:
        if self._client is not None:
            with contextlib.suppress(Exception):  # closing must never raise at exit
                self._client.close(timeout=1.0)


class CatalogSink:
    """Records events into the Silverline catalog (runs, jobs, datasets, edges, metrics).

    The catalog is opened on first use (in the worker thread) and kept open.
    """

    name = CATALOG_SINK

    def __init__(self, url: str | None = None, *, catalog: Catalog | None = None) -> None:
        self.url = url
        self._catalog = catalog
        self._owned = catalog is None  # a catalog given by the caller is the caller's to close
        self._recorder: Any = None

    def send(self, event: Mapping[str, Any]) -> None:
        try:
            if self._recorder is None:
                from connectors.openlineage.ingest import EventRecorder
                from lineage.catalog.store import Catalog

                if self._catalog is None:
                    self._catalog = Catalog(self.url)
                self._recorder = EventRecorder(self._catalog)
            self._recorder.record(event)
        except ConnectorError:
            raise  # a malformed event: PermanentConnectorError
        except Exception as exc:  # CatalogError, or SQLAlchemy's own
            raise translate(exc, "cannot record the event in the catalog") from exc

    def close(self) -> None:
        if self._catalog is not None and self._owned:
            self._catalog.close()
            self._catalog = None
            self._recorder = None

    def after_fork(self) -> None:
        """In a forked child: forget the parent's connections (never share them)."""
        if self._catalog is not None and self._owned:
            engine = getattr(self._catalog, "_engine", None)
            if engine is not None:
                engine.dispose(close=False)  # SQLAlchemy's advice for a forked child
            self._catalog = None
            self._recorder = None


class JsonLinesSink:
    """Appends each event as one JSON line to ``<folder>/<UTC date of the event>.jsonl``.

    Lines are appended whole under an exclusive ``flock`` so processes sharing the folder
    never interleave; the files are a log (not ``fsync``'d per event: the spool is the
    crash-safe place).
    """

    name = EVENTS_FILE_SINK

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)

    def path_for(self, event: Mapping[str, Any]) -> Path:
        day = str(event.get("eventTime", ""))[:10]
        if len(day) != 10 or day[4] != "-":
            day = datetime.now(timezone.utc).strftime("%Y-%m-%d")
        return self.folder / f"{day}.jsonl"

    def send(self, event: Mapping[str, Any]) -> None:
        data = (json.dumps(event, separators=(",", ":"), default=str) + "\n").encode("utf-8")
        path = self.path_for(event)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
            finally:
                os.close(fd)
        except OSError as exc:
            raise translate(exc, "cannot write events", file=str(path)) from exc

    def close(self) -> None:
        return None


class MemorySink:
    """Keeps every event in ``events`` (thread-safe); ``fail`` makes ``send`` raise
    ``error`` (temporary by default)."""

    def __init__(
        self,
        name: str = "memory",
        fail: Callable[[Mapping[str, Any]], bool] | None = None,
        *,
        error: type[ConnectorError] = TemporaryConnectorError,
    ) -> None:
        self.name = name
        self.events: list[Mapping[str, Any]] = []
        self.fail = fail
        self.error = error
        self._lock = threading.Lock()

    def send(self, event: Mapping[str, Any]) -> None:
        if self.fail is not None and self.fail(event):
            raise self.error(f"{self.name}: refused the event")
        with self._lock:
            self.events.append(event)

    def close(self) -> None:
        return None
