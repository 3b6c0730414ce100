"""The Airflow 3 task a decorated call runs in, as the parent of its run.

Inside a running Airflow task no ``OPENLINEAGE_*`` variable is set: the OpenLineage
provider (``apache-airflow-providers-openlineage``) names the task instance's run with its
macros. ``airflow_parent`` calls exactly those macros (``lineage_parent_id``,
``lineage_root_parent_id``) on ``get_current_context()["ti"]``, so our run is a child of
the provider's task run (job ``dag_id.task_id`` in the provider's namespace, the run id the
provider derives from the DAG, task, logical date, map index and try number) and the DAG
run is the root. Computing the ids with the provider's own code keeps them equal to its
events whatever its version does (namespace setting, parent / root passed in the DAG
run's conf, cleared DAG runs).

Retries: each Airflow try is a separate provider run (the try number is part of its run
id), so our runs of the tries of one task instance get different parents with the same
job name ``dag_id.task_id`` and the same root, and the attempt tags the decorator puts on
its own retries (``attempt``, ``max_attempts``), numbered across Airflow's tries: try
``t`` of ``max_tries + 1``, with ``A`` attempts of the decorator's own per try, is attempt
``(t - 1) * A + a + 1`` of ``(max_tries + 1) * A``.

``lineage.run.lifecycle`` imports this module only when ``airflow`` is already in
``sys.modules`` (an Airflow process): importing Silverline never imports Airflow. Airflow
is not a dependency of this package, so its modules are looked up at run time (typed
``Any``); outside a task, without the provider or on Airflow 2 there is no parent.
"""

from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from lineage.model import redacted_logger
from lineage.run.runs import RunRef

__all__ = ["TaskTry", "airflow_parent", "current_task_try"]

log = redacted_logger("lineage.run")

_MACROS = "airflow.providers.openlineage.plugins.macros"


@dataclass(frozen=True)
class TaskTry:
    """One try of the running Airflow task instance, as the provider names its run."""

    parent: RunRef  # the provider's task run: namespace / dag_id.task_id / run id
    root: RunRef  # the provider's DAG run (or the root the DAG run's conf names)
    try_number: int  # 1 for the first try
    tries: int  # max_tries + 1: every try the task instance may get

    def attempts(self, attempt: int, attempts: int) -> tuple[int, int]:
        """The decorator's ``attempt`` (0-based) of ``attempts`` numbered across the tries."""
        return (self.try_number - 1) * attempts + attempt, self.tries * attempts


@functools.lru_cache(maxsize=2)
def _module(name: str) -> ModuleType | None:
    # Looked up once per process: Airflow 2 (no airflow.sdk) or no provider stays None.
    try:
        return importlib.import_module(name)
    except Exception:
        log.debug("cannot import %s: no Airflow parent", name)
        return None


def current_task_try() -> TaskTry | None:
    """The running Airflow task's try, or None (not in a task, no provider, Airflow 2)."""
    sdk = _module("airflow.sdk")
    if sdk is None:
        return None
    try:
        context: Any = sdk.get_current_context()
    except Exception:  # outside a task: DAG parsing, the scheduler, a plain script
        return None
    macros = _module(_MACROS)  # loaded in tasks only (the provider's listener has it)
    if macros is None:
        return None
    try:
        ti = context["ti"]
        parent = RunRef.parse(macros.lineage_parent_id(ti))
        root = RunRef.parse(macros.lineage_root_parent_id(ti))
        try_number = max(int(ti.try_number or 1), 1)
        tries = max(int(getattr(ti, "max_tries", 0) or 0) + 1, try_number)
    except Exception:
        log.debug("cannot name the Airflow task's OpenLineage run", exc_info=True)
        return None
    if parent is None:
        return None
    return TaskTry(parent, root or parent, try_number, tries)


def airflow_parent(attempt: int, attempts: int) -> tuple[RunRef | None, RunRef | None, int, int]:
    """Parent, root and attempt numbering of a top-level run inside an Airflow task.

    Outside a task: no parent, no root, ``attempt`` and ``attempts`` unchanged.
    """
    found = current_task_try()
    if found is None:
        return None, None, attempt, attempts
    return (found.parent, found.root, *found.attempts(attempt, attempts))
