"""A minimal, safe Markdown renderer for runbook notes.

Supports headings (``#``..``###``), paragraphs, ``-``/``*`` lists, fenced code blocks,
inline code, ``**bold**``, ``*emphasis*`` and ``[text](url)`` links with http(s), mailto
or relative URLs only. All text is HTML-escaped first: a note holding ``<script>`` or
``<img onerror=...>`` renders as text, and a ``javascript:`` link as plain text.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

__all__ = ["render_markdown"]

_HEADING = re.compile(r"^(#{1,3})\s+(.*)$")
_ITEM = re.compile(r"^\s*[-*]\s+(.*)$")
_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_EM = re.compile(r"(?<![*\w])\*([^*\s][^*]*?)\*(?!\*)")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_SAFE_URL = re.compile(r"^(?:https?://|mailto:|#|\.{0,2}/|[A-Za-z0-9_][A-Za-z0-9_./-]*$)", re.I)


def render_markdown(text: str) -> Markup:
    """``text`` (Markdown) as safe HTML."""
    blocks: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []
    lines = text.replace("\r\n", "\n").split("\n")
    i = 0

    def flush() -> None:
        if paragraph:
            blocks.append(f"<p>{_inline(' '.join(paragraph))}</p>")
            paragraph.clear()
        if items:
            blocks.append("<ul>" + "".join(f"<li>{_inline(t)}</li>" for t in items) + "</ul>")
            items.clear()

    while i < len(lines):
        line = lines[i]
        if line.strip().startswith("```"):
            flush()
            code: list[str] = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith("```"):
                code.append(lines[i])
                i += 1
            blocks.append(f"<pre><code>{escape(chr(10).join(code))}</code></pre>")
        elif heading := _HEADING.match(line):
            flush()
            level = len(heading.group(1)) + 2  # the page has h1/h2 already
            blocks.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif item := _ITEM.match(line):
            if paragraph:
                flush()
            items.append(item.group(1))
        elif not line.strip():
            flush()
        else:
            if items:
                flush()
            paragraph.append(line.strip())
        i += 1
    flush()
    return Markup("\n".join(blocks))


def _inline(text: str) -> str:
    """Escape, then apply the inline rules to the escaped text (never to raw HTML)."""
    codes: list[str] = []

    def keep_code(match: re.Match[str]) -> str:
        codes.append(f"<code>{match.group(1)}</code>")
        return f"\x00{len(codes) - 1}\x00"

    html = _CODE.sub(keep_code, str(escape(text)))
    html = _LINK.sub(_link, html)
    html = _BOLD.sub(r"<strong>\1</strong>", html)
    html = _EM.sub(r"<em>\1</em>", html)
    return re.sub("\x00(\\d+)\x00", lambda m: codes[int(m.group(1))], html)


def _link(match: re.Match[str]) -> str:
    label, url = match.group(1), match.group(2)
    raw = url.replace("&amp;", "&")
    if not _SAFE_URL.match(raw) or (":" in raw.split("/")[0] and not re.match(
        r"^(https?|mailto):", raw, re.I
    )):
        return label
    return f'<a href="{url}" rel="noopener noreferrer">{label}</a>'
