"""What rendering each model gave the last scan, so a rescan renders only what changed.

Both Jinja passes of every model used to run on every scan that was not served whole
from the batch cache: after a one-model edit of a 2,000-model project, rendering took
about 1.5 s of the rescan. The memo keeps, per model, what each pass produced, keyed by
everything it depends on:

- **The project's other files.** ``globals`` hashes every file dbt reads except the model
  files themselves (macros, packages, YAML, ``dbt_project.yml``; with the values of the
  environment variables they name), the target, dialect, vars and Silverline's code. If
  any of them changed, nothing in the memo is used.
- **The first pass** (config, refs, sources) depends only on the model's own file, its
  folder and YAML config, and the environment variables its text names.
- **The second pass** (the compiled SQL) depends on the model's final config, its own
  relation, and what its ``ref`` / ``source`` / ``adapter.get_columns_in_relation``
  calls answered. The answers are recorded, and the memo is used only when asking again
  gives every one of them back unchanged; so a model reading an edited one is rendered
  again when what it saw of it changed, and only then.

Only successful renders are kept (a failure, a time-out under load among them, is
rendered again). ``run_started_at`` and ``invocation_id`` keep the value of the render
that produced the SQL. The file is a cache like the others (``parsers.sql.cache``):
checked value by value when read, so a bad entry is a miss, never an error.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from lineage.model import ParseIssue
from parsers.dbt.context import Resolver
from parsers.dbt.relation import Column, CompileProblem, Relation
from parsers.sql.cache import CacheFile, env_var_names, project_fingerprint

__all__ = ["FirstPass", "RenderMemo", "SecondPass"]

_T = TypeVar("_T")


@dataclass(frozen=True)
class FirstPass:
    """dbt's parse of one model: what its ``config()`` calls set, what it reads."""

    config_calls: dict[str, Any]
    refs: list[tuple[str | None, str]]
    sources: list[tuple[str, str]]


@dataclass(frozen=True)
class SecondPass:
    """One model compiled: its SQL and notes, and the resolver's answers it was built on."""

    stage: str  # the model's config, relation and is_incremental(), hashed
    calls: list[Any]  # [[call, answer], ...] as ``_Recorder`` wrote them
    sql: str
    notes: list[ParseIssue]


class RenderMemo:
    """The render memo of one project, kept in ``file`` (see the module's docstring)."""

    def __init__(self, file: CacheFile | None) -> None:
        self.file = file
        self.globals: str | None = None
        self._saved: dict[str, Any] = {}  # model key -> entry, as read
        self._now: dict[str, Any] = {}  # the entries of this scan's models
        self._changed = False
        self.rendered = 0  # passes rendered (not served), for tests and benchmarks

    def start(self, project: Path, settings: str, model_paths: Sequence[str]) -> None:
        """Hash what every model's render depends on; read the memo when it matches."""
        folders = tuple(f"{p.strip('/')}/" for p in model_paths)

        def model_file(relative: str) -> bool:
            return relative.startswith(folders) and relative.endswith((".sql", ".py"))

        self.globals = project_fingerprint(project, settings, skip=model_file)
        document = self.file.read() if self.file is not None else None
        if not isinstance(document, dict) or document.get("globals") != self.globals:
            self._changed = True
            return
        models = document.get("models")
        if isinstance(models, dict):
            self._saved = models

    # -- keys ----------------------------------------------------------------------------

    def model_key(self, file: str, resource_type: str, fqn: Sequence[str], text: str,
                  base_config: Mapping[str, Any]) -> str | None:  # fmt: skip
        """What a model's first pass depends on, hashed; None: it cannot be memoized."""
        if self.globals is None or not _plain(dict(base_config)):
            return None
        env = {name: os.environ.get(name) for name in env_var_names(text.encode())}
        return _digest([self.globals, file, resource_type, list(fqn), text, base_config, env])

    @staticmethod
    def stage_key(config: Mapping[str, Any], this: Relation, incremental: bool) -> str | None:
        """What a model's second pass depends on besides its resolver's answers."""
        if not _plain(dict(config)):
            return None
        return _digest([config, _relation(this), incremental])

    # -- the first pass --------------------------------------------------------------------

    def first(self, key: str) -> FirstPass | None:
        """The first pass kept for ``key``, if there is a sound one."""
        entry = self._entry(key)
        found = _first_pass(entry.get("first")) if entry is not None else None
        if found is not None:
            assert entry is not None
            self._now.setdefault(key, {})["first"] = entry["first"]
        return found

    def remember_first(self, key: str, found: FirstPass) -> None:
        self.rendered += 1
        if not _plain(found.config_calls):
            return
        self._now[key] = {
            "first": [found.config_calls, [list(r) for r in found.refs],
                      [list(s) for s in found.sources]],
        }  # fmt: skip
        self._changed = True

    # -- the second pass -------------------------------------------------------------------

    def second(self, key: str, stage: str, resolver: Resolver) -> SecondPass | None:
        """The SQL kept for ``key`` if ``stage`` matches and ``resolver`` answers every
        recorded call as it did then."""
        entry = self._entry(key)
        found = _second_pass(entry.get("second")) if entry is not None else None
        if found is None or found.stage != stage:
            return None
        for call, answer in found.calls:
            try:
                if _ask(resolver, call) != answer:
                    return None
            except (CompileProblem, ValueError, TypeError, IndexError):
                return None
        assert entry is not None
        self._now.setdefault(key, {})["second"] = entry["second"]
        return found

    def recorder(self, resolver: Resolver) -> _Recorder:
        """``resolver``, writing down what it answers."""
        return _Recorder(resolver)

    def remember_second(self, key: str, found: SecondPass) -> None:
        self.rendered += 1
        if key not in self._now:
            return  # its first pass is not kept: neither is this
        self._now[key]["second"] = [
            found.stage, found.calls, found.sql, [_issue_json(n) for n in found.notes],
        ]
        self._changed = True

    # -- the file ----------------------------------------------------------------------

    def save(self) -> None:
        """Keep this scan's entries (and only those: a deleted model's go)."""
        if self.file is None or self.globals is None:
            return
        for key, entry in self._now.items():
            # A second pass this process did not see (a forked worker's) keeps its record:
            # a record is only ever used where its recorded answers still hold.
            kept = self._saved.get(key)
            if "second" not in entry and isinstance(kept, dict) and "second" in kept:
                entry["second"] = kept["second"]
        if not self._changed and self._now.keys() == self._saved.keys():
            return
        self.file.write({"globals": self.globals, "models": self._now})

    def _entry(self, key: str) -> dict[str, Any] | None:
        """What the last scan kept for ``key`` (this scan's entries are being written)."""
        entry = self._saved.get(key)
        return entry if isinstance(entry, dict) else None


class _Recorder:
    """A ``Resolver`` that records each call and its answer, as JSON values."""

    def __init__(self, inner: Resolver) -> None:
        self.inner = inner
        self.calls: list[Any] = []
        self.complete = True  # every call could be written down

    def ref(self, name: str, package: str | None, version: Any) -> Relation:
        call = ["ref", name, package, version]
        return self._record(call, lambda: self.inner.ref(name, package, version))

    def source(self, source_name: str, table_name: str) -> Relation:
        call = ["source", source_name, table_name]
        return self._record(call, lambda: self.inner.source(source_name, table_name))

    def columns(self, relation: Relation) -> list[Column] | None:
        call = ["columns", _relation(relation)]
        return self._record(call, lambda: self.inner.columns(relation))

    def _record(self, call: list[Any], ask: Callable[[], _T]) -> _T:
        try:
            answer = ask()
        except CompileProblem as exc:
            self._write(call, ["error", str(exc)])
            raise
        self._write(call, _answer(answer))
        return answer

    def _write(self, call: list[Any], answer: Any) -> None:
        if _plain(call) and _plain(answer):
            self.calls.append([call, answer])
        else:
            self.complete = False


def _ask(resolver: Resolver, call: list[Any]) -> Any:
    """What ``resolver`` answers to a recorded call now, as recorded answers are written."""
    kind = call[0]
    try:
        if kind == "ref":
            _, name, package, version = call
            return _answer(resolver.ref(str(name), package, version))
        if kind == "source":
            _, source_name, table_name = call
            return _answer(resolver.source(str(source_name), str(table_name)))
        if kind == "columns":
            database, schema, identifier, dialect, type_ = call[1]
            return _answer(resolver.columns(Relation(database, schema, str(identifier),
                                                     dialect, type_)))  # fmt: skip
    except CompileProblem as exc:
        return ["error", str(exc)]
    raise ValueError(f"unknown call {kind!r}")


def _answer(value: Any) -> Any:
    if isinstance(value, Relation):
        return ["relation", *_relation(value)]
    if value is None:
        return None
    if isinstance(value, list) and all(isinstance(c, Column) for c in value):
        return ["columns", [[c.column, c.data_type] for c in value]]
    return ["other", repr(value)]  # never equal to a fresh object's: a miss


def _relation(relation: Relation) -> list[str | None]:
    return [relation.database, relation.schema, relation.identifier, relation.dialect,
            relation.type]  # fmt: skip


# -- checked decoding ---------------------------------------------------------------------


def _first_pass(value: Any) -> FirstPass | None:
    if not (isinstance(value, list) and len(value) == 3):
        return None
    config_calls, refs, sources = value
    if not isinstance(config_calls, dict) or not _plain(config_calls):
        return None
    if not (_pairs(refs, optional_first=True) and _pairs(sources, optional_first=False)):
        return None
    return FirstPass(config_calls, [(a, b) for a, b in refs], [(a, b) for a, b in sources])


def _pairs(value: Any, *, optional_first: bool) -> bool:
    return isinstance(value, list) and all(
        isinstance(p, list) and len(p) == 2 and isinstance(p[1], str)
        and (isinstance(p[0], str) or (optional_first and p[0] is None))
        for p in value
    )  # fmt: skip


def _second_pass(value: Any) -> SecondPass | None:
    if not (isinstance(value, list) and len(value) == 4):
        return None
    stage, calls, sql, notes = value
    if not (isinstance(stage, str) and isinstance(sql, str) and isinstance(calls, list)):
        return None
    if not all(isinstance(c, list) and len(c) == 2 and isinstance(c[0], list) and c[0]
               for c in calls):  # fmt: skip
        return None
    issues = [_issue(n) for n in notes] if isinstance(notes, list) else [None]
    if any(issue is None for issue in issues):
        return None
    return SecondPass(stage, calls, sql, [i for i in issues if i is not None])


def _issue_json(issue: ParseIssue) -> list[Any]:
    return [issue.message, issue.line, issue.column, issue.text, issue.file]


def _issue(value: Any) -> ParseIssue | None:
    if not (isinstance(value, list) and len(value) == 5):
        return None
    message, line, column, text, file = value
    if not isinstance(message, str):
        return None
    if not all(v is None or (isinstance(v, int) and not isinstance(v, bool))
               for v in (line, column)):  # fmt: skip
        return None
    if not all(v is None or isinstance(v, str) for v in (text, file)):
        return None
    return ParseIssue(message, line, column, text, file)


def _plain(value: Any, depth: int = 0) -> bool:
    """JSON that reads back as the same Python value (no tuples, no objects)."""
    if depth > 50:
        return False
    if value is None or type(value) in (str, int, float, bool):
        return True
    if type(value) is list:
        return all(_plain(v, depth + 1) for v in value)
    if type(value) is dict:
        return all(type(k) is str and _plain(v, depth + 1) for k, v in value.items())
    return False


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=repr)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
