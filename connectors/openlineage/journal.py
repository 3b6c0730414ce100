"""The journal: every event on disk before ``emit`` returns, so a killed process loses none.

The emitter (``connectors.openlineage.emitter``) appends each event to the journal on the
caller's thread (one ``write`` of one line: it survives ``kill -9`` and an OOM kill, since
the kernel keeps the page), then queues it; the worker marks what happened to it. A
background thread ``fsync``s the journal every ``fsync_interval`` seconds (power loss
costs at most that much). Layout, under ``<spool>/journal/``::

    <pid>-<token>-<n>.jsonl   a segment: a header line {"journal": 1, "sinks": [...]},
                              then {"i": <index>, "event": {...}} per event
    <pid>-<token>-<n>.marks   what the worker did, one short line per step:
                              "S i k" sending entry i to sink k (index into the header's
                              sinks), "D i k" sink k answered (delivered, or refused for
                              good and kept in rejected.jsonl), "F i k" sink k failed
                              (owed), "X i" settled: delivered everywhere or handed to the
                              spool (which is fsync'd and crash-safe itself)

A process holds an exclusive ``flock`` on each segment it writes, for as long as it lives.
A segment is removed once every entry in it is settled (segments rotate every
``segment_size`` events, so a long-lived process never grows one without bound); a
segment nobody holds a lock on belongs to a process that died (or closed without being
able to settle everything). ``recover`` moves its unsettled entries into the spool:

- an entry with no mark, or whose sinks failed: a pending spool record for the sinks
  still owed it (``lineage events replay`` delivers it once);
- a sink marked "sending" without an answer: the process died while sending, so the
  receiver may have it: it goes to ``uncertain.jsonl`` for that sink, never re-sent
  silently (``--include-uncertain`` does, knowingly);
- a half-written last line (the process died inside ``write``) is skipped and counted,
  never delivered garbled.

``recover`` runs only under the spool's ``replay.lock`` (``EventSpool.replay`` calls it
first), and tags every record it writes with a key ``<segment>:<index>``: if it dies half
way, the next one skips the keys already in the spool, so nothing is moved twice (no
replay can compact them away in between: compaction also needs ``replay.lock``).
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lineage.model import redacted_logger

if TYPE_CHECKING:
    from connectors.openlineage.spool import EventSpool

__all__ = ["JOURNAL_FOLDER", "Journal", "JournalRef", "Recovered", "pending_count", "recover"]

log = redacted_logger("connectors.openlineage")

JOURNAL_FOLDER = "journal"
# One encoder, built once: json.dumps with options builds a new one per call.
_ENCODER = json.JSONEncoder(separators=(",", ":"), default=str, check_circular=False)


class _Segment:
    """One segment file being written by this process, and its marks file."""

    def __init__(self, folder: Path, name: str, sinks: Sequence[str]) -> None:
        self.name = name
        self.path = folder / f"{name}.jsonl"
        self.marks_path = folder / f"{name}.marks"
        self.fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # ours while we live
            self.marks_fd = os.open(self.marks_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        except BaseException:
            os.close(self.fd)
            raise
        header = {"journal": 1, "sinks": list(sinks), "pid": os.getpid()}
        _write(self.fd, (json.dumps(header) + "\n").encode())
        self.written = 0
        self.settled: set[int] = set()
        self.full = False  # no more appends: removed once every entry is settled
        self.closed = False

    def remove(self) -> None:
        """Every entry is settled: the segment is no longer needed."""
        self.close()
        for path in (self.path, self.marks_path):  # the data first: marks alone mean nothing
            with suppress(FileNotFoundError):
                os.unlink(path)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            os.close(self.marks_fd)
            os.close(self.fd)  # releases the lock: what is left is recoverable


#: An event's place in the journal, handed from ``append`` to the marks.
JournalRef = tuple[_Segment, int]


class Journal:
    """The append-only, per-process journal of one spool folder (see the module doc)."""

    def __init__(
        self,
        folder: str | os.PathLike[str],
        sinks: Sequence[str],
        *,
        fallback: str | os.PathLike[str] | None = None,
        segment_size: int = 10_000,
        fsync_interval: float = 0.5,
    ) -> None:
        """
        Args:
            folder: the journal folder (``<spool>/journal``).
            sinks: the sink names, in the emitter's order (marks refer to their index).
            fallback: the journal folder to use when ``folder`` cannot be written.
            segment_size: events per segment before the next one is started.
            fsync_interval: seconds between the background ``fsync``s.
        """
        self.folder = Path(folder)
        self.fallback = Path(fallback) if fallback is not None else None
        self.sinks = list(sinks)
        self._index = {name: i for i, name in enumerate(self.sinks)}
        self.segment_size = segment_size
        self.fsync_interval = fsync_interval
        self._reset()

    def _reset(self) -> None:
        self._lock = threading.Lock()  # appends and segments; then, nested, the marks'
        self._marks_lock = threading.Lock()  # the worker's marks never wait for appends
        self._current: _Segment | None = None
        self._open: list[_Segment] = []
        self._serial = 0
        self._token = uuid.uuid4().hex[:12]
        self._disabled = False
        self._dirty = False
        self._stop = threading.Event()
        self._syncer: threading.Thread | None = None

    # -- the caller's thread -------------------------------------------------------------

    def append(self, event: Mapping[str, Any]) -> JournalRef | None:
        """Write ``event`` as one line; its ref, or None when the journal cannot keep it
        (the emitter then works as without a journal: memory, then the spool)."""
        try:
            body = _ENCODER.encode(event)
        except (TypeError, ValueError, RecursionError):
            return None
        with self._lock:
            segment = self._current
            if segment is None:
                if self._disabled:
                    return None
                segment = self._new_segment()
                if segment is None:
                    return None
            index = segment.written
            try:
                _write(segment.fd, f'{{"i":{index},"event":{body}}}\n'.encode())
            except OSError as exc:
                self._give_up(exc)
                return None
            segment.written = index + 1
            self._dirty = True
            if segment.written >= self.segment_size:
                segment.full = True
                self._current = None  # the next append starts a new segment
        return segment, index

    def _new_segment(self) -> _Segment | None:
        """Open the next segment (under the lock), in the fallback folder if need be."""
        self._serial += 1
        name = f"{os.getpid()}-{self._token}-{self._serial}"
        error: OSError | None = None
        for folder in (self.folder, self.fallback):
            if folder is None:
                continue
            try:
                _make_folder(folder)
                segment = _Segment(folder, name, self.sinks)
            except OSError as exc:
                error = error or exc
                continue
            if folder != self.folder and not self._open:
                log.warning(
                    "OpenLineage: the journal %s cannot be written (%s); using %s",
                    self.folder,
                    error,
                    folder,
                )
            self._current = segment
            self._open.append(segment)
            self._start_syncer()
            return segment
        self._give_up(error)
        return None

    def _give_up(self, error: BaseException | None) -> None:
        if not self._disabled:
            self._disabled = True
            self._current = None
            log.warning(
                "OpenLineage: the journal cannot be written (%s); events wait in memory until "
                "delivered or spooled, and a killed process loses them",
                error,
            )

    # -- the worker's marks --------------------------------------------------------------

    def sending(self, ref: JournalRef | None, sink: str) -> None:
        """``sink`` is about to get the event: if we die now, it may or may not have it."""
        if ref is not None:
            self._mark(ref, f"S {ref[1]} {self._index.get(sink, -1)}\n")

    def answered(self, ref: JournalRef | None, sink: str, *, owed: bool = False) -> None:
        """``sink`` answered: delivered or refused for good, or failed (``owed``)."""
        if ref is not None:
            self._mark(ref, f"{'F' if owed else 'D'} {ref[1]} {self._index.get(sink, -1)}\n")

    def settle(self, refs: Sequence[JournalRef | None]) -> None:
        """These events are delivered everywhere or kept by the spool: done with them."""
        done: list[_Segment] = []
        with self._lock, self._marks_lock:
            for ref in refs:
                if ref is None:
                    continue
                segment, index = ref
                if segment.closed or index in segment.settled:
                    continue
                segment.settled.add(index)
                if not self._write_mark(segment, f"X {index}\n"):
                    continue
                if segment.full and len(segment.settled) >= segment.written:
                    done.append(segment)
            for segment in done:
                self._open.remove(segment)
                with suppress(OSError):
                    segment.remove()

    def _mark(self, ref: JournalRef, line: str) -> None:
        with self._marks_lock:
            if not ref[0].closed:  # a closed segment's descriptor may be another file's now
                self._write_mark(ref[0], line)

    def _write_mark(self, segment: _Segment, line: str) -> bool:
        try:
            os.write(segment.marks_fd, line.encode())
        except OSError as exc:
            log.debug("OpenLineage: journal mark not written: %s", exc)
            return False
        self._dirty = True
        return True

    # -- durability, closing, fork -------------------------------------------------------

    def _start_syncer(self) -> None:
        if self._syncer is None and self.fsync_interval > 0:
            self._syncer = threading.Thread(
                target=self._sync_loop, name="silverline-journal-fsync", daemon=True
            )
            self._syncer.start()

    def _sync_loop(self) -> None:
        while not self._stop.wait(self.fsync_interval):
            self.sync()

    def sync(self) -> None:
        """``fsync`` what was written since the last time (power loss, not a kill)."""
        with self._lock:
            if not self._dirty:
                return
            self._dirty = False
            # Outside the lock: an fsync may take milliseconds, appends must not wait.
            fds = [fd for s in self._open if not s.closed for fd in (s.fd, s.marks_fd)]
        for fd in fds:
            with suppress(OSError):  # closed meanwhile: the segment was settled and removed
                os.fsync(fd)

    def close(self) -> int:
        """Sync, remove the fully settled segments, release the others (recoverable by the
        next start or ``lineage events replay``); the number of unsettled entries left."""
        self._stop.set()
        self.sync()
        left = 0
        with self._lock, self._marks_lock:
            for segment in self._open:
                unsettled = segment.written - len(segment.settled)
                with suppress(OSError):
                    if unsettled:
                        os.fsync(segment.fd)
                        os.fsync(segment.marks_fd)
                        segment.close()
                    else:
                        segment.remove()
                left += unsettled
            self._open = []
            self._current = None
            self._disabled = True  # emitting after close goes straight to the spool
        return left

    def after_fork(self) -> None:
        """In a forked child: the parent's segments stay the parent's (and its locks)."""
        for segment in self._open:
            segment.closed = True
            with suppress(OSError):
                os.close(segment.marks_fd)
                os.close(segment.fd)  # the parent's descriptor keeps its lock
        self._reset()


# -- recovery (under the spool's replay.lock) ----------------------------------------------


@dataclass
class Recovered:
    """What ``recover`` moved from the journal of dead processes into the spool."""

    pending: int = 0
    uncertain: int = 0
    corrupt: int = 0
    segments: int = 0


def recover(spool: EventSpool) -> Recovered:
    """Move the unsettled entries of segments no live process holds into ``spool``.

    The caller holds the spool's ``replay.lock``.
    """
    found = Recovered()
    folder = spool.folder / JOURNAL_FOLDER
    if not folder.is_dir():
        return found
    known: set[str] | None = None
    for path in sorted(folder.glob("*.jsonl")):
        fd = _lock_orphan(path)
        if fd is None:
            continue  # its process is alive and writing it
        try:
            pending, uncertain, corrupt = _unsettled(path)
            if pending or uncertain:
                known = spool.journal_keys() if known is None else known
                pending = [item for item in pending if item[0] not in known]
                uncertain = [item for item in uncertain if item[0] not in known]
                spool.append(
                    [(event, owed) for _, event, owed in pending],
                    keys=[key for key, _, _ in pending],
                )
                spool.quarantine(
                    [(event, sink, reason) for _, event, sink, reason in uncertain],
                    keys=[key for key, _, _, _ in uncertain],
                )
                known.update(item[0] for item in pending)
                known.update(item[0] for item in uncertain)
            found.pending += len(pending)
            found.uncertain += len(uncertain)
            found.corrupt += corrupt
            found.segments += 1
            for stale in (path, path.with_suffix(".marks")):
                with suppress(FileNotFoundError):
                    os.unlink(stale)
        finally:
            os.close(fd)
    for marks in folder.glob("*.marks"):  # a crash between the two unlinks
        if not marks.with_suffix(".jsonl").exists():
            with suppress(FileNotFoundError):
                os.unlink(marks)
    if found.pending or found.uncertain or found.corrupt:
        log.info(
            "OpenLineage: %d event(s) of stopped processes moved from the journal to the spool"
            " (%d uncertain, %d cut short and skipped)",
            found.pending,
            found.uncertain,
            found.corrupt,
        )
    return found


def pending_count(spool_folder: Path) -> int:
    """Unsettled entries in segments of stopped processes (for ``lineage events status``)."""
    folder = spool_folder / JOURNAL_FOLDER
    total = 0
    for path in sorted(folder.glob("*.jsonl")) if folder.is_dir() else ():
        fd = _lock_orphan(path, shared=True)
        if fd is None:
            continue
        try:
            pending, uncertain, _ = _unsettled(path)
            total += len(pending) + len(uncertain)
        finally:
            os.close(fd)
    return total


_READER_WAIT_S = 1.0  # how long recovery waits for a status read to finish with a segment


def _lock_orphan(path: Path, *, shared: bool = False) -> int | None:
    """A descriptor holding the lock of a segment no live process writes, else None.

    Readers (``pending_count``) take it shared; recovery exclusive. A live writer holds
    its segment exclusively for its whole life, so a shared lock that cannot be had means
    a writer; an exclusive one that cannot be had while a shared one can means only a
    reader, which is done in milliseconds: recovery waits for it rather than leave the
    segment to a later start.
    """
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    deadline = time.monotonic() + (0 if shared else _READER_WAIT_S)
    try:
        while True:
            try:
                fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if shared or time.monotonic() >= deadline or _written(path):
                    raise
                time.sleep(0.01)
        if os.fstat(fd).st_nlink == 0:  # removed by its owner while we waited
            raise BlockingIOError
    except OSError:
        os.close(fd)
        return None
    return fd


def _written(path: Path) -> bool:
    """Whether a live process holds ``path`` exclusively (a writer, not a reader)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


_Pending = tuple[str, Mapping[str, Any], list[str]]
_Uncertain = tuple[str, Mapping[str, Any], str, str]


def _unsettled(path: Path) -> tuple[list[_Pending], list[_Uncertain], int]:
    """The entries of a segment not settled, by what their marks say; and how many lines
    were cut short (a complete line that does not parse, or the unterminated last one)."""
    lines = path.read_bytes().split(b"\n")
    corrupt = int(bool(lines[-1].strip()))  # no newline yet: the write never finished
    header: Any = None
    entries: dict[int, Mapping[str, Any]] = {}
    for raw in lines[:-1]:
        try:
            document = json.loads(raw)
        except ValueError:
            corrupt += 1
            continue
        if header is None and isinstance(document, dict) and "journal" in document:
            header = document
        elif isinstance(document, dict) and isinstance(document.get("i"), int):
            if isinstance(document.get("event"), dict):
                entries[document["i"]] = document["event"]
            else:
                corrupt += 1
        else:
            corrupt += 1
    sinks = [str(s) for s in header.get("sinks", [])] if isinstance(header, dict) else []
    settled, states = _read_marks(path.with_suffix(".marks"))
    pending: list[_Pending] = []
    uncertain: list[_Uncertain] = []
    for index in sorted(entries):
        if index in settled:
            continue
        key = f"{path.stem}:{index}"
        owed: list[str] = []
        for position, sink in enumerate(sinks):
            state = states.get((index, position))
            if state == "S":
                reason = "the process stopped while sending it: the receiver may have it"
                uncertain.append((f"{key}:{sink}", entries[index], sink, reason))
            elif state != "D":
                owed.append(sink)
        if owed:
            pending.append((key, entries[index], owed))
    return pending, uncertain, corrupt


def _read_marks(path: Path) -> tuple[set[int], dict[tuple[int, int], str]]:
    settled: set[int] = set()
    states: dict[tuple[int, int], str] = {}
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return settled, states
    for raw in data.split(b"\n")[:-1] if data else ():  # the last piece has no newline yet
        parts = raw.split()
        try:
            if parts[0] == b"X" and len(parts) == 2:
                settled.add(int(parts[1]))
            elif parts[0] in (b"S", b"D", b"F") and len(parts) == 3:
                states[(int(parts[1]), int(parts[2]))] = parts[0].decode()
        except (IndexError, ValueError):
            continue  # never written whole: ignored
    return settled, states


def _make_folder(folder: Path) -> None:
    if not folder.is_dir():
        os.makedirs(folder, 0o700, exist_ok=True)
        os.chmod(folder, 0o700)  # makedirs' mode is masked by the umask


def _write(fd: int, data: bytes) -> None:
    """One ``write`` in the usual case; the rest if the kernel wrote less."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
