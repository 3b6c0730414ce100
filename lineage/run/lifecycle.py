"""Starting and ending runs, never raising into the job: a lineage failure is logged once
per job and problem, and the job goes on as if nothing happened. The one exception the job
asks for: ``on_drift="fail"`` and breaking drift (``finish_run`` returns the error)."""

from __future__ import annotations

import contextlib
import os
import sys
from contextvars import Token
from typing import Any

from lineage.errors import SchemaDriftError
from lineage.model import redacted_logger
from lineage.run.active import OPEN_RUNS, RUN_CONTEXT, runtime
from lineage.run.runs import Run, RunRef
from lineage.run.spec import JobSpec

__all__ = ["Started", "detached_run", "finish_run", "start_run"]

log = redacted_logger("lineage.run")

#: A started run and the context token to restore when it ends (None: not entered).
Started = tuple[Run, Token[Run | None] | None]

_failures_logged: set[str] = set()


def start_run(spec: JobSpec, attempt: int, attempts: int, *, enter: bool = True) -> Started | None:
    try:
        found = runtime()
        resolved = spec.resolved(found)
        outer = RUN_CONTEXT.get()
        if outer is not None:
            parent: RunRef | None = outer.ref
            root = outer.root or parent
        else:
            parent = RunRef.parse(os.environ.get("OPENLINEAGE_PARENT_ID"))
            root = RunRef.parse(os.environ.get("OPENLINEAGE_ROOT_PARENT_ID")) or parent
            if parent is None:
                root = None
                if "airflow" in sys.modules:  # in an Airflow task, its run is the parent
                    from lineage.run.airflow import airflow_parent

                    parent, root, attempt, attempts = airflow_parent(attempt, attempts)
        run_ = Run(
            resolved,
            found,
            parent,
            root,
            attempt=attempt,
            attempts=attempts,
            stats=spec.options.stats,
        )
    except Exception:
        _log_once(spec.name, "cannot start a run")
        return None
    token = RUN_CONTEXT.set(run_) if enter else None
    OPEN_RUNS[id(run_)] = run_  # a SIGTERM aborts it
    emitter = found.emitter
    if emitter is not None:
        try:
            emitter.emit(run_.start_event())
        except Exception:
            _log_once(spec.name, "cannot emit the START event")
    return run_, token


def finish_run(
    started: Started | None,
    error: BaseException | None,
    result: Any,
) -> SchemaDriftError | None:
    """Emit the run's final event; never raises.

    Returns the ``SchemaDriftError`` the caller must raise when the job is declared
    ``on_drift="fail"`` and its outputs broke their documented schemas (the run was
    ended FAIL with it), else None.
    """
    if started is None:
        return None
    run_, token = started
    if token is not None:
        # ValueError: reset from another context (a generator resumed elsewhere).
        with contextlib.suppress(ValueError):
            RUN_CONTEXT.reset(token)
    if OPEN_RUNS.pop(id(run_), None) is None:
        return None  # a SIGTERM has ended it with ABORT already
    try:
        runtime_ = run_._runtime
        emitter = runtime_.emitter if runtime_ is not None else None
        if emitter is None:
            return None
        state = _state_of(error)
        if state == "COMPLETE":
            run_.observe_result(result)
            if run_.on_drift == "fail":
                from lineage.run.drift import drift_error  # loaded for such jobs only

                drift = drift_error(run_)
                if drift is not None:
                    emitter.emit(run_.end_event("FAIL", drift))
                    return drift
            emitter.emit(run_.end_event("COMPLETE"))
        else:
            emitter.emit(run_.end_event(state, error))
    except Exception:
        _log_once(run_.job_name, "cannot emit the run's final event")
    return None


def _state_of(error: BaseException | None) -> str:
    if error is None:
        return "COMPLETE"
    if isinstance(error, SystemExit):
        return "COMPLETE" if error.code in (0, None) else "FAIL"
    if isinstance(error, KeyboardInterrupt | GeneratorExit):
        return "ABORT"
    # asyncio is imported only where it is used: a CancelledError needs it loaded.
    asyncio = sys.modules.get("asyncio")
    if asyncio is not None and isinstance(error, asyncio.CancelledError):
        return "ABORT"
    if not isinstance(error, Exception):
        return "ABORT"
    return "FAIL"


def detached_run(spec: JobSpec) -> Run:
    """A run that records nothing: what ``run()`` gives when lineage itself failed."""
    return Run.detached(spec.name, spec.job_namespace or "default")


def _log_once(job_name: str, what: str) -> None:
    # Lineage problems are logged, once per job and problem, with the traceback: the job
    # itself goes on as if nothing happened.
    key = f"{job_name}\0{what}"
    if key in _failures_logged:
        log.debug("job %s: %s", job_name, what, exc_info=True)
        return
    _failures_logged.add(key)
    log.exception("job %s: %s (the job is not affected)", job_name, what)
