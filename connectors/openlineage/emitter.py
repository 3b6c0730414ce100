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

After ``fork()`` the child starts with an empty queue and its own worker (the parent's
queued events stay the parent's to deliver), and sinks drop inherited connections.
"""

from __future__ import annotations

import atexit
import errno
import logging
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
from connectors.openlineage.sinks import EventSink
from connectors.openlineage.spool import EventSpool
from lineage.errors import ConnectorError, PermanentConnectorError

__all__ = ["Emitter", "EmitterStats"]

log = logging.getLogger("connectors.openlineage")

_STOP = object()  # tells the worker to exit
_SPOOL_BATCH = 512  # events moved to the spool in one fsync'd append while circuits are open
_GRACE = 1.0  # extra seconds close() gives a send in flight when the flush timed out
_REPORTED_LIMIT = 100  # distinct refusals logged as errors; later ones only at debug level


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
    ) -> None:
        """
        Args:
            sinks: where events go, in order (each event is sent to each sink).
            spool: where undeliverable events wait; None drops them (logged).
            queue_size: events held in memory before the caller's thread spools instead.
            cooldown: seconds a failed sink is skipped (its events spooled) before a retry.
            exit_timeout: how long ``close`` at interpreter exit waits for the queue.
            register_atexit: close (flush, then spool leftovers) at interpreter exit.
        """
        self.sinks = list(sinks)
        self.spool = spool
        self.queue_size = queue_size
        self.cooldown = cooldown
        self.exit_timeout = exit_timeout
        self._counts = dict.fromkeys(
            ("delivered", "spooled", "quarantined", "dropped", "rejected"), 0
        )
        self._reported: set[tuple[str, str]] = set()
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
            self._spool([(event, self._sink_names())])
            return
        if self._worker is None:
            self._start()
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            # The backend is slower than the jobs: keep the event on disk, not in memory.
            self._spool([(event, self._sink_names())])

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
        for sink in self.sinks:
            hook = getattr(sink, "after_fork", None)
            if callable(hook):
                try:
                    hook()
                except Exception:  # never let a sink's clean-up hurt the child
                    log.debug("after_fork of sink %s failed", sink.name, exc_info=True)

    # -- the worker ----------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            event = self._queue.get()
            if event is _STOP:
                self._queue.task_done()
                return
            try:
                if self._all_open():
                    self._spool_backlog(event)
                else:
                    self._deliver(event)
            except Exception:  # the worker must survive anything a sink does
                log.exception("OpenLineage event delivery failed unexpectedly")
            finally:
                self._queue.task_done()

    def _deliver(self, event: Mapping[str, Any]) -> None:
        flight = _InFlight(event)
        for sink in self.sinks:
            with self._state_lock:
                if self._abandoned:
                    return
                self._current = flight  # from now on close() accounts for this event
                if self._open_until.get(sink.name, 0.0) > time.monotonic():
                    flight.failed.append(sink.name)
                    continue
                flight.sending = sink.name
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
            if flight.failed:
                self._spool([(event, flight.failed)])
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

    def _spool_backlog(self, first: Mapping[str, Any]) -> None:
        """Every sink is cooling down: move queued events to the spool in one append."""
        names = self._sink_names()
        with self._state_lock:
            if self._abandoned:
                return
            items: list[tuple[Mapping[str, Any], list[str]]] = [(first, names)]
            stop = False
            while len(items) < _SPOOL_BATCH:
                try:
                    event = self._queue.get_nowait()
                except queue.Empty:
                    break
                if event is _STOP:
                    stop = True
                    break
                items.append((event, names))
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

    def _spool(self, items: Sequence[tuple[Mapping[str, Any], Sequence[str]]]) -> None:
        if self.spool is None:
            self._count("dropped", len(items))
            log.error("OpenLineage: %d event(s) lost: no spool configured", len(items))
            return
        try:
            self.spool.append(items)
            self._count("spooled", len(items))
            return
        except ConnectorError as exc:
            error = exc
        fallback = self.spool.fallback
        if fallback is not None and _unwritable(error):
            try:
                fallback.append(items)
                self._count("spooled", len(items))
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
        if not self._lost_reported:
            self._lost_reported = True
            log.error("OpenLineage: %d event(s) lost: %s", len(items), error)
        else:
            log.debug("OpenLineage: %d event(s) lost: %s", len(items), error)

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
            leftovers: list[tuple[Mapping[str, Any], Sequence[str]]] = []
            while True:
                try:
                    event = self._queue.get_nowait()
                except queue.Empty:
                    break
                self._queue.task_done()
                if event is not _STOP:
                    leftovers.append((event, self._sink_names()))
            uncertain: list[tuple[Mapping[str, Any], str, str]] = []
            flight, self._current = self._current, None
            if flight is not None:
                settled = {*flight.done, *flight.failed, *flight.rejected, flight.sending}
                owed = [*flight.failed, *(s.name for s in self.sinks if s.name not in settled)]
                if owed:
                    leftovers.insert(0, (flight.event, owed))
                if flight.sending is not None:
                    reason = "still being sent when the process exited"
                    uncertain.append((flight.event, flight.sending, reason))
            if leftovers:
                self._spool(leftovers)
            if uncertain and self.spool is not None and flight is not None:
                try:
                    token = uuid.uuid4().hex
                    self.spool.quarantine(uncertain, token=token)
                    flight.token = token  # the worker settles it if the send ends in time
                    self._count("quarantined", len(uncertain))
                except (ConnectorError, OSError) as exc:
                    log.error("OpenLineage: in-flight event not kept: %s", exc)
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
