"""Models rendered without compiling jinja2: ``{{ ref('x') }}``-only templates.

Compiling a template costs jinja2 about ten times what rendering it does, and most
models of a big project use Jinja only for calls with literal arguments. Those are
evaluated here against the same context; anything else goes to jinja2.

No way around the sandbox: an expression is only literals, ``this`` and calls of a
context name or of ``namespace.macro`` on one of our macro namespaces (no subscription,
no attribute chain, no private name); the one attribute is read through the sandbox's
own ``getattr`` and every call is checked as the sandbox checks it, so what is refused
in jinja2 is refused here (and re-rendered by jinja2 for its error and line).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from parsers.dbt.builtins import CrossDbMacros, DbtUtilsMacros
from parsers.dbt.context import PackageNamespace

__all__ = ["FastTemplate"]

_FAST_EXPRESSION = re.compile(r"{{(.*?)}}", re.S)
_FAST_NAMES = {"true": True, "false": False, "none": None, "True": True, "False": False,
               "None": None}
# dbt kwargs that are Python keywords (``star(from=..., except=[...])``): renamed to parse.
_KEYWORD_ARGS = re.compile(r"\b(from|except)(\s*=(?!=))")
_Expr = tuple[Any, ...]  # ("lit", value) | ("name", name) | ("call", path, args, kwargs)


@dataclass(frozen=True)
class FastTemplate:
    """A model whose Jinja is only ``{{ call(...) }}`` expressions and ``{{ this }}``.

    Calls are names from the dbt context (``ref``, ``source``, ``config``, ``var``, a
    project macro) or ``namespace.macro`` (``dbt_utils.star``), with literal arguments or
    such calls as arguments. ``render`` evaluates them against the same context jinja2
    would use; a model with tags, filters, operators or whitespace control is not a
    FastTemplate, and any failure is re-rendered by jinja2 (for its error and line).
    """

    source: str
    file: str
    pieces: tuple[str | _Expr, ...]
    lines: tuple[int, ...]  # the line of each expression, in order

    @classmethod
    def parse(cls, source: str, file: str) -> FastTemplate | None:
        """The template, or None when it needs jinja2."""
        if "{%" in source or "{#" in source or "\r" in source or "{{-" in source or (
            "-}}" in source
        ):
            return None
        pieces: list[str | _Expr] = []
        lines: list[int] = []
        position = 0
        for match in _FAST_EXPRESSION.finditer(source):
            expression = _fast_expression(match.group(1).strip())
            if expression is None:
                return None
            pieces.append(source[position : match.start()])
            pieces.append(expression)
            lines.append(source.count("\n", 0, match.start()) + 1)
            position = match.end()
        pieces.append(source[position:])
        if any("{{" in p or "}}" in p for p in pieces if isinstance(p, str)):
            return None
        return cls(source, file, tuple(pieces), tuple(lines))

    def render(self, context: Mapping[str, Any], at_line: Callable[[int], None] | None,
               sandbox: SandboxedEnvironment) -> str:
        """The rendered text; raises whatever the called functions (or the sandbox) raise.

        ``at_line`` is told the line of each expression before it is evaluated;
        ``sandbox`` is the environment jinja2 would render with, whose rules apply.
        """
        out: list[str] = []
        lines = iter(self.lines)
        for piece in self.pieces:
            if isinstance(piece, str):
                out.append(piece)
                continue
            if at_line is not None:
                at_line(next(lines))
            out.append(str(_evaluate(piece, context, sandbox)))
        return "".join(out)


def _evaluate(expression: _Expr, context: Mapping[str, Any], sandbox: SandboxedEnvironment
              ) -> Any:
    kind = expression[0]
    if kind == "lit":
        return expression[1]
    if kind == "name":
        return context[expression[1]]
    _, path, args, kwargs = expression
    function = context[path[0]]
    if len(path) == 2:
        # Only our own namespaces, and through the sandbox's attribute rules.
        if not isinstance(function, DbtUtilsMacros | CrossDbMacros | PackageNamespace):
            raise TypeError(f"{path[0]} is not a macro namespace")
        function = sandbox.getattr(function, path[1])
    if not sandbox.is_safe_callable(function):
        raise SecurityError(f"{'.'.join(path)} is not safely callable")
    return function(*(_evaluate(a, context, sandbox) for a in args),
                    **{k: _evaluate(v, context, sandbox) for k, v in kwargs})


def _fast_expression(text: str) -> _Expr | None:
    """``ref('x')`` -> ("call", ("ref",), (("lit", "x"),), ()); None if jinja2 must do it."""
    renamed = _KEYWORD_ARGS.sub(r"\1_\2", text)
    try:
        node = ast.parse(renamed, mode="eval").body
    except SyntaxError:
        return None
    try:
        expression = _fast_node(node, top=True)
    except ValueError:
        return None
    if renamed != text and any(
        isinstance(n, ast.Constant) and isinstance(n.value, str)
        and ("from_" in n.value or "except_" in n.value)
        for n in ast.walk(node)
    ):
        return None  # the renaming may have touched a string literal
    return expression


def _fast_node(node: Any, top: bool = False) -> _Expr:
    if isinstance(node, ast.Name) and node.id == "this":
        return ("name", "this")
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Name):
            path: tuple[str, ...] = (func.id,)
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            path = (func.value.id, func.attr)
        else:
            raise ValueError("not a plain call")
        if any(p.startswith("_") for p in path) or any(k.arg is None for k in node.keywords):
            raise ValueError("private name or **kwargs")
        args = tuple(_fast_node(a) for a in node.args)
        kwargs = tuple((_KEYWORD_NAMES.get(str(k.arg), str(k.arg)), _fast_node(k.value))
                       for k in node.keywords)
        return ("call", path, args, kwargs)
    if top:
        raise ValueError("only calls are rendered without jinja2")
    return ("lit", _literal(node))


_KEYWORD_NAMES = {"from_": "from", "except_": "except"}


def _literal(node: Any) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, str | int | float | bool):
        return node.value
    if isinstance(node, ast.Name) and node.id in _FAST_NAMES:
        return _FAST_NAMES[node.id]
    if isinstance(node, ast.List | ast.Tuple):
        return [_literal(e) for e in node.elts]
    if isinstance(node, ast.Dict) and all(k is not None for k in node.keys):
        return {_literal(k): _literal(v) for k, v in zip(node.keys, node.values, strict=True)}
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        value = _literal(node.operand)
        if isinstance(value, int | float):
            return -value
    raise ValueError("not a literal")
