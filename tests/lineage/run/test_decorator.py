"""``@job`` and ``run()``: what a decorated call keeps, which events it emits, and how runs
nest, retry, fail and abort. Every event is validated against the OpenLineage spec by the
``events`` fixture's sink."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lineage.errors import ConfigError
from lineage.run import Run, RunRef, current_run, flush, job, run
from lineage.run.spec import JobOptions
from tests.lineage.run.test_support import ValidatingSink, events, validate_all

__all__ = ["events"]  # the fixture, imported for pytest

REPO = Path(__file__).resolve().parents[3]


# -- what the decorator keeps --------------------------------------------------------------


@job(name="erp.silver_customers", inputs=["bronze.erp_cust_az12"], outputs=["silver.erp_customers"])
def build_customers(ds: str, *, limit: int = 10) -> dict[str, Any]:
    """Clean ERP customers into silver."""
    return {"ds": ds, "limit": limit}


def test_keeps_name_docstring_signature_and_result(events: ValidatingSink) -> None:
    assert build_customers.__name__ == "build_customers"
    assert build_customers.__doc__ == "Clean ERP customers into silver."
    signature = inspect.signature(build_customers)
    assert signature == inspect.signature(build_customers.__wrapped__)  # type: ignore[attr-defined]
    assert list(signature.parameters) == ["ds", "limit"]
    assert signature.parameters["limit"].default == 10
    assert build_customers("2024-06-18", limit=3) == {"ds": "2024-06-18", "limit": 3}
    flush()
    assert events.types("erp.silver_customers") == ["START", "COMPLETE"]
    start, complete = events.events
    assert start["run"]["runId"] == complete["run"]["runId"]
    assert complete["job"]["facets"]["documentation"]["description"] == (
        "Clean ERP customers into silver."
    )
    assert complete["job"]["facets"]["jobType"] == {
        **complete["job"]["facets"]["jobType"],
        "integration": "SILVERLINE",
        "processingType": "BATCH",
        "jobType": "JOB",
    }
    engine = complete["run"]["facets"]["processing_engine"]
    assert engine["name"] == "silverline" and engine["version"] == "0.1.0"
    assert complete["inputs"] == [{"namespace": "sql", "name": "bronze.erp_cust_az12"}]
    assert complete["outputs"] == [{"namespace": "sql", "name": "silver.erp_customers"}]
    location = complete["job"]["facets"]["sourceCodeLocation"]
    assert location["url"].startswith("file://") and location["url"].endswith(
        f"#L{build_customers.__wrapped__.__code__.co_firstlineno}"  # type: ignore[attr-defined]
    )


def test_bare_decorator_names_the_job_after_the_function(events: ValidatingSink) -> None:
    @job
    def bare() -> int:
        return 7

    assert bare() == 7
    flush()
    assert events.events[0]["job"]["name"].endswith(
        "test_bare_decorator_names_the_job_after_the_function.<locals>.bare"
    )


def test_async_function(events: ValidatingSink) -> None:
    @job(name="async.job", owners=["data-eng", "team:platform"])
    async def fetch(n: int) -> int:
        await asyncio.sleep(0)
        return n + 1

    assert inspect.iscoroutinefunction(fetch)
    assert asyncio.run(fetch(1)) == 2
    flush()
    assert events.types() == ["START", "COMPLETE"]
    assert events.events[1]["job"]["facets"]["ownership"]["owners"] == [
        {"name": "data-eng"},
        {"name": "team:platform"},
    ]


def test_methods_classmethods_staticmethods(events: ValidatingSink) -> None:
    class Pipeline:
        factor = 3

        def __init__(self, base: int) -> None:
            self.base = base

        @job(name="pipe.method")
        def method(self, x: int) -> int:
            return self.base + x

        @job(name="pipe.classmethod")
        @classmethod
        def klass(cls, x: int) -> int:
            return cls.factor * x

        @job(name="pipe.staticmethod")
        @staticmethod
        def static(x: int) -> int:
            return -x

    assert Pipeline(1).method(2) == 3
    assert Pipeline.klass(2) == 6
    assert Pipeline(0).static(5) == -5
    assert list(inspect.signature(Pipeline.method).parameters) == ["self", "x"]
    flush()
    assert [e["job"]["name"] for e in events.events[::2]] == [
        "pipe.method",
        "pipe.classmethod",
        "pipe.staticmethod",
    ]


def test_generators_run_while_consumed(events: ValidatingSink) -> None:
    @job(name="gen.outer")
    def batches(n: int):  # type: ignore[no-untyped-def]
        for i in range(n):
            assert current_run() is not None and current_run().job_name == "gen.outer"  # type: ignore[union-attr]
            yield i

    seen = []
    for item in batches(3):
        assert current_run() is None  # the consumer is not inside the generator's run
        seen.append(item)
    assert seen == [0, 1, 2]

    @job(name="gen.async")
    async def stream(n: int):  # type: ignore[no-untyped-def]
        for i in range(n):
            yield i

    async def consume() -> list[int]:
        return [i async for i in stream(2)]

    assert asyncio.run(consume()) == [0, 1]
    flush()
    assert events.types("gen.outer") == ["START", "COMPLETE"]
    assert events.types("gen.async") == ["START", "COMPLETE"]


def test_generator_closed_early_aborts(events: ValidatingSink) -> None:
    @job(name="gen.early")
    def forever():  # type: ignore[no-untyped-def]
        i = 0
        while True:
            yield i
            i += 1

    gen = forever()
    assert next(gen) == 0
    gen.close()
    flush()
    assert events.types("gen.early") == ["START", "ABORT"]


def test_generator_functions_stay_generator_functions(events: ValidatingSink) -> None:
    @job(name="gen.kind")
    def numbers(n: int):  # type: ignore[no-untyped-def]
        yield from range(n)

    @job(name="gen.async_kind")
    async def anumbers(n: int):  # type: ignore[no-untyped-def]
        yield n

    assert inspect.isgeneratorfunction(numbers) and inspect.isasyncgenfunction(anumbers)
    with pytest.raises(TypeError):
        list(numbers(1, 2))  # bad arguments: the run fails, like the call would
    flush()
    assert events.types("gen.kind") == ["START", "FAIL"]


def test_generators_cannot_be_retried() -> None:
    with pytest.raises(ConfigError, match="generator"):

        @job(name="gen.retry", retries=2)
        def numbers():  # type: ignore[no-untyped-def]
            yield 1


def test_composes_with_other_decorators_in_either_order(events: ValidatingSink) -> None:
    calls: list[str] = []

    def logged(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def inner(*args: Any, **kwargs: Any) -> Any:
            calls.append(func.__name__)
            return func(*args, **kwargs)

        return inner

    @logged
    @job(name="compose.inner")
    def first(x: int) -> int:
        """First."""
        return x * 2

    @job(name="compose.outer")
    @logged
    def second(x: int) -> int:
        """Second."""
        return x * 3

    @job(name="compose.cached")
    @functools.cache
    def cached(x: int) -> int:
        return x + 1

    assert (first(2), second(2), cached(1), cached(1)) == (4, 6, 2, 2)
    assert calls == ["first", "second"]
    assert first.__doc__ == "First." and second.__doc__ == "Second."
    assert list(inspect.signature(second).parameters) == ["x"]
    flush()
    assert events.types("compose.inner") == events.types("compose.outer") == ["START", "COMPLETE"]
    assert events.types("compose.cached") == ["START", "COMPLETE"] * 2


# -- Airflow's @task, emulated ---------------------------------------------------------------
# Airflow is not installed. This emulates what ``airflow.sdk.bases.decorator`` does: ``@task``
# returns an attrs ``_TaskDecorator`` (``_airflow_is_task_decorator``, ``function``); calling
# it in a DAG builds an operator; the operator later calls ``python_callable`` with the
# keyword arguments its signature asks for (``determine_kwargs``).


class _FakeOperator:
    def __init__(self, python_callable: Callable[..., Any], op_kwargs: dict[str, Any]) -> None:
        self.python_callable = python_callable
        self.op_kwargs = op_kwargs

    def execute(self, context: dict[str, Any]) -> Any:
        signature = inspect.signature(self.python_callable)
        wanted = {
            k: v for k, v in {**context, **self.op_kwargs}.items() if k in signature.parameters
        }
        return self.python_callable(**wanted)


def _fake_task(function: Callable[..., Any]) -> Any:
    import attr

    @attr.define(slots=False)
    class _TaskDecorator:
        function: Callable[..., Any]
        _airflow_is_task_decorator = True

        def __attrs_post_init__(self) -> None:
            functools.update_wrapper(self, self.function)

        def __call__(self, **kwargs: Any) -> _FakeOperator:
            return _FakeOperator(self.function, kwargs)

    return _TaskDecorator(function)


def test_airflow_task_in_either_order(events: ValidatingSink) -> None:
    @_fake_task
    @job(name="airflow.task_outer")
    def task_outer(ds: str, ti: Any = None) -> str:
        return f"{ds}:{ti}"

    @job(name="airflow.job_outer")
    @_fake_task
    def job_outer(ds: str, ti: Any = None) -> str:
        return f"{ds}:{ti}"

    assert getattr(job_outer, "_airflow_is_task_decorator", False)  # still an Airflow task
    operators = [task_outer(), job_outer()]  # DAG parsing: builds tasks, starts no run
    flush()
    assert events.events == []
    context = {"ds": "2024-06-18", "ti": "ti-1", "dag_run": "ignored"}
    assert [op.execute(context) for op in operators] == ["2024-06-18:ti-1"] * 2
    flush()
    assert events.types("airflow.task_outer") == ["START", "COMPLETE"]
    assert events.types("airflow.job_outer") == ["START", "COMPLETE"]


# -- outcomes ------------------------------------------------------------------------------


class ExtractError(RuntimeError):
    pass


def test_failure_emits_fail_and_reraises_the_same_exception(events: ValidatingSink) -> None:
    boom = ExtractError("cannot read postgresql://etl:hunter2@db:5432/dwh")

    @job(name="erp.fails")
    def fails() -> None:
        raise boom

    with pytest.raises(ExtractError) as caught:
        fails()
    assert caught.value is boom
    flush()
    assert events.types() == ["START", "FAIL"]
    error = events.events[1]["run"]["facets"]["errorMessage"]
    assert error["programmingLanguage"] == "python"
    assert error["message"] == "ExtractError: cannot read postgresql://etl:***@db:5432/dwh"
    assert "raise boom" in error["stackTrace"] and "hunter2" not in error["stackTrace"]


def test_keyboard_interrupt_aborts_and_propagates(events: ValidatingSink) -> None:
    @job(name="erp.interrupted", retries=3)
    def interrupted() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted()
    flush()
    assert events.types() == ["START", "ABORT"]  # no retry after an interrupt


def test_cancelled_task_aborts(events: ValidatingSink) -> None:
    @job(name="erp.cancelled")
    async def slow() -> None:
        await asyncio.sleep(30)

    async def main() -> None:
        task = asyncio.create_task(slow())
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    flush()
    assert events.types() == ["START", "ABORT"]


def test_retries_are_runs_with_exponential_backoff(events: ValidatingSink) -> None:
    slept: list[float] = []
    attempts: list[int] = []

    @job(name="erp.flaky", retries=3, retry_delay=60, sleep=slept.append)
    def flaky() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionError("warehouse unavailable")
        return "done"

    with run("erp.nightly") as parent:
        assert flaky() == "done"
    assert slept == [60, 120]
    flush()
    attempts_events = events.of_job("erp.flaky")
    assert [e["eventType"] for e in attempts_events] == [
        "START",
        "FAIL",
        "START",
        "FAIL",
        "START",
        "COMPLETE",
    ]
    run_ids = [e["run"]["runId"] for e in attempts_events]
    assert len(set(run_ids)) == 3 and run_ids[0::2] == run_ids[1::2]
    parents = {e["run"]["facets"]["parent"]["run"]["runId"] for e in attempts_events}
    assert parents == {parent.run_id}
    tags = [e["run"]["facets"]["tags"]["tags"] for e in attempts_events[::2]]
    assert [t[0]["value"] for t in tags] == ["1", "2", "3"]


def test_retries_give_up_with_the_last_exception(events: ValidatingSink) -> None:
    slept: list[float] = []
    errors = [ValueError("a"), ValueError("b")]

    @job(name="erp.hopeless", retries=1, retry_delay=2, sleep=slept.append)
    def hopeless() -> None:
        raise errors.pop(0)

    with pytest.raises(ValueError, match="b"):
        hopeless()
    assert slept == [2]
    flush()
    assert events.types() == ["START", "FAIL", "START", "FAIL"]


def test_async_retries_await_the_injected_sleep(events: ValidatingSink) -> None:
    slept: list[float] = []

    async def fake_sleep(delay: float) -> None:
        slept.append(delay)

    state = {"n": 0}

    @job(name="erp.async_flaky", retries=2, retry_delay=0.5, sleep=fake_sleep)
    async def flaky() -> int:
        state["n"] += 1
        if state["n"] < 3:
            raise TimeoutError
        return state["n"]

    assert asyncio.run(flaky()) == 3
    assert slept == [0.5, 1.0]


def test_retry_on_limits_what_is_retried(events: ValidatingSink) -> None:
    @job(name="erp.no_retry", retries=3, retry_on=ConnectionError, sleep=lambda _: None)
    def broken() -> None:
        raise ValueError("bad data is not retried")

    with pytest.raises(ValueError):
        broken()
    flush()
    assert events.types() == ["START", "FAIL"]


def test_invalid_retry_settings() -> None:
    with pytest.raises(ConfigError):
        job(name="x", retries=-1)
    with pytest.raises(ConfigError):
        job(name="x", retry_delay=-5)


def test_job_options_are_checked_once_and_copied(events: ValidatingSink) -> None:
    with pytest.raises(ConfigError, match="retries"):
        JobOptions("x", retries=-1)
    outputs = ["silver.a"]
    options = JobOptions("x", outputs=outputs, retries=2, retry_delay=1.5, retry_on=ValueError)
    outputs.append("silver.b")  # the caller's list is not the job's
    assert options.outputs == ("silver.a",) and options.attempts == 3
    assert [options.backoff(a) for a in range(3)] == [1.5, 3.0, 6.0]
    assert options.retry_wanted(1, ValueError()) and not options.retry_wanted(2, ValueError())
    assert not options.retry_wanted(0, KeyError())

    def load() -> None:
        """Load."""

    named = JobOptions().for_function(load)
    assert named.name == f"{__name__}.{load.__qualname__}" and named.description == "Load."
    given = JobOptions("given", description="d").for_function(load)
    assert (given.name, given.description) == ("given", "d")

    # @job and run() declare the same job from the same options.
    @job(name="erp.same", outputs=outputs, owners=["data-eng"], description="Same.")
    def same() -> None:
        return None

    same()
    with run("erp.same", outputs=outputs, owners=["data-eng"], description="Same."):
        pass
    flush()
    first, second = (e for e in events.events if e["eventType"] == "COMPLETE")
    assert first["outputs"] == second["outputs"]
    assert {k: v for k, v in first["job"]["facets"].items() if k != "sourceCodeLocation"} == {
        k: v for k, v in second["job"]["facets"].items() if k != "sourceCodeLocation"
    }


# -- nesting and parents -------------------------------------------------------------------


def test_nested_runs_record_parent_and_root(events: ValidatingSink) -> None:
    @job(name="erp.leaf")
    def leaf() -> Run | None:
        return current_run()

    @job(name="erp.middle")
    def middle() -> tuple[Run | None, Run | None]:
        return current_run(), leaf()

    with run("erp.dag") as top:
        middle_run, leaf_run = middle()
    assert current_run() is None
    assert middle_run is not None and leaf_run is not None
    assert middle_run.parent == top.ref and middle_run.root == top.ref
    assert leaf_run.parent == middle_run.ref and leaf_run.root == top.ref
    flush()
    leaf_start = events.of_job("erp.leaf")[0]["run"]["facets"]["parent"]
    assert leaf_start["run"]["runId"] == middle_run.run_id
    assert leaf_start["job"] == {"namespace": "default", "name": "erp.middle"}
    assert leaf_start["root"]["run"]["runId"] == top.run_id
    assert "parent" not in events.of_job("erp.dag")[0]["run"]["facets"]


def test_parent_from_the_environment(
    events: ValidatingSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    parent = "airflow/erp_dag.build_customers/01900000-0000-7000-8000-00000000000a"
    root = "airflow/erp_dag/01900000-0000-7000-8000-00000000000b"
    monkeypatch.setenv("OPENLINEAGE_PARENT_ID", parent)
    monkeypatch.setenv("OPENLINEAGE_ROOT_PARENT_ID", root)

    @job(name="erp.task_body")
    def body() -> None:
        return None

    body()
    flush()
    facet = events.events[0]["run"]["facets"]["parent"]
    assert facet["job"] == {"namespace": "airflow", "name": "erp_dag.build_customers"}
    assert facet["run"]["runId"].endswith("0a")
    assert facet["root"]["job"]["name"] == "erp_dag" and facet["root"]["run"]["runId"].endswith(
        "0b"
    )


def test_run_ref_parsing() -> None:
    assert RunRef.parse("ns/a/b/01") == RunRef("ns", "a/b", "01")
    assert (
        RunRef.parse("ns/job") is None and RunRef.parse("") is None and RunRef.parse(None) is None
    )


def test_asyncio_tasks_and_threads_nest_independently(events: ValidatingSink) -> None:
    @job(name="nest.child")
    async def child(i: int) -> RunRef | None:
        await asyncio.sleep(0.001 * (3 - i))
        found = current_run()
        return found.parent if found else None

    @job(name="nest.parent")
    async def parent(i: int) -> tuple[str, list[RunRef | None]]:
        me = current_run()
        assert me is not None
        children = await asyncio.gather(child(i), child(i + 1))
        return me.run_id, list(children)

    async def main() -> list[tuple[str, list[RunRef | None]]]:
        return list(await asyncio.gather(*(parent(i) for i in range(3))))

    for run_id, parents in asyncio.run(main()):
        assert [p.run_id if p else None for p in parents] == [run_id, run_id]

    seen: dict[int, Any] = {}

    @job(name="nest.in_thread")
    def in_thread(i: int) -> None:
        found = current_run()
        seen[i] = found.parent if found else None

    with run("nest.thread_owner") as owner:
        plain = threading.Thread(target=in_thread, args=(1,))
        carried = threading.Thread(target=contextvars.copy_context().run, args=(in_thread, 2))
        plain.start(), carried.start()
        plain.join(), carried.join()
    assert seen[1] is None  # a new thread starts outside any run
    assert seen[2] == owner.ref  # unless it runs in a copy of the caller's context


# -- child processes -----------------------------------------------------------------------


def test_child_env_and_spark_conf(events: ValidatingSink, tmp_path: Path) -> None:
    with run("erp.backfill", job_namespace="erp") as outer, run("erp.step") as inner:
        env = inner.child_env({"PATH": "/usr/bin"})
        spark = inner.spark_conf()
    assert env == {
        "PATH": "/usr/bin",
        "OPENLINEAGE_PARENT_ID": f"default/erp.step/{inner.run_id}",
        "OPENLINEAGE_ROOT_PARENT_ID": f"erp/erp.backfill/{outer.run_id}",
        "OPENLINEAGE_NAMESPACE": "default",
    }
    assert spark == {
        "spark.openlineage.parentJobNamespace": "default",
        "spark.openlineage.parentJobName": "erp.step",
        "spark.openlineage.parentRunId": inner.run_id,
        "spark.openlineage.rootParentJobNamespace": "erp",
        "spark.openlineage.rootParentJobName": "erp.backfill",
        "spark.openlineage.rootParentRunId": outer.run_id,
    }


CHILD = """
import json, sys
from pathlib import Path
from connectors.openlineage.sinks import JsonLinesSink
from lineage.config import ProjectConfig
from lineage.run import configure, job, flush
configure(sinks=[JsonLinesSink(sys.argv[1])], config=ProjectConfig(root=Path(sys.argv[1])),
          spool_dir=Path(sys.argv[1]) / "spool")

@job(name="child.script")
def work():
    return 1

work()
assert flush(10)
"""


def test_child_process_records_the_run_as_parent(events: ValidatingSink, tmp_path: Path) -> None:
    out = tmp_path / "child-events"
    with run("erp.spawner") as spawner:
        env = spawner.child_env()
        env["PYTHONPATH"] = str(REPO)
        subprocess.run(
            [sys.executable, "-c", CHILD, str(out)], env=env, check=True, timeout=60, cwd=tmp_path
        )
    lines = [
        json.loads(line) for f in sorted(out.glob("*.jsonl")) for line in f.read_text().splitlines()
    ]
    assert [e["eventType"] for e in lines] == ["START", "COMPLETE"]
    validate_all(lines)
    parent = lines[0]["run"]["facets"]["parent"]
    assert parent["run"]["runId"] == spawner.run_id
    assert parent["root"]["run"]["runId"] == spawner.run_id
    assert lines[0]["job"]["namespace"] == "default"  # OPENLINEAGE_NAMESPACE passed down


# -- never hurting the job -----------------------------------------------------------------


def test_a_failing_sink_changes_nothing_for_the_job(events: ValidatingSink, tmp_path: Path) -> None:
    events.fail = lambda event: True

    @job(name="erp.sink_down")
    def work() -> str:
        return "result"

    assert work() == "result"
    assert flush(10)
    assert events.events == []
    spooled = [
        json.loads(line) for line in (tmp_path / "spool" / "events.jsonl").read_text().splitlines()
    ]
    assert [r["event"]["eventType"] for r in spooled] == ["START", "COMPLETE"]
    validate_all([r["event"] for r in spooled])


def test_broken_lineage_never_reaches_the_job(
    events: ValidatingSink, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    @job(name="erp.odd_inputs", inputs=[object(), "bronze.ok"], outputs=[12])
    def work() -> int:
        run_ = current_run()
        assert run_ is not None
        run_.add_output(object())
        run_.add_metric("rows", float("nan"))
        return 5

    assert work() == 5
    from lineage.run import runtime  # not `lineage.run`: the package exports the function

    def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("emitter bug")

    found = runtime()
    assert found.emitter is not None
    monkeypatch.setattr(found.emitter, "emit", explode)
    assert work() == 5
    with run("erp.block") as block:
        assert isinstance(block, Run)
    flush()
    assert events.of_job("erp.odd_inputs")[0]["inputs"] == [
        {"namespace": "sql", "name": "bronze.ok"}
    ]
    assert "left out" in caplog.text


def test_disabled_emits_nothing_but_still_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lineage.config import ProjectConfig
    from lineage.run import configure, reset

    monkeypatch.setenv("OPENLINEAGE_DISABLED", "true")
    sink = ValidatingSink()
    configure(
        sinks=[sink],
        config=ProjectConfig(root=tmp_path),
        spool_dir=tmp_path / "s",
        register_atexit=False,
    )
    try:

        @job(name="off")
        def work() -> int:
            assert current_run() is not None
            return 1

        assert work() == 1
        assert flush()
        assert sink.events == []
    finally:
        reset()
    assert not os.path.exists(tmp_path / "s" / "events.jsonl")
