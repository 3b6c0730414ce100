"""What every contract reader shares: the document, its issues, sources, severities."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lineage.contracts import TODAY, RuleSeverity, Source
from lineage.model import ParseIssue
from parsers.contracts.document import Document, Path

__all__ = ["Context", "bound_value", "search_pattern", "severity_of"]

_NOW_WORDS = {"now", "today", "now()", "today()", "datetime.now()", "current_date"}


@dataclass
class Context:
    """One file being read: ``issue`` records a problem with an item and reading goes on."""

    doc: Document
    issues: list[ParseIssue] = field(default_factory=list)

    @property
    def file(self) -> str:
        return self.doc.file

    def source(self, path: Path) -> Source:
        return Source(self.doc.file, self.doc.line(path))

    def issue(self, message: str, path: Path) -> None:
        where = "/".join(str(p) for p in path)
        text = f"{message} (at {where})" if where else message
        self.issues.append(ParseIssue(text, line=self.doc.line(path), file=self.doc.file))


def severity_of(raw: Any, default: RuleSeverity = RuleSeverity.ERROR) -> RuleSeverity:
    """``warn`` / ``warning`` / ``info`` -> WARNING; ``error`` / ``fail`` -> ERROR."""
    if raw is None:
        return default
    text = str(raw).strip().lower()
    if text in ("warn", "warning", "info", "low", "minor"):
        return RuleSeverity.WARNING
    if text in ("error", "fail", "failure", "critical", "high", "major", "blocker"):
        return RuleSeverity.ERROR
    raise ValueError(f"unknown severity {raw!r} (warning or error)")


def bound_value(raw: Any) -> int | float | str:
    """A min / max as written: a number, ISO text, or ``TODAY`` for "now" / "today"."""
    if isinstance(raw, Mapping):  # GE's evaluation parameters: {"$PARAMETER": "now()"}
        raw = next(iter(raw.values()), None)
    if isinstance(raw, bool) or raw is None or isinstance(raw, list | dict):
        raise ValueError(f"not a bound: {raw!r} (a number or an ISO date)")
    if isinstance(raw, int | float):
        return raw
    text = str(raw).strip()
    if text.lower() in _NOW_WORDS or text.lower().startswith(("now(", "datetime.now")):
        return TODAY
    return text


def search_pattern(regex: str) -> str:
    """A regexp that *searches* (ECMA-262 / JSON Schema ``pattern``, as ODCS and
    datacontract-cli read it) as the whole-value pattern of a ``pattern`` constraint.

    An open side gets ``.*``: ``[0-9]{6}`` becomes ``.*[0-9]{6}.*``; ``^CUST[0-9]{4}$``
    stays. An alternation is wrapped whole (``.*(?:a|b$).*``), since anchors inside it
    bind to one branch only.
    """
    if "|" in regex:
        return f".*(?:{regex}).*"
    closed = regex.endswith("$") and not regex.endswith("\\$")
    return ("" if regex.startswith("^") else ".*") + regex + ("" if closed else ".*")
