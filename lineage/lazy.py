"""Lazy package attributes (PEP 562), so that importing a package costs nothing.

A package ``__init__`` names what it exports and the module each name lives in; the
module is imported on first access and the value cached in the package::

    __getattr__, __dir__ = lazy_exports(__name__, {"parse_sql": "parsers.sql.parse"})

Type checkers read the same names from an ``if TYPE_CHECKING:`` import block beside it.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, exports: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package`` that import ``exports`` on demand.

    Args:
        package: the package's ``__name__``.
        exports: public name -> dotted name of the module that defines it.
    """

    def __getattr__(name: str) -> Any:
        module_name = exports.get(name)
        if module_name is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module_name), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(exports))

    return __getattr__, __dir__
