"""The Jinja2 environment (autoescape on for every template) and the helpers templates use.

Every link in the site is relative (``root`` is ``../`` on a page one folder down), so the
folder works from ``file://`` and under any path of any static host.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from lineage.model import redact_url

__all__ = ["TEMPLATES", "anchor", "environment"]

TEMPLATES = Path(__file__).parent / "templates"
_ANCHOR_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def anchor(column: str) -> str:
    """The HTML id of a column row (the same rule as ``SL.anchor`` in site.js)."""
    return "col-" + _ANCHOR_UNSAFE.sub(lambda m: f".{ord(m.group()):x}.", column)


def _when(moment: datetime | None) -> str:
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")


def _duration(start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None:
        return ""
    seconds = (end - start).total_seconds()
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _number(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "" if value is None else str(value)
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.4g}"


def environment() -> Environment:
    """A Jinja environment over ``templates/`` with autoescape for every file."""
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["anchor"] = anchor
    env.filters["when"] = _when
    env.filters["number"] = _number
    env.filters["masked"] = redact_url
    env.globals["duration"] = _duration
    return env
