"""Wrapping pipeline runs: ``@job``, ``run()`` and the process-wide runtime behind them.

A composition root: it wires the OpenLineage connector (emitter, sinks, spool) to the
SQL parser and the catalog. The package itself is callable, so ``lineage.run(...)`` is
``lineage.run.run(...)`` however ``lineage.run`` was first imported.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from lineage.run.decorator import *  # noqa: F403
from lineage.run.decorator import __all__ as __all__
from lineage.run.decorator import run


class _CallablePackage(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return run(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
