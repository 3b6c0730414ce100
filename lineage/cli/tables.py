"""Tables that may run to thousands of rows (``lineage impact`` of a root column, the
lineage of every model of a ``lineage scan --format table``).

Rich lays a table out cell by cell — measuring, wrapping and cropping each — at about a
quarter of a millisecond a row: 2,000 impacted columns took half a second to print, more
than the catalog took to answer, and a 2,000-model scan's tables 52 s. Up to
``RICH_ROWS`` rows a rich table is drawn; above that, plain columns padded to their
widest cell (capped, so one long cell pushes only its own row), one line per row and
never wrapped or cropped, so ``grep`` and ``cut`` see every value whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

__all__ = ["RICH_ROWS", "Cell", "print_rows"]

#: A cell: text, or rich ``Text`` whose style shows in a rich table (plain: its text).
Cell: TypeAlias = "str | Text"

#: Above this many rows the table is printed plain.
RICH_ROWS = 200
#: No column is padded wider than this; a longer cell makes its row longer.
_PAD_AT_MOST = 60
_GAP = "  "


def print_rows(
    console: Console,
    title: str,
    headings: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    *,
    plain: bool | None = None,
) -> None:
    """``rows`` under ``headings``, titled: every cell is text, never rich markup.
    ``plain``: the plain form whatever the size (one of many tables that are long in all);
    None: plain above ``RICH_ROWS`` rows."""
    if not (len(rows) > RICH_ROWS if plain is None else plain):
        table = Table(title=title, title_justify="left")
        for heading in headings:
            table.add_column(heading)
        for row in rows:
            table.add_row(*(cell if isinstance(cell, Text) else Text(cell) for cell in row))
        console.print(table)
        return
    texts = [[_text(cell) for cell in row] for row in rows]
    widths = [
        min(_PAD_AT_MOST, max([cell_len(heading), *(cell_len(row[i]) for row in texts)]))
        for i, heading in enumerate(headings)
    ]
    console.print(Text(title, style="italic"), soft_wrap=True)
    console.print(Text(_line(headings, widths), style="bold"), soft_wrap=True)
    console.print(Text(_line(["-" * w for w in widths], widths), style="dim"), soft_wrap=True)
    # Written past rich: one string for the lot, no layout, no markup.
    console.file.write("".join(_line(row, widths) + "\n" for row in texts))
    console.file.flush()


def _text(cell: Cell) -> str:
    return cell.plain if isinstance(cell, Text) else cell


def _line(cells: Sequence[str], widths: Sequence[int]) -> str:
    last = len(cells) - 1
    return _GAP.join(
        cell if i == last else cell + " " * max(0, width - cell_len(cell))
        for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
    ).rstrip()
