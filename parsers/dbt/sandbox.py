"""The sandbox dbt's Jinja runs in: scanning a project must never run the project's code.

A model, a macro, a YAML description or a third-party package is input from whoever
wrote it (a pull request in CI, a package from the hub), and ``lineage scan`` renders it.
jinja2's ``SandboxedEnvironment`` already refuses private and internal attributes
(``__class__``, ``__globals__``, ``func_globals``, ``gi_frame`` ...) and sandboxes
``str.format``; on its own it still hands out whatever a public attribute holds, so a
real module in the context (``modules.datetime.sys``, ``modules.re.enum.sys``) or any
route to a jinja2 ``Environment`` or ``Template`` (whose ``template_class`` compiles
*unsandboxed* templates) is a way out. Hence two more rules here:

- the context holds no module: ``modules.datetime`` and friends are ``SafeNamespace``s
  holding only the classes and functions dbt documents;
- no value of a hidden kind is ever handed to a template, whether reached by
  attribute, by subscription or through the ``attr`` filter, and none is called or has
  an attribute read should one come out of a call or a loop: modules, jinja2's own
  machinery, the renderer's internals (``Internal``), ``os.environ``, code and frames,
  and the builtins that evaluate, import or open.

A refused access raises ``SecurityError`` at once, so the model is reported like any
other render error (file and line) and the other models are still analysed.
"""

from __future__ import annotations

import builtins
import datetime
import functools
import importlib
import itertools
import os
import re
from collections.abc import Mapping
from types import BuiltinFunctionType, CodeType, FrameType, ModuleType, TracebackType
from typing import Any

from jinja2 import BaseLoader, Environment, Template, Undefined
from jinja2.environment import TemplateModule
from jinja2.exceptions import SecurityError
from jinja2.ext import Extension
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

__all__ = ["DbtSandbox", "Internal", "SafeNamespace", "context_modules", "exposable"]


class Internal:
    """Marks the renderer's own objects (the render scope, macro definitions, the
    project's Jinja): templates must never reach them, whatever attribute holds one."""

    __slots__ = ()


class SafeNamespace:
    """A module as a template sees it: the listed members only, never the module.

    Attribute access is all it offers; a name it does not hold (``sys``, ``_compile``,
    ``__loader__``) is an ``AttributeError``, which Jinja renders as undefined.
    """

    __slots__ = ("_members", "_name")

    def __init__(self, name: str, members: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_members", dict(members))

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("_"):  # also keeps __getattr__ off the slots before __init__
            raise AttributeError(attr)
        try:
            return self._members[attr]
        except KeyError:
            raise AttributeError(f"modules.{self._name} has no {attr!r}") from None

    def __setattr__(self, attr: str, value: Any) -> None:
        raise AttributeError(f"modules.{self._name} is read-only")

    def __dir__(self) -> list[str]:
        return sorted(self._members)

    def __repr__(self) -> str:
        return f"<dbt modules.{self._name}>"

    def _missing(self, attr: str) -> str:
        """The error a template gets for a name this namespace does not hold."""
        return (
            f"modules.{self._name}.{attr} is not available: a scan exposes only "
            f"{', '.join(sorted(self._members))} (the scan runs no project code)"
        )


_DATETIME = ("date", "datetime", "time", "timedelta", "timezone", "tzinfo")
_RE = (
    "compile", "match", "search", "findall", "finditer", "fullmatch", "split", "sub", "subn",
    "escape", "error", "IGNORECASE", "I", "MULTILINE", "M", "DOTALL", "S", "VERBOSE", "X",
    "ASCII", "A", "UNICODE", "U",
)
# dbt-core's own list (it leaves out dropwhile, filterfalse, takewhile and groupby).
_ITERTOOLS = (
    "count", "cycle", "repeat", "accumulate", "chain", "compress", "islice", "starmap", "tee",
    "zip_longest", "product", "permutations", "combinations", "combinations_with_replacement",
)
_PYTZ = (
    "timezone", "utc", "UTC", "all_timezones", "all_timezones_set", "common_timezones",
    "common_timezones_set", "country_timezones", "country_names", "FixedOffset", "BaseTzInfo",
    "AmbiguousTimeError", "InvalidTimeError", "NonExistentTimeError", "UnknownTimeZoneError",
)


def _namespace(module: ModuleType, names: tuple[str, ...]) -> SafeNamespace:
    name = module.__name__
    return SafeNamespace(name, {n: getattr(module, n) for n in names if hasattr(module, n)})


@functools.cache
def context_modules() -> Mapping[str, SafeNamespace]:
    """dbt's ``modules``: datetime, re, itertools, and pytz when it is installed.

    Built once (the namespaces are read-only); each render gets its own dict of them,
    so a ``{% do modules.update(...) %}`` in one model cannot reach the next.
    """
    out = {
        "datetime": _namespace(datetime, _DATETIME),
        "re": _namespace(re, _RE),
        "itertools": _namespace(itertools, _ITERTOOLS),
    }
    try:
        pytz = importlib.import_module("pytz")  # optional, as in dbt (and untyped)
    except ImportError:
        return out
    out["pytz"] = _namespace(pytz, _PYTZ)
    return out


_HIDDEN: tuple[type, ...] = (
    ModuleType, Internal, Environment, Template, TemplateModule, Context, Extension,
    BaseLoader, CodeType, FrameType, TracebackType, type(os.environ),
)
_HIDDEN_BUILTINS = frozenset(
    id(getattr(builtins, name))
    for name in ("eval", "exec", "compile", "open", "__import__", "getattr", "setattr",
                 "delattr", "globals", "locals", "vars", "breakpoint", "input")
    if hasattr(builtins, name)
)
# jinja2 >= 3.1.5 sandboxes str.format/format_map wherever they are called; before, only
# a direct call was, so a template could pass '{0.__class__}'.format to a native caller.
_WRAPS_FORMAT = hasattr(SandboxedEnvironment, "wrap_str_format")
# Verdicts by type: every attribute access and call asks, and isinstance against the
# hidden kinds (one an ABC) costs far more than a lookup. ``_PLAIN``: types whose every
# instance may be held (not a class, not a builtin, not hidden), the hot path's answer.
_PLAIN: set[type] = set()
_INSTANCES_OK: dict[type, bool] = {}
_CLASSES_OK: dict[type, bool] = {}


def exposable(value: Any) -> bool:
    """Whether a template may hold ``value`` (see the module docstring)."""
    kind = type(value)
    if kind in _PLAIN:
        return True
    ok = _INSTANCES_OK.get(kind)
    if ok is None:
        ok = _INSTANCES_OK[kind] = not issubclass(kind, _HIDDEN)
        if ok and kind is not BuiltinFunctionType and not issubclass(kind, type | Undefined):
            _PLAIN.add(kind)
    if not ok:
        return False
    if kind is BuiltinFunctionType:
        return id(value) not in _HIDDEN_BUILTINS
    if isinstance(value, type):
        ok = _CLASSES_OK.get(value)
        if ok is None:
            ok = _CLASSES_OK[value] = not issubclass(value, _HIDDEN)
    return ok


class DbtSandbox(SandboxedEnvironment):
    """jinja2's sandbox, with the rules above on every attribute, subscription and call."""

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if not (exposable(value) and exposable(obj)):
            return False
        if not _WRAPS_FORMAT and attr in ("format", "format_map") and isinstance(obj, str):
            return False
        return bool(super().is_safe_attribute(obj, attr, value))

    def is_safe_callable(self, obj: Any) -> bool:
        # A hidden callable can still come out of a call or a loop (``d.values()``).
        return exposable(obj) and bool(super().is_safe_callable(obj))

    def getattr(self, obj: Any, attribute: str) -> Any:
        value = super().getattr(obj, attribute)
        return value if type(value) in _PLAIN else self._checked(obj, attribute, value)

    def getitem(self, obj: Any, argument: Any) -> Any:
        value = super().getitem(obj, argument)
        return value if type(value) in _PLAIN else self._checked(obj, argument, value)

    def unsafe_undefined(self, obj: Any, attribute: str) -> Undefined:
        """Raise at once, where jinja2 returns an undefined that fails only when used:
        an attempt is an error even where an undefined would pass unnoticed
        (``[x]|map(attribute='__init__')|list``, ``x.__class__ is defined``)."""
        raise SecurityError(
            f"access to attribute {attribute!r} of {type(obj).__name__!r} object is unsafe"
        )

    def _checked(self, obj: Any, name: Any, value: Any) -> Any:
        """``value`` unless it is hidden (a dict item is not seen by is_safe_attribute)."""
        if isinstance(value, Undefined):
            if isinstance(obj, SafeNamespace) and isinstance(name, str):
                return self.undefined(obj._missing(name), obj=obj, name=name)
            return value
        if exposable(value):
            return value
        return self.unsafe_undefined(obj, str(name))
