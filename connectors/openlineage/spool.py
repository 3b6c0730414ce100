"""The spool: events that could not be delivered, kept on disk until ``replay``.

Layout of the spool folder (``.lineage/spool/`` by default)::

    events.jsonl     {"seq": 17, "sinks": ["openlineage"], "spooled_at": ..., "event": {...}}
    state.json       {"delivered": 16, "current": {"seq": 17, "done": [], "sending": "..."}}
    uncertain.jsonl  deliveries interrupted by a crash: maybe delivered, never re-sent silently
    rejected.jsonl   deliveries a sink refused for good (``PermanentConnectorError``): kept
                     with the reason, never replayed unless asked
    corrupt.jsonl    lines that could not be read back (a crash mid-append), kept for forensics
    append.lock      held (``fcntl.flock``) while appending or compacting: short
    replay.lock      held for a whole replay: one replayer at a time, across processes

Guarantees:

- An append is one ``write`` of whole lines, ``fsync``'d before it returns; sequence
  numbers grow across processes (taken under ``append.lock``) and never go back, even after
  compaction, because ``state.json`` keeps the last delivered one.
- Replay delivers records in sequence order, stops at the first failure (order is kept),
  and records progress in ``state.json`` (written to a temporary file, ``fsync``'d, renamed)
  *before* and *after* each send. A crash between the two leaves ``sending`` set: the next
  replay cannot know whether the receiver got that event, so it moves it to
  ``uncertain.jsonl`` instead of sending it twice (``replay(include_uncertain=True)``
  sends those explicitly). Everything else is delivered exactly once.
- A record lists the sinks still owed the event (the default sink pair writes the catalog
  and a file; if only the catalog failed, only the catalog gets it on replay).
- Only temporary failures are retried. A sink that refuses an event for good (a
  ``PermanentConnectorError``: HTTP 400 or 401, a malformed event ...) would refuse it on
  every replay, so the event moves to ``rejected.jsonl`` for that sink and replay goes on;
  ``replay(include_rejected=True)`` sends those again once the cause is fixed (a token, a
  setting). Any other failure stops the replay at that event.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from connectors.openlineage.errors import translate
from connectors.openlineage.journal import pending_count, recover
from connectors.openlineage.spoolfiles import atomic_write as _atomic_write
from connectors.openlineage.spoolfiles import count_lines as _count_lines
from connectors.openlineage.spoolfiles import describe as _describe
from connectors.openlineage.spoolfiles import fsync_dir as _fsync_dir
from connectors.openlineage.spoolfiles import last_byte as _last_byte
from connectors.openlineage.spoolfiles import write_all as _write_all
from lineage.errors import PermanentConnectorError

__all__ = ["EventSpool", "ReplayReport", "Sender", "SpoolStatus"]

_EVENTS = "events.jsonl"
_STATE = "state.json"
_UNCERTAIN = "uncertain.jsonl"
_REJECTED = "rejected.jsonl"
_CORRUPT = "corrupt.jsonl"
_TAIL = 1 << 20  # bytes read back from the end of the spool to find the last sequence number


class Sender(Protocol):
    """What replay delivers through: one sink (see ``connectors.openlineage.sinks``)."""

    name: str

    def send(self, event: Mapping[str, Any]) -> None: ...


@dataclass(frozen=True)
class SpoolStatus:
    """What waits in the spool."""

    pending: int
    pending_bytes: int
    uncertain: int
    corrupt: int
    oldest: str | None
    delivered_seq: int
    by_sink: Mapping[str, int] = field(default_factory=dict)
    rejected: int = 0
    journaled: int = 0  # in the journal of stopped processes: the next replay spools them

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ReplayReport:
    """What one ``replay`` did; ``error`` says why it stopped early (events stay spooled);
    ``rejections`` name the deliveries refused for good (moved to ``rejected.jsonl``);
    ``resent`` counts the set-aside deliveries (uncertain, rejected) that went through."""

    delivered: int = 0
    remaining: int = 0
    quarantined: int = 0
    corrupt: int = 0
    error: str | None = None
    rejected: int = 0
    rejections: list[str] = field(default_factory=list)
    resent: int = 0
    recovered: int = 0  # moved from the journal of stopped processes, then replayed
    busy: bool = False  # ``wait=False`` and another replay was running: nothing done

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Record:
    seq: int
    sinks: list[str]
    event: Mapping[str, Any]
    spooled_at: str | None
    size: int
    key: str | None = None


class EventSpool:
    """A process-safe, crash-safe on-disk queue of undelivered events."""

    def __init__(
        self, folder: str | os.PathLike[str], *, fallback: str | os.PathLike[str] | None = None
    ) -> None:
        self.folder = Path(folder)
        # Where the emitter spools when ``folder`` cannot be written (read-only, full).
        self.fallback = EventSpool(fallback) if fallback is not None else None
        # flock() is per open file: every acquisition opens its own descriptor, so threads
        # of one process exclude each other too; this lock just keeps them from queueing
        # up on the kernel.
        self._thread_lock = threading.Lock()

    # -- appending -----------------------------------------------------------------------

    def append(
        self,
        items: Sequence[tuple[Mapping[str, Any], Sequence[str]]],
        *,
        keys: Sequence[str | None] | None = None,
    ) -> list[int]:
        """Spool ``(event, sinks still owed it)`` pairs; their sequence numbers. ``keys``
        name each event's journal entry (``connectors.openlineage.journal``), so recovering
        the journal never spools it twice.

        Raises:
            TemporaryConnectorError: the disk is full.
            PermanentConnectorError: the spool folder cannot be written (permissions, a
                file where the folder should be).
        """
        if not items:
            return []
        try:
            with self._thread_lock, self._locked("append.lock"):
                return self._append_locked(items, keys)
        except OSError as exc:
            raise translate(exc, "cannot spool events", file=str(self.folder)) from exc

    def _append_locked(
        self,
        items: Sequence[tuple[Mapping[str, Any], Sequence[str]]],
        keys: Sequence[str | None] | None = None,
    ) -> list[int]:
        path = self.folder / _EVENTS
        seq = max(self._last_seq(path), self._read_state()["delivered"])
        now = datetime.now(timezone.utc).isoformat()
        lines: list[str] = []
        numbers: list[int] = []
        for position, (event, sinks) in enumerate(items):
            seq += 1
            numbers.append(seq)
            record = {"seq": seq, "sinks": list(sinks), "spooled_at": now, "event": event}
            if keys is not None and keys[position] is not None:
                record["key"] = keys[position]
            lines.append(json.dumps(record, separators=(",", ":"), default=str) + "\n")
        self._append_lines(path, "".join(lines))
        return numbers

    def _append_lines(self, path: Path, text: str) -> None:
        created = not path.exists()
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            size = os.fstat(fd).st_size
            if size and _last_byte(path) != b"\n":
                text = "\n" + text  # a crash left half a line: end it, replay reports it
            _write_all(fd, text.encode("utf-8"))
        finally:
            os.close(fd)
        if created:
            _fsync_dir(self.folder)

    def _last_seq(self, path: Path) -> int:
        """The highest sequence number in the spool file (0 when empty)."""
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            return 0
        start = max(0, size - _TAIL)
        with open(path, "rb") as handle:
            handle.seek(start)
            chunk = handle.read()
        lines = chunk.split(b"\n")
        if start:
            lines = lines[1:]  # the first line of a tail read is partial
        for raw in reversed(lines):
            record = _load(raw)
            if record is not None:
                return record.seq
        return 0 if not start else self._scan_last_seq(path)

    def _scan_last_seq(self, path: Path) -> int:
        last = 0
        for record, _ in self._records(path):
            if record is not None:
                last = record.seq
        return last

    # -- reading -------------------------------------------------------------------------

    def status(self) -> SpoolStatus:
        """How many events wait, for which sinks, and how many are uncertain or corrupt."""
        state = self._read_state()
        pending = 0
        pending_bytes = 0
        oldest: str | None = None
        corrupt = 0
        by_sink: dict[str, int] = {}
        for record, _ in self._records(self.folder / _EVENTS):
            if record is None:
                corrupt += 1
                continue
            if record.seq <= state["delivered"]:
                continue
            pending += 1
            pending_bytes += record.size
            oldest = oldest or record.spooled_at
            for sink in record.sinks:
                by_sink[sink] = by_sink.get(sink, 0) + 1
        return SpoolStatus(
            pending=pending,
            pending_bytes=pending_bytes,
            uncertain=_count_lines(self.folder / _UNCERTAIN),
            corrupt=corrupt + _count_lines(self.folder / _CORRUPT),
            oldest=oldest,
            delivered_seq=state["delivered"],
            by_sink=by_sink,
            rejected=_count_lines(self.folder / _REJECTED),
            journaled=pending_count(self.folder),
        )

    def pending_events(self) -> list[tuple[int, list[str], Mapping[str, Any]]]:
        """``(seq, sinks, event)`` of every event not yet delivered, in order."""
        delivered = self._read_state()["delivered"]
        return [
            (r.seq, r.sinks, r.event)
            for r, _ in self._records(self.folder / _EVENTS)
            if r is not None and r.seq > delivered
        ]

    def uncertain_events(self) -> list[Mapping[str, Any]]:
        """The quarantined deliveries: ``{seq, sink, reason, event}``."""
        return self._entries(_UNCERTAIN)

    def rejected_events(self) -> list[Mapping[str, Any]]:
        """The deliveries a sink refused for good: ``{seq, sink, reason, event}``."""
        return self._entries(_REJECTED)

    def _entries(self, name: str) -> list[Mapping[str, Any]]:
        found: list[Mapping[str, Any]] = []
        self._check_owner()
        path = self.folder / name
        if path.exists():
            for raw in path.read_bytes().split(b"\n"):
                try:
                    found.append(json.loads(raw))
                except ValueError:
                    continue
        return found

    def _records(self, path: Path) -> Iterator[tuple[_Record | None, bytes]]:
        """Complete lines only: a line still being appended has no newline yet."""
        self._check_owner()
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return
        end = data.rfind(b"\n")
        if end < 0:
            return
        for raw in data[: end + 1].split(b"\n")[:-1]:
            if raw.strip():
                yield _load(raw), raw

    # -- replaying -----------------------------------------------------------------------

    def replay(
        self,
        sinks: Mapping[str, Sender],
        *,
        include_uncertain: bool = False,
        include_rejected: bool = False,
        limit: int | None = None,
        on_delivered: Callable[[int], None] | None = None,
        wait: bool = True,
    ) -> ReplayReport:
        """Deliver spooled events in order, each exactly once; stop at the first temporary
        failure. An event a sink refuses for good moves to ``rejected.jsonl`` for that sink
        (``report.rejections`` says why) and replay goes on.

        Args:
            sinks: the configured sinks by name; a record owed to a sink missing here stops
                the replay (configure the same OpenLineage transport as the jobs had).
            include_uncertain: first re-send the quarantined deliveries (they may arrive
                twice: the receiver may have got them before the crash).
            include_rejected: first re-send the rejected deliveries (once their cause, a
                token or a setting, is fixed); those refused again stay rejected.
            limit: deliver at most this many events.
            on_delivered: called with each delivered sequence number (progress output).
            wait: wait for another replay to end; False: return at once (``busy``).
        """
        report = ReplayReport()
        with self._locked("replay.lock", wait=wait) as locked:
            if not locked:
                report.busy = True
                report.remaining = self.status().pending
                return report
            # The journals of stopped processes first (only ever under this lock).
            report.recovered = recover(self).pending
            state = self._read_state()
            report.quarantined += self._settle_interrupted(state)
            for name, wanted in ((_UNCERTAIN, include_uncertain), (_REJECTED, include_rejected)):
                report.error = self._resend(name, sinks, report) if wanted else None
                if report.error is not None:
                    report.remaining = self.status().pending
                    return report
            while report.error is None and (limit is None or report.delivered < limit):
                progressed = self._replay_pass(sinks, state, report, limit, on_delivered)
                if not progressed:
                    break
            self._compact(state["delivered"], report)
        report.remaining = self.status().pending
        return report

    def _replay_pass(
        self,
        sinks: Mapping[str, Sender],
        state: dict[str, Any],
        report: ReplayReport,
        limit: int | None,
        on_delivered: Callable[[int], None] | None,
    ) -> bool:
        progressed = False
        for record, _ in self._records(self.folder / _EVENTS):
            if record is None or record.seq <= state["delivered"]:
                continue
            if limit is not None and report.delivered >= limit:
                return False
            current = state.get("current") or {}
            done = list(current.get("done", [])) if current.get("seq") == record.seq else []
            sent = False
            for sink_name in record.sinks:
                if sink_name in done:
                    continue
                sink = sinks.get(sink_name)
                if sink is None:
                    report.error = (
                        f"event {record.seq} is owed to sink {sink_name!r}, which is not "
                        f"configured here (configured: {', '.join(sorted(sinks)) or 'none'})"
                    )
                    return False
                # Before the send: a crash from here until the next write quarantines it.
                state["current"] = {"seq": record.seq, "done": done, "sending": sink_name}
                self._write_state(state)
                try:
                    sink.send(record.event)
                    sent = True
                except PermanentConnectorError as exc:  # every replay would stop here again
                    self._reject_record(record, sink_name, exc, report)
                    settled = [*done, sink_name]
                    state["current"] = {"seq": record.seq, "done": settled, "sending": None}
                    self._write_state(state)
                except Exception as exc:
                    state["current"] = {"seq": record.seq, "done": done, "sending": None}
                    self._write_state(state)
                    report.error = f"event {record.seq} to {sink_name}: {_describe(exc)}"
                    return False
                done.append(sink_name)  # delivered, or refused for good
            state["delivered"] = record.seq
            state["current"] = None
            self._write_state(state)
            report.delivered += int(sent)  # not one finished by an earlier (crashed) replay
            progressed = True
            if on_delivered is not None:
                on_delivered(record.seq)
        return progressed

    def _reject_record(
        self, record: _Record, sink_name: str, exc: Exception, report: ReplayReport
    ) -> None:
        entry = {"seq": record.seq, "sink": sink_name, "reason": _describe(exc)}
        self._add_entries(_REJECTED, [{**entry, "event": record.event}])
        report.rejected += 1
        report.rejections.append(f"event {record.seq} to {sink_name}: {exc}")

    def _settle_interrupted(self, state: dict[str, Any]) -> int:
        """A send interrupted by a crash: quarantine it rather than risk sending twice."""
        current = state.get("current") or {}
        sink_name = current.get("sending")
        if not sink_name:
            return 0
        event: Mapping[str, Any] | None = None
        for record, _ in self._records(self.folder / _EVENTS):
            if record is not None and record.seq == current["seq"]:
                event = record.event
                break
        entry = {
            "seq": current["seq"],
            "sink": sink_name,
            "reason": "replay was interrupted while sending: the receiver may have it",
            "event": event,
        }
        self._add_entries(_UNCERTAIN, [entry])
        current["done"] = [*current.get("done", []), sink_name]
        current["sending"] = None
        state["current"] = current
        self._write_state(state)
        return 1

    def quarantine(
        self,
        items: Sequence[tuple[Mapping[str, Any], str, str]],
        *,
        token: str | None = None,
        keys: Sequence[str] | None = None,
    ) -> None:
        """Put ``(event, sink, reason)`` straight into the uncertain file (an in-flight send
        abandoned at exit: it may or may not have arrived); ``token`` marks the entries for
        ``settle`` once the send's outcome is known after all; ``keys`` name their journal
        entries (see ``append``)."""
        if not items:
            return
        entries = [_entry(*item) for item in items]
        if token:
            entries = [{**e, "token": token} for e in entries]
        if keys is not None:
            entries = [{**e, "key": key} for e, key in zip(entries, keys, strict=True)]
        self._add_entries(_UNCERTAIN, entries)

    def journal_keys(self) -> set[str]:
        """The journal keys of the records and uncertain entries in the spool."""
        found = {r.key for r, _ in self._records(self.folder / _EVENTS) if r and r.key}
        found.update(str(e["key"]) for e in self._entries(_UNCERTAIN) if e.get("key"))
        return found

    def settle(self, token: str, owed: Sequence[str] = ()) -> bool:
        """The abandoned send quarantined with ``token`` ended after all: drop its uncertain
        entries, and when it certainly failed spool the event again for the ``owed`` sinks
        (a pending record, first, so a crash half-way never loses it). False when it was
        left uncertain: gone already, or a replay is running (it may be re-sending it)."""
        try:
            with self._thread_lock, self._locked("append.lock"):
                fd = os.open(self.folder / "replay.lock", os.O_RDWR | os.O_CREAT, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    return False
                try:
                    entries = self._entries(_UNCERTAIN)
                    mine = [e for e in entries if e.get("token") == token]
                    if not mine:
                        return False
                    if owed:
                        self._append_locked([(mine[0]["event"], list(owed))])
                    self._rewrite(self.folder / _UNCERTAIN, [e for e in entries if e not in mine])
                    return True
                finally:
                    os.close(fd)
        except OSError as exc:
            raise translate(exc, "cannot settle an uncertain event", file=str(self.folder)) from exc

    def reject(self, items: Sequence[tuple[Mapping[str, Any], str, str]]) -> None:
        """Put ``(event, sink, reason)`` into the rejected file (a delivery the sink refused
        for good: sending it again unchanged cannot help)."""
        self._add_entries(_REJECTED, [_entry(*item) for item in items])

    def _resend(self, name: str, sinks: Mapping[str, Sender], report: ReplayReport) -> str | None:
        """Send the entries of a set-aside file again; the error that stopped it, if any.

        Entries for sinks not configured here stay; refused ones go to (or stay in) the
        rejected file; the rest of the file stays as it was from a temporary failure on.
        """
        label = name.removesuffix(".jsonl")
        entries = self._entries(name)
        kept: list[Mapping[str, Any]] = []
        refused: list[Mapping[str, Any]] = []
        unsent: list[Mapping[str, Any]] = []
        error: str | None = None
        for index, entry in enumerate(entries):
            sink = sinks.get(str(entry.get("sink")))
            if sink is None:
                kept.append(entry)  # owed to a sink not configured here
                continue
            if entry.get("event") is None:
                continue  # its record was gone already: nothing to send
            try:
                sink.send(entry["event"])
                report.resent += 1
            except PermanentConnectorError as exc:
                refused.append({**entry, "reason": _describe(exc)})
                report.rejections.append(f"{label} event to {sink.name}: {exc}")
            except Exception as exc:
                error = f"{label} event to {sink.name}: {_describe(exc)}"
                unsent = entries[index:]
                break
        report.rejected += len(refused)
        if name == _REJECTED:
            kept.extend(refused)
        elif refused:
            self._add_entries(_REJECTED, refused)
        self._replace_entries(name, len(entries), [*kept, *unsent])
        return error

    def _compact(self, delivered: int, report: ReplayReport) -> None:
        """Drop delivered records (under the append lock: no append is half-way through)."""
        with self._thread_lock, self._locked("append.lock"):
            path = self.folder / _EVENTS
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                return
            keep: list[bytes] = []
            corrupt: list[bytes] = []
            end = data.rfind(b"\n")
            for raw in data[: end + 1].split(b"\n")[:-1] if end >= 0 else []:
                if not raw.strip():
                    continue
                record = _load(raw)
                if record is None:
                    corrupt.append(raw)
                elif record.seq > delivered:
                    keep.append(raw)
            tail = data[end + 1 :] if end >= 0 else data
            if tail.strip():
                corrupt.append(tail)  # under the append lock a partial line is a dead one
            if corrupt:
                self._append_bytes(self.folder / _CORRUPT, corrupt)
                report.corrupt += len(corrupt)
            _atomic_write(path, b"".join(line + b"\n" for line in keep))

    # -- files ---------------------------------------------------------------------------

    @contextmanager
    def _locked(self, name: str, *, wait: bool = True) -> Iterator[bool]:
        if not self.folder.is_dir():
            os.makedirs(self.folder, 0o700, exist_ok=True)
            os.chmod(self.folder, 0o700)  # makedirs' mode is masked by the umask
        self._check_owner()
        fd = os.open(self.folder / name, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    def _check_owner(self) -> None:
        """Refuse a spool another user owns (the folder or a file in it): they could plant
        events for replay or read ours. The emitter logs the error; the CLI prints it."""
        for path in (self.folder, *self.folder.iterdir()) if self.folder.is_dir() else ():
            with suppress(FileNotFoundError):  # a temporary file renamed meanwhile
                if hasattr(os, "getuid") and (owner := path.lstat().st_uid) != os.getuid():
                    raise PermanentConnectorError(f"spool {path}: owned by uid {owner}; not used")

    def _read_state(self) -> dict[str, Any]:
        try:
            state = json.loads((self.folder / _STATE).read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {"delivered": 0, "current": None}
        if not isinstance(state, dict) or not isinstance(state.get("delivered"), int):
            return {"delivered": 0, "current": None}
        return state

    def _write_state(self, state: Mapping[str, Any]) -> None:
        _atomic_write(self.folder / _STATE, json.dumps(state).encode("utf-8"))

    def _add_entries(self, name: str, entries: Sequence[Mapping[str, Any]]) -> None:
        """Append to a set-aside file (under the append lock: the emitter adds to them)."""
        lines = [json.dumps(e, separators=(",", ":"), default=str).encode() for e in entries]
        with self._thread_lock, self._locked("append.lock"):
            self._append_bytes(self.folder / name, lines)

    def _replace_entries(self, name: str, read: int, entries: Sequence[Mapping[str, Any]]) -> None:
        """Replace the first ``read`` entries of a set-aside file by ``entries``, keeping
        any the emitter added since they were read."""
        with self._thread_lock, self._locked("append.lock"):
            added = self._entries(name)[read:]
            self._rewrite(self.folder / name, [*entries, *added])

    def _append_bytes(self, path: Path, lines: Sequence[bytes]) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            _write_all(fd, b"".join(line + b"\n" for line in lines))
        finally:
            os.close(fd)

    def _rewrite(self, path: Path, entries: Sequence[Mapping[str, Any]]) -> None:
        lines = [json.dumps(e, separators=(",", ":"), default=str) + "\n" for e in entries]
        _atomic_write(path, "".join(lines).encode("utf-8"))


def _load(raw: bytes) -> _Record | None:
    try:
        document = json.loads(raw)
    except ValueError:
        return None
    if (
        not isinstance(document, dict)
        or not isinstance(document.get("seq"), int)
        or not isinstance(document.get("event"), dict)
    ):
        return None
    sinks = document.get("sinks")
    return _Record(
        seq=document["seq"],
        sinks=[str(s) for s in sinks] if isinstance(sinks, list) else [],
        event=document["event"],
        spooled_at=document.get("spooled_at"),
        size=len(raw) + 1,
        key=document["key"] if isinstance(document.get("key"), str) else None,
    )


def _entry(event: Mapping[str, Any], sink: str, reason: str) -> dict[str, Any]:
    return {"seq": None, "sink": sink, "reason": reason, "event": event}
