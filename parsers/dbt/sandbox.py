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

Rendering is also bounded (``RenderBudget``, per model): every ``{% for %}`` loop and every
iterator of ``modules.itertools`` stops after ``max_items`` items, calls and loop steps
check a deadline, ``*`` and ``**`` refuse results past the output budget, ``lipsum`` and
``range`` take small sizes only, and the rendered text has a size limit. Exceeding one
raises ``BudgetExceeded``: that model's error, like a refused access.
"""

from __future__ import annotations

import builtins
import datetime
import functools
import importlib
import itertools
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from types import BuiltinFunctionType, CodeType, FrameType, ModuleType, TracebackType
from typing import Any

from jinja2 import BaseLoader, Environment, Template, Undefined, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.environment import TemplateModule
from jinja2.exceptions import SecurityError
from jinja2.ext import Extension
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import generate_lorem_ipsum

__all__ = [
    "BudgetExceeded",
    "DbtSandbox",
    "Internal",
    "RenderBudget",
    "SafeNamespace",
    "context_modules",
    "exposable",
    "metered",
]


@dataclass(frozen=True)
class RenderBudget:
    """What rendering one model may cost; None: no limit for that dimension.

    ``seconds``: wall-clock time of the render; ``max_items``: items one loop or one
    ``modules.itertools`` iterator may yield (jinja2's ``range`` is capped at 100,000 the
    same way); ``max_output_bytes``: characters of the rendered text (and of one ``*``
    result); ``max_lipsum``: paragraphs (and words per paragraph / 10) of ``lipsum``.
    """

    seconds: float | None = 10.0
    max_items: int | None = 100_000
    max_output_bytes: int | None = 10_000_000
    max_lipsum: int = 100


class BudgetExceeded(Exception):
    """A render went past its ``RenderBudget``: that model's error."""


class _Meter:
    """The budget of the render in progress, and its deadline."""

    __slots__ = ("budget", "countdown", "deadline")

    def __init__(self, budget: RenderBudget) -> None:
        self.budget = budget
        self.deadline = None if budget.seconds is None else time.monotonic() + budget.seconds
        self.countdown = _CHECK_EVERY

    def tick(self) -> None:
        """Called on each call and loop step; reads the clock every few hundred ticks."""
        self.countdown -= 1
        if self.countdown > 0:
            return
        self.countdown = _CHECK_EVERY
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise BudgetExceeded(
                f"rendering took longer than the {self.budget.seconds:g} s budget per model"
            )


_CHECK_EVERY = 256
_DEFAULT_BUDGET = RenderBudget()
_METER: ContextVar[_Meter | None] = ContextVar("silverline_render_meter", default=None)


@contextmanager
def metered(budget: RenderBudget) -> Iterator[None]:
    """Apply ``budget`` to the renders inside (a nested render shares the outer one's)."""
    if _METER.get() is not None:
        yield
        return
    token = _METER.set(_Meter(budget))
    try:
        yield
    finally:
        _METER.reset(token)


def _budget() -> RenderBudget:
    meter = _METER.get()
    return _DEFAULT_BUDGET if meter is None else meter.budget


def _tick() -> None:
    meter = _METER.get()
    if meter is not None:
        meter.tick()


def _bounded(items: Iterable[Any], what: str) -> Iterator[Any]:
    """``items``, stopping with ``BudgetExceeded`` past the budget's ``max_items``."""
    limit = _budget().max_items
    meter = _METER.get()
    for count, item in enumerate(items, 1):
        if limit is not None and count > limit:
            raise BudgetExceeded(f"{what} went past the budget of {limit} items")
        if meter is not None:
            meter.tick()
        yield item


def _bounded_iterator(function: Callable[..., Iterable[Any]]) -> Callable[..., Iterator[Any]]:
    name = f"modules.itertools.{function.__name__}"

    def bounded(*args: Any, **kwargs: Any) -> Iterator[Any]:
        return _bounded(function(*args, **kwargs), name)

    bounded.__name__ = function.__name__
    return bounded


def _loop_items(items: Any) -> Any:
    """What a ``{% for %}`` iterates: a sized value keeps its ``len`` for ``loop.length``."""
    if isinstance(items, Undefined):
        return items
    limit = _budget().max_items
    if hasattr(items, "__len__") and limit is not None and len(items) > limit:
        raise BudgetExceeded(f"a loop over {len(items)} items exceeds the budget of {limit}")
    return _SizedLoop(items) if hasattr(items, "__len__") else _bounded(items, "a loop")


class _SizedLoop:
    """A sized iterable whose iteration ticks the meter."""

    __slots__ = ("_items",)

    def __init__(self, items: Any) -> None:
        self._items = items

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Any]:
        return _bounded(self._items, "a loop")


def _lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:
    cap = _budget().max_lipsum
    if n > cap or max > cap * 10 or min > cap * 10:
        raise BudgetExceeded(f"lipsum(n={n}, min={min}, max={max}) exceeds the budget "
                             f"of {cap} paragraphs of {cap * 10} words")
    return str(generate_lorem_ipsum(n=n, html=html, min=min, max=max))


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
        "itertools": SafeNamespace(
            "itertools", {n: _bounded_iterator(getattr(itertools, n)) for n in _ITERTOOLS}
        ),
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


class _BudgetedCodeGenerator(CodeGenerator):
    """jinja2's code generator; every ``~`` result is measured against the output budget
    (doubling a string in a loop would otherwise fill the memory in 30 steps)."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.bounded_text(")
        super().visit_Concat(node, frame)
        self.write(")")


class DbtSandbox(SandboxedEnvironment):
    """jinja2's sandbox, with the rules above on every attribute, subscription and call,
    and the render budget on every loop, call, ``*`` and ``**``."""

    intercepted_binops = frozenset({"*", "**"})
    code_generator_class = _BudgetedCodeGenerator

    @staticmethod
    def bounded_text(text: Any) -> Any:
        """``text`` (a ``~`` result) unless it is longer than the output budget."""
        limit = _budget().max_output_bytes
        if limit is not None and len(text) > limit:
            raise BudgetExceeded(f"a text of {len(text)} characters exceeds the budget of {limit}")
        return text

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.globals["lipsum"] = _lipsum
        self.filters["silverline_loop"] = _loop_items

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(nodes.For):  # every loop's items go through the budget
            loop.iter = nodes.Filter(loop.iter, "silverline_loop", [], [], None, None,
                                     lineno=loop.iter.lineno)
        return tree

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        limit = _budget().max_output_bytes
        if operator == "*" and limit is not None:
            for sequence, times in ((left, right), (right, left)):
                if (isinstance(sequence, str | list | tuple) and isinstance(times, int)
                        and len(sequence) * times > limit):
                    raise BudgetExceeded(f"a repetition of {len(sequence) * times} items "
                                         f"exceeds the budget of {limit}")
        if (operator == "**" and isinstance(left, int) and isinstance(right, int)
                and abs(left) > 1 and right * left.bit_length() > 1_000_000):
            raise BudgetExceeded(f"{left} ** {right} exceeds the budget of 1,000,000 bits")
        return super().call_binop(context, operator, left, right)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if not (exposable(value) and exposable(obj)):
            return False
        if not _WRAPS_FORMAT and attr in ("format", "format_map") and isinstance(obj, str):
            return False
        return bool(super().is_safe_attribute(obj, attr, value))

    def is_safe_callable(self, obj: Any) -> bool:
        _tick()  # every call of a template asks: a busy template keeps asking
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
