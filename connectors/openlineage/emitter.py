"""The emitter: a bounded queue and one daemon worker between jobs and event sinks.

The caller's thread only enqueues (``emit`` costs a ``put_nowait``); one worker thread
delivers to the sinks. Nothing on this path raises into the caller, and a slow or dead
backend never slows the caller down:

- a full queue: the event is spooled to disk right away (``EventSpool``, fsync'd);
- a sink that fails or times out (a ``TemporaryConnectorError``, or any exception that is
  not a ``PermanentConnectorError``): the event is spooled for that sink, and the sink's
  circuit opens for ``cooldown`` seconds, during which its events go straight to the spool
  instead of each waiting for a timeout again;
- a sink that refuses the event for good (a ``PermanentConnectorError``: HTTP 400 or 401,
  a malformed event, no permission to write): the event is not spooled for that sink,
  since every replay would be refused the same way; it is counted (``rejected``), logged
  as an error once per distinct reason, and kept in the spool's ``rejected.jsonl``
  (``replay(include_rejected=True)`` sends it again once the cause is fixed). The
  circuit stays closed: the sink answered, and the next event may be fine;
- ``flush(timeout)`` waits a bounded time for the queue to drain; ``close`` (run at exit)
  flushes, then spools whatever is left. An event whose send is still in flight when the
  time is up may or may not have arrived: it goes to the spool's *uncertain* file rather
  than being sent twice.

``lineage events replay`` (``EventSpool.replay``) delivers spooled events later.

With a ``journal`` (``connectors.openlineage.journal``), ``emit`` first appends the event
to it (one ``write``: a killed process loses nothing), the worker marks each send there,
and an event is *settled* once delivered everywhere or kept by the spool. With
``replay_on_start`` the worker also delivers, in the background and in small batches
between live events, what earlier processes left: the spool and their journals (one
process at a time: ``replay.lock``; another process already at it is left to it).

After ``fork()`` the child starts with an empty queue and its own worker (the parent's
queued events stay the parent's to deliver), and sinks drop inherited connections.
"""

from __future__ import annotations

import atexit
import errno
import os
import queue
import threading
import time
import uuid
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from connectors.classify import chain
from connectors.openlineage.errors import certainly_not_delivered
from connectors.openlineage.journal import Journal, JournalRef
from connectors.openlineage.sinks import EventSink
from connectors.openlineage.spool import EventSpool
from lineage.errors import ConnectorError, PermanentConnectorError
from lineage.model import redacted_logger

__all__ = ["Emitter", "EmitterStats"]

log = redacted_logger("connectors.openlineage")

_STOP = object()  # tells the worker to exit
_SPOOL_BATCH = 512  # events moved to the spool in one fsync'd append while circuits are open
_GRACE = 1.0  # extra seconds close() gives a send in flight when the flush timed out
_REPORTED_LIMIT = 100  # distinct refusals logged as errors; later ones only at debug level
_REPLAY_STEP = 256  # spooled events replayed at start between batches of live events
_LIVE_STEP = 256  # live events delivered between two replay steps

#: An event with its journal entry (None: not journaled), and the sinks still owed it.
_Item = tuple[Mapping[str, Any], Sequence[str], "JournalRef | None"]


@dataclass(frozen=True)
class EmitterStats:
    """Counts since the emitter started (events x sinks for ``delivered`` and ``rejected``:
    deliveries a sink refused for good, not spooled)."""

    delivered: int
    spooled: int
    quarantined: int
    dropped: int
    queued: int
    rejected: int = 0


class Emitter:
    """Delivers events to ``sinks`` from a background thread, spooling what fails."""

    def __init__(
        self,
        sinks: Sequence[EventSink],
        spool: EventSpool | None = None,
        *,
        queue_size: int = 10_000,
        cooldown: float = 5.0,
        exit_timeout: float = 5.0,
        register_atexit: bool = True,
        journal: Journal | None = None,
        replay_on_start: bool = False,
    ) -> None:
        """
        Args:
            sinks: where events go, in order (each event is sent to each sink).
            spool: where undeliverable events wait; None drops them (logged).
            queue_size: events held in memory before the caller's thread spools instead.
            cooldown: seconds a failed sink is skipped (its events spooled) before a retry.
            exit_timeout: how long ``close`` at interpreter exit waits for the queue.
            register_atexit: close (flush, then spool leftovers) at interpreter exit.
            journal: where each event is written before ``emit`` returns (None: memory).
            replay_on_start: the worker delivers what earlier processes left (the spool,
                their journals) in the background, between live events.
        """
        self.sinks = list(sinks)
        self.spool = spool
        self.journal = journal
        self.replay_on_start = replay_on_start and spool is not None
        self.queue_size = queue_size
        self.cooldown = cooldown
        self.exit_timeout = exit_timeout
        self._counts = dict.fromkeys(
            ("delivered", "spooled", "quarantined", "dropped", "rejected"), 0
        )
        self._reported: set[tuple[str, str]] = set()
        self._set_aside_warned = False
        self._fell_back = False
        self._lost_reported = False
        self._registered = register_atexit
        self._reset()
        _instances.add(self)
        if register_atexit:
            atexit.register(self._at_exit)

    def _reset(self) -> None:
        """Fresh queue, locks and worker state (at start and in a forked child)."""
        self._pid = os.getpid()
        self._queue: queue.Queue[Any] = queue.Queue(self.queue_size)
        self._start_lock = threading.Lock()
        # Guards the hand-over between the worker and close(): which event is in flight,
        # to which sink, and whether close() has taken over the rest.
        self._state_lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._current: _InFlight | None = None
        self._abandoned = False
        self._closed = False
        self._open_until: dict[str, float] = {}
        self._count_lock = threading.Lock()

    # -- the hot path --------------------------------------------------------------------

    def emit(self, event: Mapping[str, Any]) -> None:
        """Queue ``event`` for delivery; never raises, never blocks on a backend."""
        if self._pid != os.getpid():
            self._after_fork()
        if self._closed:
            self._spool([(event, self._sink_names(), None)])
            return
        # On disk before we return: a process killed from here on loses nothing.
        ref = self.journal.append(event) if self.journal is not None else None
        if self._worker is None:
            self._start()
        try:
            self._queue.put_nowait((event, ref))
        except queue.Full:
            # The backend is slower than the jobs: keep the event on disk, not in memory.
            self._spool([(event, self._sink_names(), ref)])

    def _start(self) -> None:
        with self._start_lock:
            if self._worker is None:
                worker = threading.Thread(
                    target=self._work, name="silverline-openlineage", daemon=True
                )
                worker.start()
                self._worker = worker

    def _after_fork(self) -> None:
        self._reset()
        if self.journal is not None:
            self.journal.after_fork()
        for sink in self.sinks:
            hook = getattr(sink, "after_fork", None)
            if callable(hook):
                try:
                    hook()
                except Exception:  # never let a sink's clean-up hurt the child
                    log.debug("after_fork of sink %s failed", sink.name, exc_info=True)

    # -- the worker ----------------------------------------------------------------------

    def _work(self) -> None:
        replaying, live = self.replay_on_start, 0
        while True:
            if replaying and (live >= _LIVE_STEP or self._queue.empty()):
                replaying, live = self._replay_step(), 0
                continue
            item = self._queue.get()
            live += 1
            if item is _STOP:
                self._queue.task_done()
                return
            event, ref = item
            try:
                if self._all_open():
                    self._spool_backlog(event, ref)
                else:
                    self._deliver(event, ref)
            except Exception:  # the worker must survive anything a sink does
                log.exception("OpenLineage event delivery failed unexpectedly")
            finally:
                self._queue.task_done()

    def _replay_step(self) -> bool:
        """Deliver some of what earlier processes left; False once there is no more (or
        a sink failed, or another process is replaying: it is left to that one)."""
        if self._closed or self.spool is None:
            return False
        try:
            names = {sink.name: sink for sink in self.sinks}
            report = self.spool.replay(names, limit=_REPLAY_STEP, wait=False)
        except Exception as exc:  # never let the replay hurt the live events
            log.info("OpenLineage: the spool of earlier runs was not replayed: %s", exc)
            return False
        if report.delivered:
            log.info("OpenLineage: %d event(s) left by earlier runs delivered", report.delivered)
        if report.error is not None:
            log.info("OpenLineage: earlier runs' events wait in the spool: %s", report.error)
            return False
        return not report.busy and report.delivered > 0 and report.remaining > 0

    def _deliver(self, event: Mapping[str, Any], ref: JournalRef | None = None) -> None:
        flight = _InFlight(event, ref)
        journal = self.journal
        for sink in self.sinks:
            with self._state_lock:
                if self._abandoned:
                    return
                self._current = flight  # from now on close() accounts for this event
                if self._open_until.get(sink.name, 0.0) > time.monotonic():
                    flight.failed.append(sink.name)
                    continue
                flight.sending = sink.name
            if journal is not None:
                journal.sending(ref, sink.name)
            error: Exception | None = None
            try:
                sink.send(event)
                outcome = flight.done
                self._open_until.pop(sink.name, None)
            except PermanentConnectorError as exc:
                outcome, error = flight.rejected, exc
                self._reject(event, sink.name, exc)
            except Exception as exc:
                outcome, error = flight.failed, exc
                self._opened(sink.name, exc)
            # The last sink delivered, none failed: the settle right after says it all.
            last = outcome is flight.done and sink is self.sinks[-1] and not flight.failed
            if journal is not None and not last:
                journal.answered(ref, sink.name, owed=outcome is flight.failed)
            with self._state_lock:
                if self._abandoned:  # close() has already accounted for this event
                    self._settle_abandoned(flight, sink.name, error)
                    return
                outcome.append(sink.name)
                flight.sending = None
        with self._state_lock:
            if self._abandoned:
                return
            self._count("delivered", len(flight.done))
            if not flight.failed:
                self._settle([ref])
            else:
                self._spool([(event, flight.failed, ref)])
            self._current = None

    def _settle_abandoned(self, flight: _InFlight, name: str, error: Exception | None) -> None:
        """The send close() quarantined as uncertain ended after all (under the state lock,
        so after close() filed it): delivered or refused for good, it leaves the uncertain
        file; certainly not delivered (an error status, a refused connection), it becomes
        a pending record for ``name`` again. A timeout or an unknown failure stays."""
        if flight.token is None or self.spool is None:
            return  # not quarantined: nothing on disk to correct
        owed: list[str] = []
        if error is not None and not isinstance(error, PermanentConnectorError):
            if not certainly_not_delivered(error):
                return  # it may have arrived: it stays uncertain
            owed = [name]
        try:
            if not self.spool.settle(flight.token, owed):
                return
        except (ConnectorError, OSError) as exc:
            log.debug("settling the in-flight event failed: %s", exc)
            return
        self._count("quarantined", -1)  # a refusal was counted as rejected already
        if owed or error is None:
            self._count("spooled" if owed else "delivered", 1)
        log.info(
            "OpenLineage: the event in flight at exit %s",
            "certainly failed: spooled for replay" if owed else "is no longer uncertain",
        )

    def _spool_backlog(self, first: Mapping[str, Any], ref: JournalRef | None = None) -> None:
        """Every sink is cooling down: move queued events to the spool in one append."""
        names = self._sink_names()
        with self._state_lock:
            if self._abandoned:
                return
            items: list[_Item] = [(first, names, ref)]
            stop = False
            while len(items) < _SPOOL_BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stop = True
                    break
                items.append((item[0], names, item[1]))
            self._spool(items)
            for _ in items[1:]:
                self._queue.task_done()
            if stop:
                self._queue.put_nowait(_STOP)
                self._queue.task_done()

    def _all_open(self) -> bool:
        now = time.monotonic()
        return bool(self.sinks) and all(
            self._open_until.get(sink.name, 0.0) > now for sink in self.sinks
        )

    def _opened(self, name: str, exc: Exception) -> None:
        was_open = name in self._open_until
        self._open_until[name] = time.monotonic() + self.cooldown
        if not was_open:  # one warning per outage, not one per event
            log.warning(
                "OpenLineage sink %s failed (%s); events are spooled for `lineage events "
                "replay`, retrying the sink in %.0f s",
                name,
                exc,
                self.cooldown,
            )

    def _reject(self, event: Mapping[str, Any], name: str, exc: PermanentConnectorError) -> None:
        """A sink refused ``event`` for good: count it, say so, keep it aside (not spooled)."""
        self._count("rejected", 1)
        kept = ""
        if self.spool is not None:
            try:
                self.spool.reject([(event, name, str(exc))])
                kept = f"; kept in {self.spool.folder / 'rejected.jsonl'}"
            except (ConnectorError, OSError) as error:
                kept = f"; not kept: {error}"
        key = (name, exc.message)
        if self.spool is not None and kept.startswith("; not kept"):
            kept = self._keep_aside("reject", [(event, name, str(exc))]) or kept
        if key in self._reported or len(self._reported) >= _REPORTED_LIMIT:
            log.debug("OpenLineage sink %s refused an event: %s%s", name, exc, kept)
            return
        self._reported.add(key)
        log.error(
            "OpenLineage sink %s refused an event: %s. Retrying cannot help, so it is not "
            "spooled%s (once the cause is fixed, a replay with include_rejected=True sends "
            "such events again)",
            name,
            exc,
            kept,
        )

    def _sink_names(self) -> list[str]:
        return [sink.name for sink in self.sinks]

    def _settle(self, refs: Sequence[JournalRef | None]) -> None:
        if self.journal is not None:
            self.journal.settle(refs)

    def _spool(self, items: Sequence[_Item]) -> None:
        """Spool ``(event, sinks owed, journal ref)``; settled in the journal once kept
        (an event no spool could keep stays in the journal for the next start)."""
        if self.spool is None:
            self._count("dropped", len(items))
            log.error("OpenLineage: %d event(s) lost: no spool configured", len(items))
            return
        pairs = [(event, owed) for event, owed, _ in items]
        keys = self._keys(items)
        try:
            self.spool.append(pairs, keys=keys)
            self._count("spooled", len(items))
            self._settle([ref for *_, ref in items])
            return
        except ConnectorError as exc:
            error = exc
        fallback = self.spool.fallback
        if fallback is not None and _unwritable(error):
            try:
                fallback.append(pairs, keys=keys)
                self._count("spooled", len(items))
                self._settle([ref for *_, ref in items])
                if not self._fell_back:  # one warning, not one per event
                    self._fell_back = True
                    log.warning(
                        "OpenLineage: the spool %s cannot be written (%s); events are spooled "
                        "in %s instead (`lineage events replay` delivers both)",
                        self.spool.folder,
                        error,
                        fallback.folder,
                    )
                return
            except ConnectorError as exc:
                error = exc
        self._count("dropped", len(items))
        if self.journal is not None and any(ref is not None for *_, ref in items):
            log.debug("OpenLineage: %d event(s) stay in the journal for the next start", len(items))
        if not self._lost_reported:
            self._lost_reported = True
            log.error("OpenLineage: %d event(s) lost: %s", len(items), error)
        else:
            log.debug("OpenLineage: %d event(s) lost: %s", len(items), error)

    @staticmethod
    def _keys(items: Sequence[_Item]) -> list[str | None] | None:
        if all(ref is None for *_, ref in items):
            return None
        return [None if ref is None else f"{ref[0].name}:{ref[1]}" for *_, ref in items]

    def _keep_aside(
        self,
        kind: str,
        items: Sequence[tuple[Mapping[str, Any], str, str]],
        token: str | None = None,
    ) -> str | None:
        """The spool could not keep an uncertain or rejected delivery: the fallback spool
        keeps it (counted with the spooled ones, said once); where it went, or None."""
        fallback = self.spool.fallback if self.spool is not None else None
        if fallback is None:
            return None
        try:
            if kind == "reject":
                fallback.reject(items)
            else:
                fallback.quarantine(items, token=token)
        except (ConnectorError, OSError) as exc:
            log.debug("OpenLineage: the fallback spool cannot keep it either: %s", exc)
            return None
        if not self._set_aside_warned:
            self._set_aside_warned = True
            log.warning(
                "OpenLineage: the spool %s cannot be written; %s deliveries are kept in %s",
                self.spool.folder if self.spool is not None else None,
                "rejected" if kind == "reject" else "uncertain",
                fallback.folder,
            )
        name = "rejected.jsonl" if kind == "reject" else "uncertain.jsonl"
        return f"; kept in {fallback.folder / name}"

    def _count(self, name: str, value: int) -> None:
        with self._count_lock:
            self._counts[name] += value

    # -- flushing and closing ------------------------------------------------------------

    @property
    def stats(self) -> EmitterStats:
        with self._count_lock:
            return EmitterStats(queued=self._queue.qsize(), **self._counts)

    def flush(self, timeout: float | None = 5.0) -> bool:
        """Wait until every queued event is delivered or spooled; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        done = self._queue.all_tasks_done
        with done:
            while self._queue.unfinished_tasks:
                if deadline is None:
                    done.wait()
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                done.wait(remaining)
        return True

    def close(self, timeout: float = 5.0) -> bool:
        """Flush for at most ``timeout`` s, spool what is left, stop the worker.

        Returns True when everything was delivered or spooled without abandoning a send.
        Events emitted afterwards go straight to the spool.
        """
        if self._closed:
            return True
        flushed = self.flush(timeout)
        if not flushed and self._current is not None and self._current.sending is not None:
            flushed = self.flush(min(_GRACE, timeout))  # a send about to end: let it settle
        with self._state_lock:
            self._abandoned = True
            self._closed = True
            leftovers: list[_Item] = []
            while True:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                self._queue.task_done()
                if item is not _STOP:
                    leftovers.append((item[0], self._sink_names(), item[1]))
            uncertain: list[tuple[Mapping[str, Any], str, str]] = []
            flight, self._current = self._current, None
            if flight is not None:
                settled = {*flight.done, *flight.failed, *flight.rejected, flight.sending}
                owed = [*flight.failed, *(s.name for s in self.sinks if s.name not in settled)]
                if flight.sending is not None:
                    reason = "still being sent when the process exited"
                    uncertain.append((flight.event, flight.sending, reason))
                if owed:  # settled with the leftovers unless it is also uncertain
                    leftovers.insert(0, (flight.event, owed, None if uncertain else flight.ref))
                elif not uncertain:
                    self._settle([flight.ref])
            if leftovers:
                self._spool(leftovers)
            if uncertain and self.spool is not None and flight is not None:
                token = uuid.uuid4().hex
                try:
                    self.spool.quarantine(uncertain, token=token)
                    kept = True
                except (ConnectorError, OSError) as exc:
                    kept = self._keep_aside("quarantine", uncertain, token) is not None
                    if not kept:
                        log.error("OpenLineage: in-flight event not kept: %s", exc)
                if kept:
                    flight.token = token  # the worker settles it if the send ends in time
                    self._count("quarantined", len(uncertain))
                    self._settle([flight.ref])
        if self._worker is not None and self._worker.is_alive():
            self._queue.put_nowait(_STOP)
            if not uncertain:
                self._worker.join(timeout=1.0)
        if not uncertain:  # a sink still busy in the worker is not closed under it
            for sink in self.sinks:
                try:
                    sink.close()
                except Exception:
                    log.debug("closing sink %s failed", sink.name, exc_info=True)
        if self.journal is not None and (left := self.journal.close()):
            log.warning(
                "OpenLineage: %d event(s) could not be delivered or spooled; they stay in the "
                "journal %s for the next start or `lineage events replay`",
                left,
                self.journal.folder,
            )
        if self._lost_reported and (dropped := self.stats.dropped) > 1:
            log.error("OpenLineage: %d event(s) lost in all (no spool could keep them)", dropped)
        if self._registered:
            atexit.unregister(self._at_exit)
            self._registered = False
        return flushed and not uncertain

    def _at_exit(self) -> None:
        try:
            self.close(self.exit_timeout)
        except Exception:  # nothing may fail at interpreter exit
            log.debug("closing the OpenLineage emitter failed", exc_info=True)


@dataclass
class _InFlight:
    """The event the worker is delivering, for close() to account for: the sinks that got
    it, failed (owed it), refused it for good, and the one it is being sent to."""

    event: Mapping[str, Any]
    ref: JournalRef | None = None
    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    sending: str | None = None
    token: str | None = None  # set when close() quarantined the send in flight


# Right after fork() the child resets every emitter: its copy of the queue holds the
# parent's events (the parent delivers those) and its worker thread does not exist.
_instances: weakref.WeakSet[Emitter] = weakref.WeakSet()


def _reset_after_fork() -> None:
    for emitter in list(_instances):
        emitter._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


# The spool folder cannot be written: the fallback spool can help (not another user's
# folder, which is refused without an OSError, nor a malformed event).
_UNWRITABLE = frozenset(
    {
        errno.EACCES,
        errno.EPERM,
        errno.EROFS,
        errno.ENOTDIR,
        errno.EEXIST,
        errno.ENOSPC,
        errno.EDQUOT,
    }
)


def _unwritable(exc: BaseException) -> bool:
    return any(isinstance(e, OSError) and e.errno in _UNWRITABLE for e in chain(exc))
