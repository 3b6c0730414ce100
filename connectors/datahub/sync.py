"""Push the catalog to DataHub: datasets, lineage, jobs, runs, checks, profiles, incrementally.

The catalog's datasets, jobs, column edges, runs, check results, profiles, live
schemas and breaking drift findings (as incidents) become DataHub metadata change
proposals (MCPs, built in ``connectors.datahub.mcps``) and go to one of three targets
(``PushTarget``, with the settings in ``connectors.datahub.settings``; delivered by
``connectors.datahub.sinks``)::

    PushTarget.rest("http://datahub-gms:8080", token_env="DATAHUB_GMS_TOKEN")
    PushTarget.file("mcps.json")             # an MCP file for `datahub ingest` / `check`
    PushTarget.lite(".lineage/datahub-lite.db")   # embedded DataHub Lite (the default)

Only aspects whose content changed since the last push to the same target are sent: the
catalog keeps a hash of every (URN, aspect, aspect JSON) it sent per target
(``Catalog.push_state`` / ``Catalog.record_push``), so pushing twice sends nothing the
second time. Timeseries aspects (run events, assertion results, profiles) are keyed by
their time, so each is sent once. ``full=True`` resends everything. Aspects that
disappear from the catalog are retracted: lineage, owners, tags and job IO are sent
empty; flows, jobs, queries and assertions that no longer exist are soft-deleted
(``status.removed``). Datasets are never soft-deleted, since DataHub's own warehouse
ingestion may own them too.

The DataHub SDK is imported only when a push or a build runs: importing this module
costs nothing (the CLI imports it at start-up)::

    with Catalog() as catalog:
        report = push(catalog, PushTarget.lite(".lineage/datahub-lite.db"))
        print(report.sent, "aspects sent,", report.unchanged, "unchanged")
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from connectors.datahub.settings import DEFAULT_TOKEN_ENV, DataHubSettings, PushTarget
from lineage.catalog.store import Catalog
from lineage.errors import (
    ConfigError,
    ConnectorError,
    PermanentConnectorError,
    TemporaryConnectorError,
)

if TYPE_CHECKING:
    from datahub.emitter.mcp import MetadataChangeProposalWrapper

__all__ = [
    "PUSH_MARK",
    "AspectKey",
    "PushReport",
    "aspect_hash",
    "aspect_key",
    "build_mcps",
    "push",
]

#: The sync-state kind of pushes: per target, the mark of the catalog, settings and code
#: the last push sent from, and how many aspects it built.
PUSH_MARK = "datahub_push"
_CODE_DIGEST: str | None = None

#: ``(urn, aspect)``; timeseries aspects add ``@timestampMillis[:status]`` to the name.
AspectKey = tuple[str, str]


@dataclass(frozen=True)
class PushReport:
    """What one push built, sent and left alone."""

    target: str
    built: int
    sent: int
    unchanged: int
    retracted: int
    full: bool
    dry_run: bool
    seconds: float
    by_aspect: Mapping[str, int] = field(default_factory=dict)
    keys: tuple[AspectKey, ...] = ()
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "built": self.built,
            "sent": self.sent,
            "unchanged": self.unchanged,
            "retracted": self.retracted,
            "full": self.full,
            "dry_run": self.dry_run,
            "seconds": round(self.seconds, 3),
            "by_aspect": dict(sorted(self.by_aspect.items())),
            "aspects": [list(key) for key in self.keys],
            "warnings": list(self.warnings),
        }


def aspect_key(mcp: MetadataChangeProposalWrapper) -> AspectKey:
    """``(urn, aspect)`` of an MCP; a timeseries aspect (run events) adds its timestamp
    and status, since DataHub keeps every event rather than one latest value."""
    name = mcp.aspectName or ""
    aspect = mcp.aspect
    if aspect is not None and getattr(aspect, "ASPECT_TYPE", "") == "timeseries":
        name = f"{name}@{getattr(aspect, 'timestampMillis', '')}"
        status = getattr(aspect, "status", None)
        if isinstance(status, str):
            name = f"{name}:{status}"
    return (mcp.entityUrn or "", name)


def aspect_hash(mcp: MetadataChangeProposalWrapper, key: AspectKey | None = None) -> str:
    """The SHA-256 of (URN, aspect key, aspect content): what decides whether to resend.

    The content is read straight from the aspect's fields by the C JSON encoder (each
    record as ``[class name, fields]``, so a String and a Number type never look alike):
    the SDK's ``to_obj()`` validates every union and is several times slower, which would
    dominate a push that finds little changed. Audit stamps are left out: they say when
    and by whom, not what, so a catalog row rewritten with the same content (a newer
    ``updated_at``) or another actor resends nothing, and DataHub keeps the stamp of the
    push that last changed the aspect.
    """
    urn, name = key or aspect_key(mcp)
    text = json.dumps(
        [urn, name, mcp.aspect],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=_record_fields,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_STAMP = "AuditStampClass"


def _record_fields(value: Any) -> Any:
    inner = getattr(value, "_inner_dict", None)  # avrogen's DictWrapper keeps fields here
    if isinstance(inner, dict):
        name = type(value).__name__
        return name if name == _STAMP else [name, inner]
    to_obj = getattr(value, "to_obj", None)
    if to_obj is not None:
        return to_obj()
    return str(value)


def build_mcps(
    catalog: Catalog, settings: DataHubSettings | None = None
) -> list[MetadataChangeProposalWrapper]:
    """Every MCP the catalog amounts to, in a stable order (deterministic content)."""
    from connectors.datahub import mcps as datahub_mcps

    settings = settings or DataHubSettings()
    with _collector_paused():
        snapshot = datahub_mcps.read_catalog(catalog, settings.max_runs)
        return datahub_mcps.build(snapshot, settings).mcps


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a push builds and compares its records.

    A 2,000-model build makes millions of small acyclic objects; while they are alive
    each full collection walks all of them again, which about doubles the time of the
    build and of reading the push state. The collector runs as usual afterwards (and
    was paused only if it was running).
    """
    running = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if running:
            gc.enable()


def push(
    catalog: Catalog,
    target: PushTarget,
    settings: DataHubSettings | None = None,
    *,
    full: bool = False,
    dry_run: bool = False,
    on_sent: Callable[[int, int], None] | None = None,
) -> PushReport:
    """Send what changed in the catalog since the last push to ``target``.

    Args:
        catalog: the catalog to read, and where the push state is kept.
        target: where to send.
        settings: URN and transport settings (default ``DataHubSettings()``).
        full: resend every aspect, changed or not.
        dry_run: build and compare only; send and record nothing.
        on_sent: called with (sent so far, to send) after each batch (progress).

    Returns:
        A ``PushReport``. Aspects that reached the target are recorded even when a later
        batch fails, so running again sends only the rest.

    Raises:
        PermanentConnectorError: the target refused an aspect (the message names its URN
            and aspect) or the credentials, is not DataHub GMS, or cannot be written.
        TemporaryConnectorError: the target could not be reached after the retries, or
            answered 429 / 5xx; pushing again later sends what is missing.
        ConfigError: the token variable named by the target is not set.
    """
    settings = settings or DataHubSettings()
    started = time.perf_counter()
    warnings: list[str] = []
    if target.kind == "lite" and not Path(target.location).exists() and not full:
        # A deleted Lite file holds nothing, whatever the push state says.
        full = True
        warnings.append(f"{target.location} does not exist: sending everything")
    # Nothing in the catalog, the settings or this code changed since the last push to
    # this target: nothing can differ, so skip reading the catalog and building its MCPs
    # (and importing DataHub's SDK). The mark is taken before the read, so a write racing
    # with this push moves it and the next push looks again.
    mark = _push_mark(catalog, target, settings)
    if not full and not dry_run:
        recorded = json.loads(catalog.sync_state(PUSH_MARK, target.canonical) or "{}")
        same_state = recorded.get("sent_state") == catalog.push_state_size(target.canonical)
        if recorded.get("mark") == mark and same_state:
            built_before = int(recorded.get("built", 0))
            if target.kind == "file":
                _send(catalog, target, settings, [], on_sent)  # an empty delta, as always
            return PushReport(
                target=target.canonical, built=built_before, sent=0, unchanged=built_before,
                retracted=0, full=False, dry_run=False,
                seconds=time.perf_counter() - started, by_aspect={}, keys=(),
                warnings=tuple(warnings),
            )  # fmt: skip
    from connectors.datahub import mcps as datahub_mcps  # DataHub's SDK: only to build

    current: dict[AspectKey, tuple[str, MetadataChangeProposalWrapper]] = {}
    with _collector_paused():
        snapshot = datahub_mcps.read_catalog(catalog, settings.max_runs)
        built = datahub_mcps.build(snapshot, settings)
        for mcp in built.mcps:
            key = aspect_key(mcp)
            current[key] = (aspect_hash(mcp, key), mcp)
        previous = catalog.push_state(target.canonical)
        retractions = _retractions(previous, current, settings.actor)
    warnings.extend(built.warnings)
    outgoing: list[tuple[AspectKey, str, MetadataChangeProposalWrapper]] = [
        (key, digest, mcp)
        for key, (digest, mcp) in current.items()
        if full or previous.get(key) != digest
    ]
    outgoing.extend(retractions)
    report = PushReport(
        target=target.canonical,
        built=len(current),
        sent=len(outgoing),
        unchanged=len(current) - (len(outgoing) - len(retractions)),
        retracted=len(retractions),
        full=full,
        dry_run=dry_run,
        seconds=0.0,
        by_aspect=dict(Counter(key[1].split("@")[0] for key, _, _ in outgoing)),
        keys=tuple(key for key, _, _ in outgoing),
        warnings=tuple(warnings),
    )
    # Nothing to send: a file still gets its (empty) delta; Lite and GMS are left alone.
    if not dry_run and (outgoing or target.kind == "file"):
        _send(catalog, target, settings, outgoing, on_sent)
    if not dry_run:
        # With the push state's size: a state changed by anything but a push is seen.
        state = json.dumps({"mark": mark, "built": len(current),
                            "sent_state": catalog.push_state_size(target.canonical)})  # fmt: skip
        catalog.record_sync_state(PUSH_MARK, target.canonical, state)
    return replace(report, seconds=time.perf_counter() - started)


def _push_mark(catalog: Catalog, target: PushTarget, settings: DataHubSettings) -> str:
    """What a push's MCPs depend on: the catalog's content, the settings, and this
    package's own code (an edited or upgraded MCP builder sends what it now builds)."""
    global _CODE_DIGEST
    if _CODE_DIGEST is None:
        digest = hashlib.sha256()
        for module in sorted(Path(__file__).parent.glob("*.py")):
            digest.update(module.read_bytes())
        _CODE_DIGEST = digest.hexdigest()
    settings_text = repr(sorted(vars(settings).items()))
    return hashlib.sha256(
        "\n".join([catalog.change_marker(), target.canonical, settings_text, _CODE_DIGEST])
        .encode()
    ).hexdigest()


def _retractions(
    previous: Mapping[AspectKey, str],
    current: Mapping[AspectKey, tuple[str, MetadataChangeProposalWrapper]],
    actor: str,
) -> list[tuple[AspectKey, str, MetadataChangeProposalWrapper]]:
    """MCPs undoing what an earlier push sent and the catalog no longer has, stamped now
    by ``actor`` (the hash leaves the stamp out: a retraction is sent once)."""
    from datahub.metadata import schema_classes as sc

    from connectors.datahub import mcps as datahub_mcps

    stamp = sc.AuditStampClass(time=int(time.time() * 1000), actor=actor)
    live_urns = {urn for urn, _ in current}
    out: dict[AspectKey, tuple[str, MetadataChangeProposalWrapper]] = {}
    for urn, name in sorted(previous.keys() - current.keys()):
        if "@" in name:
            continue  # a past event stays history
        mcp = datahub_mcps.retraction(urn, name, entity_gone=urn not in live_urns, stamp=stamp)
        if mcp is None:
            continue
        key = aspect_key(mcp)
        digest = aspect_hash(mcp, key)
        if previous.get(key) != digest and key not in current:
            out[key] = (digest, mcp)
    return [(key, digest, mcp) for key, (digest, mcp) in out.items()]


def _send(
    catalog: Catalog,
    target: PushTarget,
    settings: DataHubSettings,
    outgoing: Sequence[tuple[AspectKey, str, MetadataChangeProposalWrapper]],
    on_sent: Callable[[int, int], None] | None,
) -> None:
    from connectors.datahub import sinks as datahub_sinks

    token = _token(target)
    done: dict[AspectKey, str] = {}
    sink = datahub_sinks.open_sink(target, settings, token)
    # REST batches are what one request carries; the others only bound progress steps.
    size = settings.batch_size if target.kind == "rest" else 1000
    try:
        for start in range(0, len(outgoing), size):
            chunk = outgoing[start : start + size]
            try:
                sink.send([mcp for _, _, mcp in chunk])
            except ConnectorError:
                done.update((key, digest) for key, digest, _ in chunk[: sink.delivered])
                raise
            done.update((key, digest) for key, digest, _ in chunk)
            if on_sent:
                on_sent(len(done), len(outgoing))
        sink.finish()
    except BaseException as exc:  # Ctrl-C too: what got through is recorded
        if target.kind == "file":
            done.clear()  # the file is written whole or not at all
        if done:
            catalog.record_push(target.canonical, done)
        if isinstance(exc, ConnectorError):
            raise _same_kind(exc)(
                f"{exc.message} ({len(done)} of {len(outgoing)} aspects reached the target "
                "and were recorded; push again to send the rest)",
                obj=exc.obj or target.canonical,
            ) from exc
        raise
    finally:
        sink.close()
    catalog.record_push(target.canonical, done)


def _same_kind(error: ConnectorError) -> type[ConnectorError]:
    """The class a re-worded ``error`` keeps: whether retrying helps does not change."""
    for kind in (TemporaryConnectorError, PermanentConnectorError):
        if isinstance(error, kind):
            return kind
    return ConnectorError


def _token(target: PushTarget) -> str | None:
    if target.kind != "rest":
        return None
    name = target.token_env or DEFAULT_TOKEN_ENV
    token = os.environ.get(name)
    if target.token_env and not token:
        raise ConfigError(f"the token variable ${name} is not set (--token-env {name})")
    return token or None
