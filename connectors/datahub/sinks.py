"""Where MCPs go: DataHub's REST API (GMS), an MCP JSON file, or embedded DataHub Lite.

Each sink takes batches (``send``), commits (``finish``) and releases what it holds
(``close``, always called). After every ``send``, returned or raised, ``delivered`` says
how many MCPs of the batch (from its start) reached the target, so the push state records
exactly what was delivered. Failures are translated by ``connectors.datahub.errors`` into
``TemporaryConnectorError`` (pushing again later may work) or ``PermanentConnectorError``.

REST uses the SDK's ``DataHubRestEmitter`` (Rest.li ``ingestProposalBatch``, one request
per batch) with its own retry policy, which retries only temporary failures:
``retry_max_times`` retries on 429/500/502/503/504 and on connection errors and timeouts,
with exponential back-off (urllib3, factor 2, honouring ``Retry-After``). A batch refused
for its content (a 4xx other than 401/403/404/405/408/429) is resent one MCP at a time to
find the aspect DataHub refuses; the error names its URN and aspect and DataHub's message.
"""

from __future__ import annotations

import os
import tempfile
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.emitter.rest_emitter import DataHubRestEmitter
from datahub.ingestion.sink.file import write_metadata_file
from datahub.lite.lite_util import get_datahub_lite
from datahub.metadata.schema_classes import SystemMetadataClass

from connectors.datahub.errors import (
    GMS_FAILURES,
    RETRIED_STATUSES,
    refused_aspect,
    refuses_content,
    translate,
)
from connectors.datahub.serialize import FastMCP, fast_mcps
from connectors.datahub.settings import DataHubSettings, PushTarget
from lineage.errors import PermanentConnectorError

__all__ = ["FileSink", "LiteSink", "RestSink", "Sink", "open_sink"]

MCP = MetadataChangeProposalWrapper
_GMS = "DataHub GMS"
# What Lite's global_post_update_hook reads of an entity to index it for browsing.
_INDEXED_ASPECTS = ("container", "subTypes", "dataPlatformInstance")


class Sink(Protocol):
    """What a push sends through; ``delivered``: MCPs of the last batch that got through."""

    delivered: int

    def send(self, batch: Sequence[MCP]) -> None: ...
    def finish(self) -> None: ...
    def close(self) -> None: ...


def open_sink(target: PushTarget, settings: DataHubSettings, token: str | None = None) -> Sink:
    """The sink of a target; REST checks the server answers as DataHub GMS first.

    Raises:
        TemporaryConnectorError: the server does not answer, or answers 429 / 5xx.
        PermanentConnectorError: the server is not GMS or refuses the credentials; Lite
            cannot be opened.
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
    raise PermanentConnectorError(
        f"unknown DataHub target kind {target.kind!r}", obj=target.canonical
    )


def _stamped(batch: Sequence[MCP], stamp: SystemMetadataClass) -> list[FastMCP]:
    """The batch stamped with the push's run, serialized by our compiled plans.

    Every sink's SDK code (Lite's ``write``, ``write_metadata_file``, the REST emitter)
    serializes through ``to_obj()`` / ``make_mcp()``: ``FastMCP`` writes the same JSON
    without the SDK's per-call validation (``connectors.datahub.serialize``).
    """
    for mcp in batch:
        if mcp.systemMetadata is None:
            mcp.systemMetadata = SystemMetadataClass(
                lastObserved=stamp.lastObserved, runId=stamp.runId
            )
    return fast_mcps(batch)


class RestSink:
    """DataHub GMS over HTTP(S), through the SDK's REST emitter."""

    def __init__(
        self, url: str, token: str | None, settings: DataHubSettings, stamp: SystemMetadataClass
    ) -> None:
        self.url = url
        self.retries = settings.retries
        self.stamp = stamp
        self.delivered = 0
        try:
            self.emitter = DataHubRestEmitter(
                gms_server=url,
                token=token,
                timeout_sec=settings.timeout,
                retry_max_times=settings.retries,
                retry_status_codes=list(RETRIED_STATUSES),
                # Rest.li's ingestProposal(Batch) works on every GMS version; OpenAPI only
                # on recent ones, and the SDK would otherwise pick by the server's version.
                openapi_ingestion=False,
            )
            self.emitter.test_connection()
        except GMS_FAILURES as exc:
            raise translate(exc, _GMS, obj=url, retries=self.retries) from exc

    def send(self, batch: Sequence[MCP]) -> None:
        self.delivered = 0
        try:
            self.emitter.emit_mcps(_stamped(batch, self.stamp))
        except GMS_FAILURES as exc:
            if not refuses_content(exc):
                raise translate(exc, _GMS, obj=self.url, retries=self.retries) from exc
            self._isolate(batch)  # every MCP went through alone: the batch was the problem
        self.delivered = len(batch)

    def _isolate(self, batch: Sequence[MCP]) -> None:
        for mcp in _stamped(batch, self.stamp):
            try:
                self.emitter.emit_mcp(mcp)
            except GMS_FAILURES as exc:
                if refuses_content(exc):
                    raise refused_aspect(exc, mcp) from exc
                raise translate(exc, _GMS, obj=self.url, retries=self.retries) from exc
            self.delivered += 1

    def finish(self) -> None:
        pass

    def close(self) -> None:
        self.emitter.close()


class FileSink:
    """An MCP JSON file (the SDK's file sink format), replaced whole at ``finish``."""

    def __init__(self, path: Path, stamp: SystemMetadataClass) -> None:
        self.path = path
        self.stamp = stamp
        self.mcps: list[FastMCP] = []
        self.delivered = 0

    def send(self, batch: Sequence[MCP]) -> None:
        self.mcps.extend(_stamped(batch, self.stamp))
        self.delivered = len(batch)  # kept for finish(), which writes the file whole

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
            raise translate(exc, "cannot write the MCP file", obj=str(self.path)) from exc
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
        self.delivered = 0
        self.lite: Any = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Lite commits after every aspect: WAL without an fsync each is ~2.5x faster.
            options = {"journal_mode": "WAL", "synchronous": "NORMAL"}
            config = {"type": "sqlite", "config": {"file": str(path), "options": options}}
            self.lite = get_datahub_lite(config)
        except Exception as exc:  # sqlite3.Error, OSError, pydantic errors
            raise translate(exc, "cannot open DataHub Lite", obj=str(path)) from exc

    def send(self, batch: Sequence[MCP]) -> None:
        self.delivered = 0
        with warnings.catch_warnings():
            # Lite's own post-update hooks call deprecated SDK methods on every write.
            warnings.simplefilter("ignore", DeprecationWarning)
            for mcp in _stamped(batch, self.stamp):
                try:
                    self.lite.write(mcp)
                except Exception as exc:  # sqlite3.Error, whatever a post-update hook raises
                    what = (
                        f"DataHub Lite could not store aspect {mcp.aspectName} of {mcp.entityUrn}"
                    )
                    raise translate(exc, what, obj=mcp.entityUrn) from exc
                self.touched.add(mcp.entityUrn or "")
                self.delivered += 1

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
                    # The hook reads only these aspects: decoding the others (schemas,
                    # lineage) through the SDK's validating from_obj was most of a push.
                    found = self.lite.get(urn, list(_INDEXED_ASPECTS), typed=True) or {}
                    hook(urn, {k: v for k, v in found.items() if k != "urn"})
            except Exception as exc:  # sqlite3.Error, a hook's own failure
                what = "DataHub Lite could not index what it stored"
                raise translate(exc, what, obj=str(self.path)) from exc
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
