"""The process-wide runtime behind ``@job`` and ``run()``, and the run current here.

The runtime (sinks, emitter, spool) is built on first use from lineage.yml and the
environment (``lineage.run.wiring``), or replaced with ``configure()``. The current run is
a ``contextvars`` variable, so it follows threads and asyncio tasks as they copy context.

When the runtime is built in the main thread, a SIGTERM handler is installed (Airflow's,
Kubernetes' and systemd's way to stop a job): it emits ABORT for every run still open,
closes the emitter (a bounded flush; what is left stays in the spool or the journal), then
lets the signal do what it would have done: the previous handler is called, or the
process is terminated by SIGTERM as without us. Not installed when the application set
SIGTERM to be ignored (or a handler Python cannot call), with ``configure(handle_sigterm=
False)``, or with ``LINEAGE_HANDLE_SIGTERM=false``.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from connectors.openlineage.sinks import ClientSink, EventSink
from connectors.openlineage.spool import ReplayReport, SpoolStatus
from lineage.errors import ConfigError
from lineage.model import redacted_logger
from lineage.run.runs import Run
from lineage.run.wiring import Runtime, build_runtime

if TYPE_CHECKING:
    from lineage.config import ProjectConfig

__all__ = [
    "RUN_CONTEXT",
    "configure",
    "current_run",
    "flush",
    "install_sigterm_handler",
    "replay_spool",
    "reset",
    "runtime",
    "spool_status",
]

#: The run of the innermost ``@job`` call or ``run()`` block in this context.
RUN_CONTEXT: ContextVar[Run | None] = ContextVar("silverline_current_run", default=None)
_runtime: Runtime | None = None
_runtime_lock = threading.Lock()
#: Runs started and not yet ended, by id: what a SIGTERM aborts (``lineage.run.lifecycle``).
OPEN_RUNS: dict[int, Run] = {}
_SIGTERM_BUDGET = 2.5  # seconds the handler waits for the ABORTs and the flush
_CLOSE_TIMEOUT = 1.0  # the emitter's flush within it (plus at most as much grace)
_previous_handler: Any = None
_sigterm_installed = False
log = redacted_logger("lineage.run")


def runtime() -> Runtime:
    """The current runtime, built from lineage.yml and the environment on first use."""
    global _runtime
    found = _runtime
    if found is None:
        with _runtime_lock:
            if _runtime is None:
                _runtime = build_runtime()
                install_sigterm_handler()
            found = _runtime
    return found


def configure(
    *,
    sinks: Sequence[EventSink] | None = None,
    transport: Any = None,
    config: ProjectConfig | None = None,
    spool_dir: str | os.PathLike[str] | None = None,
    queue_size: int | None = None,
    cooldown: float | None = None,
    flush_timeout: float | None = None,
    namespace: str | None = None,
    job_namespace: str | None = None,
    dialect: str | None = None,
    register_atexit: bool = True,
    handle_sigterm: bool | None = None,
) -> Runtime:
    """Replace the runtime (the previous one is flushed and closed first).

    Args:
        sinks: where events go (``connectors.openlineage.sinks``); default: the
            openlineage-python client if it finds a configuration, else catalog + files.
        transport: an openlineage-python ``Transport`` to deliver through (a shortcut for
            ``sinks=[ClientSink(transport=...)]``).
        config: the project configuration (default: ``load_config()``).
        spool_dir: where undeliverable events wait (default ``<root>/.lineage/spool``).
        queue_size, cooldown, flush_timeout: see ``connectors.openlineage.emitter.Emitter``.
        namespace: the dataset namespace of plain names (default: lineage.yml's).
        job_namespace: the namespace of jobs (default ``$OPENLINEAGE_NAMESPACE``).
        dialect: the SQL dialect of ``sql=`` and ``add_sql`` (default: lineage.yml's).
        register_atexit: flush at interpreter exit.
        handle_sigterm: False: no SIGTERM handler (default: installed from the main
            thread unless ``LINEAGE_HANDLE_SIGTERM=false``).

    Raises:
        ConfigError: lineage.yml or its ``openlineage:`` section is invalid.
    """
    global _runtime
    if transport is not None:
        if sinks is not None:
            raise ConfigError("give sinks= or transport=, not both")
        sinks = [ClientSink(transport=transport)]
    built = build_runtime(
        config,
        sinks=sinks,
        spool_dir=spool_dir,
        queue_size=queue_size,
        cooldown=cooldown,
        flush_timeout=flush_timeout,
        namespace=namespace,
        job_namespace=job_namespace,
        dialect=dialect,
        strict=True,
        register_atexit=register_atexit,
    )
    with _runtime_lock:
        previous, _runtime = _runtime, built
    if previous is not None and previous.emitter is not None:
        previous.emitter.close(previous.emitter.exit_timeout)
    install_sigterm_handler(handle_sigterm)
    return built


def install_sigterm_handler(enabled: bool | None = None) -> bool:
    """Install the SIGTERM handler (see the module doc); True when it is in place.

    Only from the main thread (Python's rule), once, and never over an ignored SIGTERM.
    ``enabled=False`` removes ours again (restoring the handler it chained to).
    """
    global _previous_handler, _sigterm_installed
    if threading.current_thread() is not threading.main_thread():
        return _sigterm_installed
    value = os.environ.get("LINEAGE_HANDLE_SIGTERM", "").strip().lower()
    if enabled is False or (enabled is None and value in ("0", "false", "no", "off")):
        if _sigterm_installed and signal.getsignal(signal.SIGTERM) is _on_sigterm:
            signal.signal(signal.SIGTERM, _previous_handler)
            _sigterm_installed = False
        return False
    current = signal.getsignal(signal.SIGTERM)
    if current is _on_sigterm:
        return True
    if current is None or current == signal.SIG_IGN:
        return False  # the application wants SIGTERM ignored, or set it outside Python
    _previous_handler = current
    signal.signal(signal.SIGTERM, _on_sigterm)
    _sigterm_installed = True
    return True


class Terminated(Exception):
    """The errorMessage of a run aborted by SIGTERM."""


def _on_sigterm(signum: int, frame: Any) -> None:
    # The work runs in a thread the handler waits for a bounded time: the signal may have
    # interrupted this very thread inside the emitter (holding the queue's or journal's
    # lock), and the handler must never deadlock the process it is meant to stop.
    helper = threading.Thread(target=_abort_open_runs, name="silverline-sigterm", daemon=True)
    helper.start()
    helper.join(_SIGTERM_BUDGET)
    previous = _previous_handler
    if callable(previous):
        previous(signum, frame)
        return
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # terminate as without us
    os.kill(os.getpid(), signal.SIGTERM)


def _abort_open_runs() -> None:
    emitters = []
    found = _runtime
    if found is not None and found.emitter is not None:
        emitters.append(found.emitter)
    for key in list(OPEN_RUNS):
        run_ = OPEN_RUNS.pop(key, None)  # finish_run, finding it gone, emits nothing more
        owner = run_._runtime if run_ is not None else None
        if run_ is None or owner is None or owner.emitter is None:
            continue
        if owner.emitter not in emitters:
            emitters.append(owner.emitter)
        try:
            error = Terminated("the process received SIGTERM")
            owner.emitter.emit(run_.end_event("ABORT", error))
        except Exception:
            log.debug("the ABORT of run %s was not emitted", run_.run_id, exc_info=True)
    for emitter in emitters:
        try:
            emitter.close(_CLOSE_TIMEOUT)
        except Exception:
            log.debug("closing the emitter at SIGTERM failed", exc_info=True)


def reset(timeout: float = 5.0) -> None:
    """Close the runtime (flush, spool what is left); the next run builds a fresh one."""
    global _runtime
    with _runtime_lock:
        previous, _runtime = _runtime, None
    if previous is not None and previous.emitter is not None:
        previous.emitter.close(timeout)


def flush(timeout: float = 5.0) -> bool:
    """Wait up to ``timeout`` s until every emitted event is delivered or spooled."""
    found = _runtime
    if found is None or found.emitter is None:
        return True
    return found.emitter.flush(timeout)


def replay_spool(
    *, include_uncertain: bool = False, include_rejected: bool = False, limit: int | None = None
) -> ReplayReport:
    """Deliver spooled events to the configured sinks, in order, each exactly once.

    See ``connectors.openlineage.spool.EventSpool.replay``.
    """
    found = runtime()
    sinks = {sink.name: sink for sink in found.sinks}
    return found.spool.replay(
        sinks, include_uncertain=include_uncertain, include_rejected=include_rejected, limit=limit
    )


def spool_status() -> SpoolStatus:
    """What waits in the spool of the current runtime."""
    return runtime().spool.status()


def current_run() -> Run | None:
    """The run of the innermost ``@job`` call or ``run()`` block here, or None."""
    return RUN_CONTEXT.get()
