"""Where MCPs go: DataHub's REST API (GMS), an MCP JSON file, or embedded DataHub Lite.

Each sink takes batches (``send``), commits (``finish``) and releases what it holds
(``close``, always called). Failures become ``DeliveryError`` (a ``ConnectorError``)
carrying the positions of the batch's MCPs that did reach the target, so the push state
records exactly what was delivered.

REST uses the SDK's ``DataHubRestEmitter`` (Rest.li ``ingestProposalBatch``, one request
per batch) with its own retry policy: ``retry_max_times`` retries on 429/500/502/503/504
and on connection errors and timeouts, with exponential back-off (urllib3, factor 2,
honouring ``Retry-After``). A refused batch (4xx) is resent one MCP at a time to find
the aspect DataHub refuses; the error names its URN and aspect and DataHub's message.
"""

from __future__ import annotations

import os
import tempfile
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import requests
from datahub.configuration.common import ConfigurationError, OperationalError
from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.emitter.rest_emitter import DataHubRestEmitter
from datahub.ingestion.sink.file import write_metadata_file
from datahub.lite.lite_util import get_datahub_lite
from datahub.metadata.schema_classes import SystemMetadataClass

from connectors.datahub.sync import DataHubSettings, PushTarget
from lineage.errors import ConnectorError

__all__ = ["DeliveryError", "FileSink", "LiteSink", "RestSink", "Sink", "open_sink"]

MCP = MetadataChangeProposalWrapper
# Not worth isolating: the whole batch would be refused for the same reason.
_NOT_PER_ASPECT = frozenset({401, 403, 404, 405, 408, 429})


class DeliveryError(ConnectorError):
    """A send failed; ``delivered`` lists the positions in the batch that got through."""

    def __init__(self, message: str, *, obj: str | None = None, delivered: Sequence[int] = ()):
        self.delivered = tuple(delivered)
        super().__init__(message, obj=obj)


class Sink(Protocol):
    """What a push sends through."""

    def send(self, batch: Sequence[MCP]) -> None: ...
    def finish(self) -> None: ...
    def close(self) -> None: ...


def open_sink(target: PushTarget, settings: DataHubSettings, token: str | None = None) -> Sink:
    """The sink of a target; REST checks the server answers as DataHub GMS first.

    Raises:
        ConnectorError: the server cannot be reached or is not GMS; Lite cannot be opened.
    """
    # One run id per push: DataHub can list or roll back what this push wrote by it.
    stamp = SystemMetadataClass(
        lastObserved=int(time.time() * 1000), runId=f"silverline-{time.strftime('%Y%m%d%H%M%S')}"
    )
    if target.kind == "rest":
        return RestSink(target.location, token, settings, stamp)
    if target.kind == "file":
        return FileSink(Path(target.location), stamp)
    if target.kind == "lite":
        return LiteSink(Path(target.location), stamp)
    raise ConnectorError(f"unknown DataHub target kind {target.kind!r}", obj=target.canonical)


def _stamped(batch: Sequence[MCP], stamp: SystemMetadataClass) -> Sequence[MCP]:
    for mcp in batch:
        if mcp.systemMetadata is None:
            mcp.systemMetadata = SystemMetadataClass(
                lastObserved=stamp.lastObserved, runId=stamp.runId
            )
    return batch


class RestSink:
    """DataHub GMS over HTTP(S), through the SDK's REST emitter."""

    def __init__(
        self, url: str, token: str | None, settings: DataHubSettings, stamp: SystemMetadataClass
    ) -> None:
        self.url = url
        self.retries = settings.retries
        self.stamp = stamp
        try:
            self.emitter = DataHubRestEmitter(
                gms_server=url,
                token=token,
                timeout_sec=settings.timeout,
                retry_max_times=settings.retries,
                # Rest.li's ingestProposal(Batch) works on every GMS version; OpenAPI only
                # on recent ones, and the SDK would otherwise pick by the server's version.
                openapi_ingestion=False,
            )
            self.emitter.test_connection()
        except ConfigurationError as exc:
            raise ConnectorError(f"{exc}".split("\n")[0], obj=url) from exc
        except requests.RequestException as exc:
            raise ConnectorError(
                f"DataHub GMS did not answer (after {self.retries} retries): {_reason(exc)}",
                obj=url,
            ) from exc

    def send(self, batch: Sequence[MCP]) -> None:
        try:
            self.emitter.emit_mcps(_stamped(batch, self.stamp))
        except OperationalError as exc:
            status = _status(exc)
            if status is not None and 400 <= status < 500 and status not in _NOT_PER_ASPECT:
                self._isolate(batch)
                return  # every MCP went through alone: the batch as a whole was the problem
            raise DeliveryError(self._describe(exc, status), obj=self.url) from exc
        except requests.RequestException as exc:  # outside the emitter's own wrapping
            message = f"DataHub GMS did not answer (after {self.retries} retries): {_reason(exc)}"
            raise DeliveryError(message, obj=self.url) from exc

    def _isolate(self, batch: Sequence[MCP]) -> None:
        delivered: list[int] = []
        for index, mcp in enumerate(batch):
            try:
                self.emitter.emit_mcp(mcp)
            except OperationalError as exc:
                status = _status(exc)
                refused = status is not None and 400 <= status < 500
                message = (
                    f"DataHub refused aspect {mcp.aspectName} of {mcp.entityUrn} "
                    f"(HTTP {status}): {_message(exc)}"
                    if refused
                    else self._describe(exc, status)
                )
                raise DeliveryError(
                    message, obj=mcp.entityUrn if refused else self.url, delivered=delivered
                ) from exc
            delivered.append(index)

    def _describe(self, exc: OperationalError, status: int | None) -> str:
        if status in (401, 403):
            return (
                f"DataHub GMS refused the credentials (HTTP {status}): {_message(exc)}; "
                "check the token variable (--token-env)"
            )
        if status is None:
            return f"DataHub GMS did not answer (after {self.retries} retries): {_message(exc)}"
        return f"DataHub GMS answered HTTP {status} (after {self.retries} retries): {_message(exc)}"

    def finish(self) -> None:
        pass

    def close(self) -> None:
        self.emitter.close()


class FileSink:
    """An MCP JSON file (the SDK's file sink format), replaced whole at ``finish``."""

    def __init__(self, path: Path, stamp: SystemMetadataClass) -> None:
        self.path = path
        self.stamp = stamp
        self.mcps: list[MCP] = []

    def send(self, batch: Sequence[MCP]) -> None:
        self.mcps.extend(_stamped(batch, self.stamp))

    def finish(self) -> None:
        temporary: str | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(
                prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent
            )
            os.close(handle)
            write_metadata_file(temporary, self.mcps)
            os.replace(temporary, self.path)  # readers never see half a file
            temporary = None
        except OSError as exc:
            raise DeliveryError(
                f"cannot write the MCP file: {exc.strerror or exc}", obj=str(self.path)
            ) from exc
        finally:
            if temporary is not None:
                Path(temporary).unlink(missing_ok=True)

    def close(self) -> None:
        self.mcps = []


class LiteSink:
    """Embedded DataHub Lite on a SQLite file (``datahub lite`` reads the same file)."""

    def __init__(self, path: Path, stamp: SystemMetadataClass) -> None:
        self.path = path
        self.stamp = stamp
        self.touched: set[str] = set()
        self.indexed = False
        self.lite: Any = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Lite commits after every aspect: WAL without an fsync each is ~2.5x faster.
            options = {"journal_mode": "WAL", "synchronous": "NORMAL"}
            config = {"type": "sqlite", "config": {"file": str(path), "options": options}}
            self.lite = get_datahub_lite(config)
        except Exception as exc:  # sqlite3.Error, OSError, pydantic errors
            raise ConnectorError(f"cannot open DataHub Lite: {exc}", obj=str(path)) from exc

    def send(self, batch: Sequence[MCP]) -> None:
        with warnings.catch_warnings():
            # Lite's own post-update hooks call deprecated SDK methods on every write.
            warnings.simplefilter("ignore", DeprecationWarning)
            for index, mcp in enumerate(_stamped(batch, self.stamp)):
                try:
                    self.lite.write(mcp)
                except Exception as exc:  # sqlite3.Error, whatever a post-update hook raises
                    raise DeliveryError(
                        f"DataHub Lite could not store aspect {mcp.aspectName} of "
                        f"{mcp.entityUrn}: {exc}",
                        obj=mcp.entityUrn,
                        delivered=range(index),
                    ) from exc
                self.touched.add(mcp.entityUrn or "")

    def finish(self) -> None:
        """Bring Lite's browse index (``datahub lite ls``) up to date for what was written.

        ``close()`` would rebuild the index of the whole store, entity by entity: ~15 s
        for a 2,000-model project on every push, however little changed. The same
        per-entity step, for the entities this push touched, keeps a push incremental.
        """
        hook = getattr(self.lite, "global_post_update_hook", None)
        if hook is None:
            return  # another Lite implementation: close() reindexes
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            try:
                for urn in sorted(self.touched - {""}):
                    found = self.lite.get(urn, None, typed=True) or {}
                    hook(urn, {k: v for k, v in found.items() if k != "urn"})
            except Exception as exc:  # sqlite3.Error, a hook's own failure
                raise DeliveryError(
                    f"DataHub Lite could not index what it stored: {exc}", obj=str(self.path)
                ) from exc
        self.indexed = True

    def close(self) -> None:
        if self.lite is None:
            return
        lite, self.lite = self.lite, None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            closer = getattr(lite, "_close_connection", None)
            if self.indexed and closer is not None:
                closer()  # indexed above: skip close()'s full reindex
            else:
                lite.close()


def _status(exc: OperationalError) -> int | None:
    cause = exc.__cause__
    response = getattr(cause, "response", None)
    if isinstance(cause, requests.HTTPError) and response is not None:
        return int(response.status_code)
    status = exc.info.get("status")
    return int(status) if isinstance(status, int) else None


def _message(exc: OperationalError) -> str:
    info: dict[str, Any] = exc.info or {}
    text = str(info.get("message") or exc.message or type(exc).__name__)
    return " ".join(text.split())[:500]


def _reason(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:500] or type(exc).__name__
