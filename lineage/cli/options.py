"""What every command group shares: common options, output formats, the error console.

One definition per option keeps ``--catalog`` and ``--format`` meaning the same thing in
every command (``lineage scan``, ``impact``, ``show``, ``ingest``, ``push datahub`` ...).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from enum import Enum
from typing import Annotated, Any

import typer
from rich.console import Console

__all__ = [
    "CatalogOption",
    "GraphFormat",
    "OutputFormat",
    "StrictOption",
    "print_issues",
    "stderr",
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
    """One yellow line per problem on stderr, never wrapped (``file:line`` stays greppable)."""
    for issue in issues:
        stderr.print(f"[yellow]{issue}[/]", highlight=False, soft_wrap=True)


def write_json(document: Any) -> None:
    """The command's result as one indented JSON document on stdout."""
    sys.stdout.write(json.dumps(document, indent=2, default=str) + "\n")
