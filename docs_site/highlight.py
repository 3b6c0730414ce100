"""A small server-side SQL highlighter: keywords, strings, numbers, comments, Jinja.

Every piece of text is escaped before it is wrapped in a ``<span>``, so SQL holding
``<script>`` or ``{{ }}`` shows as text.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

__all__ = ["highlight_sql"]

_KEYWORDS = frozenset((
    "select", "from", "where", "join", "left", "right", "inner", "outer", "full", "cross",
    "on", "and", "or", "not", "as", "case", "when", "then", "else", "end", "group", "by",
    "order", "having", "limit", "offset", "union", "all", "distinct", "insert", "into",
    "values", "update", "set", "delete", "create", "replace", "table", "view",
    "materialized", "with", "cast", "try_cast", "is", "null", "in", "exists", "between",
    "like", "ilike", "over", "partition", "window", "qualify", "merge", "using", "matched",
    "returning", "drop", "alter", "truncate", "asc", "desc", "true", "false", "interval",
    "coalesce", "nullif",
))
_TOKEN = re.compile(
    r"(?P<comment>--[^\n]*|/\*.*?\*/)"
    r"|(?P<jinja>\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\})"
    r"|(?P<string>'(?:[^']|'')*')"
    r"|(?P<ident>\"(?:[^\"]|\"\")*\"|`[^`]*`)"
    r"|(?P<number>\b\d+(?:\.\d+)?\b)"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_]*)",
    re.S,
)


def highlight_sql(sql: str) -> Markup:
    """``sql`` as escaped HTML with ``<span class="sql-...">`` around its tokens."""
    out: list[str] = []
    position = 0
    for match in _TOKEN.finditer(sql):
        out.append(str(escape(sql[position : match.start()])))
        kind = match.lastgroup or "word"
        text = match.group()
        if kind == "word":
            kind = "kw" if text.lower() in _KEYWORDS else ""
        piece = str(escape(text))
        out.append(f'<span class="sql-{kind}">{piece}</span>' if kind else piece)
        position = match.end()
    out.append(str(escape(sql[position:])))
    return Markup("".join(out))
