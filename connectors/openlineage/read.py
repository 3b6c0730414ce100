"""Reading OpenLineage events: files, folders, JSON lines, arrays, single documents.

``read_events`` never raises for bad content: each item that is not an event comes back
with a ``ParseIssue`` naming its file and line (and column, for bad JSON), so a caller can
report it and go on with the rest (JSON nested deeper than the ``json`` module recurses,
``[[[[...]]]]``, included). ``event_problem`` says what makes a document unusable;
``event_time`` reads ``eventTime`` as producers write it (``Z``, offsets, nanoseconds).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from lineage.model import ParseIssue

__all__ = ["EVENT_SUFFIXES", "EventLine", "event_problem", "event_time", "is_named", "read_events"]

#: File suffixes read from a folder of events.
EVENT_SUFFIXES = (".json", ".jsonl", ".ndjson")
_FRACTION = re.compile(r"(\.\d{6})\d+")  # Java producers write nanoseconds


@dataclass(frozen=True)
class EventLine:
    """One item read from a source: the event, or the issue that kept it out."""

    event: Mapping[str, Any] | None
    file: str | None = None
    line: int | None = None
    issue: ParseIssue | None = None


def read_events(source: str | os.PathLike[str] | Iterable[Any]) -> Iterator[EventLine]:
    """Events from a file or folder path, or from an iterable of JSON lines / dicts.

    A path (``str`` or ``Path``) is a file, or a folder whose ``*.json``, ``*.jsonl`` and
    ``*.ndjson`` files are read in name order. Any other iterable yields JSON text lines,
    already-parsed dicts, or ``Path`` objects. Never raises for bad content: each bad item
    comes back as an ``EventLine`` with an ``issue`` (file and line when known).
    """
    if isinstance(source, str | os.PathLike):
        yield from _read_path(Path(source))
        return
    for number, item in enumerate(source, start=1):
        if isinstance(item, os.PathLike):
            yield from _read_path(Path(item))
        elif isinstance(item, Mapping):
            yield _checked(item, None, number)
        elif isinstance(item, bytes | str):
            text = item.decode("utf-8", "replace") if isinstance(item, bytes) else item
            if text.strip():
                yield _parse_line(text, None, number)
        else:
            issue = ParseIssue(f"not an event: {type(item).__name__}", line=number)
            yield EventLine(None, None, number, issue)


def _read_path(path: Path) -> Iterator[EventLine]:
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in EVENT_SUFFIXES)
        for file in files:
            yield from _read_file(file)
        return
    yield from _read_file(path)


def _read_file(path: Path) -> Iterator[EventLine]:
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        yield EventLine(None, name, None, ParseIssue(f"cannot read: {exc.strerror}", file=name))
        return
    stripped = text.lstrip()
    if stripped.startswith("[") or (stripped.startswith("{") and "\n{" not in stripped):
        # A JSON array, or one (possibly pretty-printed) event: the file transport's format.
        try:
            document = json.loads(text)
        except (json.JSONDecodeError, RecursionError):
            document = None  # maybe JSON lines after all: each line says what is wrong
        if isinstance(document, list):
            for index, item in enumerate(document, start=1):
                line = _checked(item, name, None)
                if line.issue is not None:
                    issue = replace(line.issue, message=f"item {index}: {line.issue.message}")
                    line = replace(line, issue=issue)
                yield line
            return
        if isinstance(document, dict):
            yield _checked(document, name, 1)
            return
    for number, raw in enumerate(text.splitlines(), start=1):
        if raw.strip():
            yield _parse_line(raw, name, number)


def _parse_line(text: str, file: str | None, number: int | None) -> EventLine:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        issue = ParseIssue(
            f"not JSON: {exc.msg}", line=number, column=exc.colno, text=text[:200], file=file
        )
        return EventLine(None, file, number, issue)
    except RecursionError:
        issue = ParseIssue(_TOO_DEEP, line=number, text=text[:200], file=file)
        return EventLine(None, file, number, issue)
    return _checked(document, file, number)


_TOO_DEEP = "JSON nested too deeply to read"


def _checked(document: Any, file: str | None, number: int | None) -> EventLine:
    problem = event_problem(document)
    if problem is None:
        return EventLine(document, file, number)
    return EventLine(None, file, number, ParseIssue(problem, line=number, file=file))


def event_problem(document: Any) -> str | None:
    """Why ``document`` is not an OpenLineage event we can record, or None."""
    if not isinstance(document, Mapping):
        return f"not an OpenLineage event: a JSON {type(document).__name__}"
    if "eventTime" not in document:
        return "not an OpenLineage event: no eventTime"
    try:
        event_time(document)
    except ValueError as exc:
        return f"bad eventTime: {exc}"
    if "run" in document:
        run, job = document.get("run"), document.get("job")
        if not isinstance(run, Mapping) or not isinstance(run.get("runId"), str):
            return "run event without run.runId"
        if not is_named(job):
            return "run event without job.namespace and job.name"
        if document.get("eventType") not in (None, *_STATES):
            return f"unknown eventType {document.get('eventType')!r}"
        return None
    if "dataset" in document:
        return None if is_named(document["dataset"]) else "dataset event without a named dataset"
    if "job" in document:
        return None if is_named(document["job"]) else "job event without job.namespace and name"
    return "not an OpenLineage event: no run, job or dataset"


_STATES = ("START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER")


def is_named(value: Any) -> bool:
    """True for a ``{"namespace": str, "name": str, ...}`` object (a job or dataset)."""
    return (
        isinstance(value, Mapping)
        and isinstance(value.get("namespace"), str)
        and isinstance(value.get("name"), str)
    )


def event_time(event: Mapping[str, Any]) -> datetime:
    """The event's ``eventTime`` as an aware datetime (naive times are taken as UTC).

    Raises:
        ValueError: the value is not an ISO 8601 date-time.
    """
    raw = event.get("eventTime")
    if not isinstance(raw, str) or "T" not in raw.upper():
        raise ValueError(f"{raw!r} is not an ISO 8601 date-time")
    text = _FRACTION.sub(r"\1", raw.strip())
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    when = datetime.fromisoformat(text)
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)
