"""``@job`` and ``run()``: OpenLineage events for Python jobs, without ever hurting them.

::

    from lineage.run.decorator import job, run, current_run

    @job(name="erp.silver_customers", inputs=["bronze.erp_cust_az12"],
         outputs=["silver.erp_customers"], owners=["data-eng"], retries=3, retry_delay=60)
    def build_customers(ds):
        \"\"\"Clean ERP customers into silver.\"\"\"
        ...                       # current_run().add_metric("rejected", 12)

    with run("erp.backfill", inputs=["bronze.erp_cust_az12"]) as r:
        r.add_sql("INSERT INTO silver.erp_customers SELECT ... FROM bronze.erp_cust_az12")
        subprocess.run(["dbt-ol", "run"], env=r.child_env())

Each call (each retry attempt) is one run: a START event, then COMPLETE, or FAIL with an
``errorMessage`` facet, or ABORT on ``KeyboardInterrupt`` / ``asyncio.CancelledError`` (the
exception is re-raised unchanged). Attempts share the parent; back-off is
``retry_delay * 2**attempt`` seconds. A decorated call inside another run (same thread or
asyncio task: the current run is a ``contextvars`` variable) records it as parent and its
root as root; at top level the parent comes from ``OPENLINEAGE_PARENT_ID`` /
``OPENLINEAGE_ROOT_PARENT_ID`` when set (Airflow and dbt-ol pass them so). A new thread
starts with no current run: run the callable in ``contextvars.copy_context()`` to nest it.

Emission never raises into the job, never changes its result or exception, and only
enqueues on the caller's thread; a background worker delivers (see
``connectors.openlineage.emitter``), spooling to ``.lineage/spool/`` what it cannot deliver
(``replay_spool()``, ``lineage events replay``). Where events go is decided on first use
(``lineage.run.wiring``) or with ``configure()``.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import logging
import os
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Generator, Sequence
from contextvars import ContextVar, Token
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, cast, overload

from connectors.openlineage.sinks import ClientSink, EventSink
from connectors.openlineage.spool import ReplayReport, SpoolStatus
from lineage.errors import ConfigError
from lineage.run.runs import Run, RunRef
from lineage.run.spec import JobOptions, JobSpec, RetryOn
from lineage.run.wiring import Runtime, build_runtime

if TYPE_CHECKING:
    from lineage.config import ProjectConfig

__all__ = [
    "Run",
    "RunRef",
    "configure",
    "current_run",
    "flush",
    "job",
    "replay_spool",
    "reset",
    "run",
    "runtime",
    "spool_status",
]

log = logging.getLogger("lineage.run")

F = TypeVar("F", bound=Callable[..., Any])

_current: ContextVar[Run | None] = ContextVar("silverline_current_run", default=None)
_runtime: Runtime | None = None
_runtime_lock = threading.Lock()
_failures_logged: set[str] = set()


# -- the process-wide set-up ---------------------------------------------------------------


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
    return _current.get()


# -- the decorator -------------------------------------------------------------------------


@overload
def job(name: F) -> F: ...


@overload
def job(
    name: str | None = None,
    *,
    inputs: Sequence[Any] = (),
    outputs: Sequence[Any] = (),
    sql: str | None = None,
    owners: Sequence[str] = (),
    description: str | None = None,
    namespace: Any = None,
    job_namespace: str | None = None,
    retries: int = 0,
    retry_delay: float = 0.0,
    retry_on: RetryOn = Exception,
    sleep: Callable[[float], Any] | None = None,
    stats: bool = True,
) -> Callable[[F], F]: ...


def job(
    name: Any = None,
    *,
    inputs: Sequence[Any] = (),
    outputs: Sequence[Any] = (),
    sql: str | None = None,
    owners: Sequence[str] = (),
    description: str | None = None,
    namespace: Any = None,
    job_namespace: str | None = None,
    retries: int = 0,
    retry_delay: float = 0.0,
    retry_on: RetryOn = Exception,
    sleep: Callable[[float], Any] | None = None,
    stats: bool = True,
) -> Any:
    """Make every call of a function (sync, async, generator, method) an OpenLineage run.

    Args:
        name: the job name (default ``module.qualname``); ``@job`` alone works too.
        inputs, outputs: datasets read and written: names, ``DatasetId``s, SQLAlchemy
            tables, DuckDB relations (see ``lineage.run.datasets`` for naming).
        sql: SQL the job runs; its tables and column lineage are added.
        owners: the job's owners (``ownership`` facet).
        description: the job's description (default: the docstring).
        namespace: namespace of plain dataset names: text or a SQLAlchemy engine.
        job_namespace: the job's namespace (default ``$OPENLINEAGE_NAMESPACE``).
        retries: attempts after a failure; each attempt is its own run.
        retry_delay: seconds before the first retry, doubled for each next one.
        retry_on: the exceptions worth a retry (default ``Exception``).
        sleep: the back-off sleep (default ``time.sleep``, ``asyncio.sleep`` for async
            functions); may return an awaitable. For tests.
        stats: count rows and nulls of returned / added data frames.

    Raises:
        ConfigError: ``retries`` / ``retry_delay`` is negative, or a generator has retries.
    """
    if callable(name) and not isinstance(name, str):
        return job()(name)
    options = JobOptions(
        name,
        inputs=inputs,
        outputs=outputs,
        sql=sql,
        owners=owners,
        description=description,
        namespace=namespace,
        job_namespace=job_namespace,
        retries=retries,
        retry_delay=retry_delay,
        retry_on=retry_on,
        sleep=sleep,
        stats=stats,
    )
    return functools.partial(_decorate, options)


def _decorate(options: JobOptions, func: F) -> F:
    """``func`` wrapped so each call is a run of the job ``options`` declare."""
    if isinstance(func, classmethod | staticmethod):
        return type(func)(_decorate(options, func.__func__))
    if getattr(func, "_airflow_is_task_decorator", False) and callable(
        getattr(func, "function", None)
    ):
        # Airflow's @task below us: wrap the function it will run, keep the task object
        # (calling it in a DAG file builds a task; it must not start a run).
        return cast(F, _rewrap_task(func, functools.partial(_decorate, options)))
    code = getattr(inspect.unwrap(func), "__code__", None)
    spec = JobSpec(
        options.for_function(func),
        source_file=code.co_filename if code is not None else None,
        source_line=code.co_firstlineno if code is not None else None,
    )
    if inspect.isasyncgenfunction(func) or inspect.isgeneratorfunction(func):
        if options.retries:
            raise ConfigError(f"{spec.name}: a generator cannot be retried (it has yielded)")
        if inspect.isasyncgenfunction(func):
            return cast(F, _wrap_async_generator(func, spec))
        return cast(F, _wrap_generator(func, spec))
    if inspect.iscoroutinefunction(func):
        return cast(F, _wrap_coroutine(func, spec))
    return cast(F, _wrap_function(func, spec))


def _wrap_function(func: Callable[..., Any], spec: JobSpec) -> Callable[..., Any]:
    policy = spec.options

    @functools.wraps(func)
    def call(*args: Any, **kwargs: Any) -> Any:
        attempt = 0
        while True:
            started = _start(spec, attempt, policy.attempts)
            try:
                result = func(*args, **kwargs)
            except BaseException as error:
                _finish(started, error, None)
                if not policy.retry_wanted(attempt, error):
                    raise
                delay = policy.backoff(attempt)
                attempt += 1
                (policy.sleep or time.sleep)(delay)
                continue
            _finish(started, None, result)
            return result

    return call


def _wrap_coroutine(func: Callable[..., Any], spec: JobSpec) -> Callable[..., Any]:
    policy = spec.options

    @functools.wraps(func)
    async def call(*args: Any, **kwargs: Any) -> Any:
        attempt = 0
        while True:
            started = _start(spec, attempt, policy.attempts)
            try:
                result = await func(*args, **kwargs)
            except BaseException as error:
                _finish(started, error, None)
                if not policy.retry_wanted(attempt, error):
                    raise
                delay = policy.backoff(attempt)
                attempt += 1
                if policy.sleep is None:
                    import asyncio  # loaded by whoever runs this coroutine anyway

                    slept: Any = asyncio.sleep(delay)
                else:
                    slept = policy.sleep(delay)
                if inspect.isawaitable(slept):
                    await slept
                continue
            _finish(started, None, result)
            return result

    return call


def _wrap_generator(
    func: Callable[..., Generator[Any, Any, Any]], spec: JobSpec
) -> Callable[..., Any]:
    # The run is current only while the generator's body runs (inside next/send/throw):
    # between items the consumer's code runs, and it is not part of this run.
    @functools.wraps(func)
    def call(*args: Any, **kwargs: Any) -> Any:
        started = _start(spec, 0, 1, enter=False)
        run_ = started[0] if started is not None else None
        to_send: Any = None
        to_throw: BaseException | None = None
        try:
            inner = func(*args, **kwargs)  # a TypeError for bad arguments ends the run too
            while True:
                token = _current.set(run_) if run_ is not None else None
                try:
                    if to_throw is not None:
                        error, to_throw = to_throw, None
                        value = inner.throw(error)
                    else:
                        value = inner.send(to_send)
                finally:
                    if token is not None:
                        _current.reset(token)
                try:
                    to_send = yield value
                except GeneratorExit:
                    inner.close()
                    raise
                except BaseException as error:
                    to_throw = error
        except StopIteration as stop:
            _finish(started, None, stop.value)
            return stop.value
        except BaseException as error:
            _finish(started, error, None)
            raise

    return call


def _wrap_async_generator(
    func: Callable[..., AsyncIterator[Any]], spec: JobSpec
) -> Callable[..., Any]:
    @functools.wraps(func)
    async def call(*args: Any, **kwargs: Any) -> Any:
        started = _start(spec, 0, 1, enter=False)
        run_ = started[0] if started is not None else None
        to_send: Any = None
        to_throw: BaseException | None = None
        try:
            inner: Any = func(*args, **kwargs)
            while True:
                token = _current.set(run_) if run_ is not None else None
                try:
                    if to_throw is not None:
                        error, to_throw = to_throw, None
                        value = await inner.athrow(error)
                    else:
                        value = await inner.asend(to_send)
                finally:
                    if token is not None:
                        _current.reset(token)
                try:
                    to_send = yield value
                except GeneratorExit:
                    await inner.aclose()
                    raise
                except BaseException as error:
                    to_throw = error
        except StopAsyncIteration:
            _finish(started, None, None)
        except BaseException as error:
            _finish(started, error, None)
            raise

    return call


def _rewrap_task(task: Any, decorate: Callable[[Any], Any]) -> Any:
    wrapped = decorate(task.function)
    try:
        import attr

        if attr.has(type(task)):
            return attr.evolve(task, function=wrapped)
    except ImportError:  # pragma: no cover - attrs comes with openlineage-python
        pass
    import copy

    clone = copy.copy(task)
    clone.function = wrapped
    return clone


# -- the context manager -------------------------------------------------------------------


class _RunBlock:
    """``with run(...) as r`` / ``async with run(...) as r``."""

    def __init__(self, spec: JobSpec) -> None:
        self._spec = spec
        self._started: tuple[Run, Token[Run | None] | None] | None = None

    def __enter__(self) -> Run:
        self._started = _start(self._spec, 0, 1)
        if self._started is None:
            return _detached(self._spec)
        return self._started[0]

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        _finish(self._started, exc, None)

    async def __aenter__(self) -> Run:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)


def run(
    name: str,
    *,
    inputs: Sequence[Any] = (),
    outputs: Sequence[Any] = (),
    sql: str | None = None,
    owners: Sequence[str] = (),
    description: str | None = None,
    namespace: Any = None,
    job_namespace: str | None = None,
    stats: bool = True,
) -> _RunBlock:
    """A block of code as one OpenLineage run of job ``name`` (arguments as for ``job``).

    ``with run("erp.backfill", inputs=[...]) as r:`` gives the ``Run``; the block's
    exception (if any) makes it FAIL / ABORT and propagates unchanged.
    """
    caller = sys._getframe(1)
    options = JobOptions(
        name,
        inputs=inputs,
        outputs=outputs,
        sql=sql,
        owners=owners,
        description=description,
        namespace=namespace,
        job_namespace=job_namespace,
        stats=stats,
    )
    spec = JobSpec(options, source_file=caller.f_code.co_filename, source_line=caller.f_lineno)
    return _RunBlock(spec)


# -- starting and ending runs (never raising) -----------------------------------------------


def _start(
    spec: JobSpec, attempt: int, attempts: int, *, enter: bool = True
) -> tuple[Run, Token[Run | None] | None] | None:
    try:
        found = runtime()
        resolved = spec.resolved(found)
        outer = _current.get()
        if outer is not None:
            parent: RunRef | None = outer.ref
            root = outer.root or parent
        else:
            parent = RunRef.parse(os.environ.get("OPENLINEAGE_PARENT_ID"))
            root = RunRef.parse(os.environ.get("OPENLINEAGE_ROOT_PARENT_ID")) or parent
            if parent is None:
                root = None
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
    token = _current.set(run_) if enter else None
    emitter = found.emitter
    if emitter is not None:
        try:
            emitter.emit(run_.start_event())
        except Exception:
            _log_once(spec.name, "cannot emit the START event")
    return run_, token


def _finish(
    started: tuple[Run, Token[Run | None] | None] | None,
    error: BaseException | None,
    result: Any,
) -> None:
    if started is None:
        return
    run_, token = started
    if token is not None:
        # ValueError: reset from another context (a generator resumed elsewhere).
        with contextlib.suppress(ValueError):
            _current.reset(token)
    try:
        runtime_ = run_._runtime
        emitter = runtime_.emitter if runtime_ is not None else None
        if emitter is None:
            return
        state = _state_of(error)
        if state == "COMPLETE":
            run_.observe_result(result)
            emitter.emit(run_.end_event("COMPLETE"))
        else:
            emitter.emit(run_.end_event(state, error))
    except Exception:
        _log_once(run_.job_name, "cannot emit the run's final event")


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


def _detached(spec: JobSpec) -> Run:
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
