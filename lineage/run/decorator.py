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
exception is re-raised unchanged). A job declared ``on_drift="fail"`` whose output breaks
its documented schema ends FAIL with ``SchemaDriftError`` (``lineage.run.drift``).
Attempts share the parent; back-off is ``retry_delay * 2**attempt`` seconds. A decorated
call inside another run (same thread or asyncio task: the current run is a
``contextvars`` variable) records it as parent and its root as root; at top level the
parent comes from ``OPENLINEAGE_PARENT_ID`` / ``OPENLINEAGE_ROOT_PARENT_ID`` when set
(Airflow and dbt-ol pass them so). A new thread
starts with no current run: run the callable in ``contextvars.copy_context()`` to nest it.

Emission never raises into the job, never changes its result or exception, and only
enqueues on the caller's thread; a background worker delivers (see
``connectors.openlineage.emitter``), spooling to ``.lineage/spool/`` what it cannot deliver
(``replay_spool()``, ``lineage events replay``). Where events go is decided on first use
(``lineage.run.wiring``) or with ``configure()``.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, TypeVar, cast, overload

from lineage.errors import ConfigError
from lineage.run.active import (
    configure,
    current_run,
    flush,
    replay_spool,
    reset,
    runtime,
    spool_status,
)
from lineage.run.lifecycle import Started, detached_run, finish_run, start_run
from lineage.run.runs import Run, RunRef
from lineage.run.spec import JobOptions, JobSpec, RetryOn
from lineage.run.wrappers import (
    rewrap_task,
    wrap_async_generator,
    wrap_coroutine,
    wrap_function,
    wrap_generator,
)

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

F = TypeVar("F", bound=Callable[..., Any])


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
    on_drift: str = "warn",
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
    on_drift: str = "warn",
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
        on_drift: run-time schema drift of the outputs against their documented schemas
            (``lineage.run.drift``): ``"warn"`` records findings and logs one line where
            the events reach the catalog, off the caller's path; ``"fail"`` compares
            before COMPLETE and ends the run FAIL with ``SchemaDriftError`` on breaking
            drift (not retried); ``"ignore"`` compares nothing.

    Raises:
        ConfigError: ``retries`` / ``retry_delay`` is negative, ``on_drift`` unknown, or
            a generator has retries.
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
        on_drift=on_drift,
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
        return cast(F, rewrap_task(func, functools.partial(_decorate, options)))
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
            return cast(F, wrap_async_generator(func, spec))
        return cast(F, wrap_generator(func, spec))
    if inspect.iscoroutinefunction(func):
        return cast(F, wrap_coroutine(func, spec))
    return cast(F, wrap_function(func, spec))


# -- the context manager -------------------------------------------------------------------


class _RunBlock:
    """``with run(...) as r`` / ``async with run(...) as r``."""

    def __init__(self, spec: JobSpec) -> None:
        self._spec = spec
        self._started: Started | None = None

    def __enter__(self) -> Run:
        self._started = start_run(self._spec, 0, 1)
        if self._started is None:
            return detached_run(self._spec)
        return self._started[0]

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        drift = finish_run(self._started, exc, None)
        if drift is not None:
            raise drift

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
    on_drift: str = "warn",
) -> _RunBlock:
    """A block of code as one OpenLineage run of job ``name`` (arguments as for ``job``).

    ``with run("erp.backfill", inputs=[...]) as r:`` gives the ``Run``; the block's
    exception (if any) makes it FAIL / ABORT and propagates unchanged. With
    ``on_drift="fail"``, breaking drift of what the block added with ``add_output``
    raises ``SchemaDriftError`` at the end of a block that raised nothing.
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
        on_drift=on_drift,
    )
    spec = JobSpec(options, source_file=caller.f_code.co_filename, source_line=caller.f_lineno)
    return _RunBlock(spec)
