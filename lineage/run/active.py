"""The process-wide runtime behind ``@job`` and ``run()``, and the run current here.

The runtime (sinks, emitter, spool) is built on first use from lineage.yml and the
environment (``lineage.run.wiring``), or replaced with ``configure()``. The current run is
a ``contextvars`` variable, so it follows threads and asyncio tasks as they copy context.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from connectors.openlineage.sinks import ClientSink, EventSink
from connectors.openlineage.spool import ReplayReport, SpoolStatus
from lineage.errors import ConfigError
from lineage.run.runs import Run
from lineage.run.wiring import Runtime, build_runtime

if TYPE_CHECKING:
    from lineage.config import ProjectConfig

__all__ = [
    "RUN_CONTEXT",
    "configure",
    "current_run",
    "flush",
    "replay_spool",
    "reset",
    "runtime",
    "spool_status",
]

#: The run of the innermost ``@job`` call or ``run()`` block in this context.
RUN_CONTEXT: ContextVar[Run | None] = ContextVar("silverline_current_run", default=None)
_runtime: Runtime | None = None
_runtime_lock = threading.Lock()


def runtime() -> Runtime:
    """The current runtime, built from lineage.yml and the environment on first use."""
    global _runtime
    found = _runtime
    if found is None:
        with _runtime_lock:
            if _runtime is None:
                _runtime = build_runtime()
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
    return built


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
