"""The wrappers ``@job`` puts around functions, coroutines, generators and Airflow tasks.

Each call (each retry attempt) of a function or coroutine is one run; a generator's run
lasts until it is exhausted or closed, and is current only while its body runs.
"""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import AsyncIterator, Callable, Generator
from typing import Any

from lineage.run.active import RUN_CONTEXT
from lineage.run.lifecycle import finish_run, start_run
from lineage.run.spec import JobSpec

__all__ = [
    "rewrap_task",
    "wrap_async_generator",
    "wrap_coroutine",
    "wrap_function",
    "wrap_generator",
]


def wrap_function(func: Callable[..., Any], spec: JobSpec) -> Callable[..., Any]:
    policy = spec.options

    @functools.wraps(func)
    def call(*args: Any, **kwargs: Any) -> Any:
        attempt = 0
        while True:
            started = start_run(spec, attempt, policy.attempts)
            try:
                result = func(*args, **kwargs)
            except BaseException as error:
                finish_run(started, error, None)
                if not policy.retry_wanted(attempt, error):
                    raise
                delay = policy.backoff(attempt)
                attempt += 1
                (policy.sleep or time.sleep)(delay)
                continue
            drift = finish_run(started, None, result)
            if drift is not None:
                raise drift  # on_drift="fail": never retried, the same output would drift
            return result

    return call


def wrap_coroutine(func: Callable[..., Any], spec: JobSpec) -> Callable[..., Any]:
    policy = spec.options

    @functools.wraps(func)
    async def call(*args: Any, **kwargs: Any) -> Any:
        attempt = 0
        while True:
            started = start_run(spec, attempt, policy.attempts)
            try:
                result = await func(*args, **kwargs)
            except BaseException as error:
                finish_run(started, error, None)
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
            drift = finish_run(started, None, result)
            if drift is not None:
                raise drift  # on_drift="fail": never retried, the same output would drift
            return result

    return call


def wrap_generator(
    func: Callable[..., Generator[Any, Any, Any]], spec: JobSpec
) -> Callable[..., Any]:
    # The run is current only while the generator's body runs (inside next/send/throw):
    # between items the consumer's code runs, and it is not part of this run.
    @functools.wraps(func)
    def call(*args: Any, **kwargs: Any) -> Any:
        started = start_run(spec, 0, 1, enter=False)
        run_ = started[0] if started is not None else None
        to_send: Any = None
        to_throw: BaseException | None = None
        try:
            inner = func(*args, **kwargs)  # a TypeError for bad arguments ends the run too
            while True:
                token = RUN_CONTEXT.set(run_) if run_ is not None else None
                try:
                    if to_throw is not None:
                        error, to_throw = to_throw, None
                        value = inner.throw(error)
                    else:
                        value = inner.send(to_send)
                finally:
                    if token is not None:
                        RUN_CONTEXT.reset(token)
                try:
                    to_send = yield value
                except GeneratorExit:
                    inner.close()
                    raise
                except BaseException as error:
                    to_throw = error
        except StopIteration as stop:
            drift = finish_run(started, None, stop.value)
            if drift is not None:
                raise drift from None
            return stop.value
        except BaseException as error:
            finish_run(started, error, None)
            raise

    return call


def wrap_async_generator(
    func: Callable[..., AsyncIterator[Any]], spec: JobSpec
) -> Callable[..., Any]:
    @functools.wraps(func)
    async def call(*args: Any, **kwargs: Any) -> Any:
        started = start_run(spec, 0, 1, enter=False)
        run_ = started[0] if started is not None else None
        to_send: Any = None
        to_throw: BaseException | None = None
        try:
            inner: Any = func(*args, **kwargs)
            while True:
                token = RUN_CONTEXT.set(run_) if run_ is not None else None
                try:
                    if to_throw is not None:
                        error, to_throw = to_throw, None
                        value = await inner.athrow(error)
                    else:
                        value = await inner.asend(to_send)
                finally:
                    if token is not None:
                        RUN_CONTEXT.reset(token)
                try:
                    to_send = yield value
                except GeneratorExit:
                    await inner.aclose()
                    raise
                except BaseException as error:
                    to_throw = error
        except StopAsyncIteration:
            drift = finish_run(started, None, None)
            if drift is not None:
                raise drift from None
        except BaseException as error:
            finish_run(started, error, None)
            raise

    return call


def rewrap_task(task: Any, decorate: Callable[[Any], Any]) -> Any:
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
