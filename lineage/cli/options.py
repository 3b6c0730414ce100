"""What every command group shares: common options, output formats, the error console.

One definition per option keeps ``--catalog`` and ``--format`` meaning the same thing in
every command (``lineage scan``, ``impact``, ``show``, ``ingest``, ``push datahub`` ...).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.spinner import Spinner

from lineage.errors import InputError

__all__ = [
    "INDENT_BELOW_BYTES",
    "CatalogOption",
    "GraphFormat",
    "OutputFormat",
    "StepStatus",
    "StrictOption",
    "print_issues",
    "require_paths",
    "stderr",
    "step_status",
    "write_json",
]

#: Where problems and warnings go, so that stdout stays one parseable document.
stderr = Console(stderr=True)


class OutputFormat(str, Enum):
    json = "json"
    table = "table"


class GraphFormat(str, Enum):
    table = "table"
    json = "json"
    mermaid = "mermaid"


CatalogOption = Annotated[
    str | None,
    typer.Option(
        "--catalog",
        help="Catalog URL (default: $LINEAGE_CATALOG_URL, catalog.url in lineage.yml, "
        "or .lineage/catalog.db).",
    ),
]

StrictOption = Annotated[
    bool, typer.Option("--strict", help="Exit 1 when any input could not be read.")
]


def print_issues(issues: Iterable[object]) -> None:
    """One yellow line per problem on stderr, never wrapped (``file:line`` stays greppable).

    An issue is text, not markup: ``pip install 'silverline[snowflake]'`` or a driver's
    ``[parameters: ...]`` would otherwise be taken for tags and vanish."""
    for issue in issues:
        stderr.print(f"[yellow]{escape(str(issue))}[/]", highlight=False, soft_wrap=True)


def require_paths(paths: Iterable[str | Path]) -> None:
    """Every local path given exists (``-``, stdin, is not a path): checked before the
    catalog and the parsers are imported or anything is written, so a typo costs a quarter
    of a second and no half-done run.

    Raises:
        InputError: the first path that does not exist, naming it.
    """
    for path in paths:
        if str(path) != "-" and not Path(path).exists():
            raise InputError("no such file or folder", file=str(path))


#: Above this size a JSON document is written compact: only the compact form goes through
#: the C encoder (a 2,000-model scan's 30 MB: 0.4 s, indented: 8 s).
INDENT_BELOW_BYTES = 1_000_000


class StepStatus:
    """A status line updated by hand: no refresh thread, so the docs build below it may
    fork its page workers (``docs_site.parallel`` forks only a single-threaded process)."""

    def __init__(self, live: Live) -> None:
        self._live = live

    def update(self, text: str) -> None:
        self._live.update(Spinner("dots", text), refresh=True)


@contextmanager
def step_status(console: Console, text: str) -> Iterator[StepStatus]:
    """Like ``console.status(text)``, without its animation thread."""
    with Live(Spinner("dots", text), console=console, auto_refresh=False,
              transient=True) as live:  # fmt: skip
        yield StepStatus(live)


def write_json(document: Any) -> None:
    """The command's result as one JSON document on stdout: indented for a person to
    read, or on one line when it is larger than ``INDENT_BELOW_BYTES`` (a tool reads it)."""
    text = json.dumps(document, default=str, separators=(",", ":"))
    if len(text) < INDENT_BELOW_BYTES:
        text = json.dumps(document, indent=2, default=str)
    sys.stdout.write(text + "\n")
