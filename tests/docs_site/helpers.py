"""Reading built pages: a dataset's page by its name, and the visible text of HTML."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path


def page_of(site: Path, folder: str, name: str) -> str:
    """The HTML of the page under ``folder`` whose file name starts with ``name-``."""
    matches = sorted((site / folder).glob(f"{name}-*.html"))
    assert len(matches) == 1, (folder, name, matches)
    return matches[0].read_text(encoding="utf-8")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.scripts: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if self._skip:
            self.scripts.append(data)
        else:
            self.parts.append(data)


def parse(html: str) -> _Text:
    parser = _Text()
    parser.feed(html)
    return parser


def text_of(html: str) -> str:
    """The visible text, whitespace collapsed."""
    return " ".join(" ".join(parse(html).parts).split())
