"""Parse results kept between runs, so re-scanning an unchanged project costs hashes.

The SQL parser already caches scripts in memory by (text, dialect, defaults, schema); this
saves that cache under ``.lineage/cache/`` and loads it at the next scan. A dbt project's
whole batch is kept too, keyed by a fingerprint of every file it reads. The files are
private to this machine's Silverline and sqlglot versions: any other version, or a file
that cannot be read, is ignored and rebuilt (it is a cache, never the truth).

A scanned repository may bring its own ``.lineage/`` (committed by mistake or on purpose),
and a ``lineage.yml`` in a shared parent such as ``/tmp`` makes its ``.lineage/`` the
cache of whoever scans below it. So reading a cache file must never run code: the files
are JSON, decoded field by field into ``lineage.model``'s frozen dataclasses, driven by
their type hints (nothing in a file chooses what type is built). A file that does not
decode (truncated, another format, wrong types) is ignored with one warning line naming
it, and the scan goes on without it. The folder is created private (0700), and a folder
or file another user owns is not used at all: they could plant results or read ours.

File format (``_FORMAT``), UTF-8 JSON objects::

    sql-lineage-<silverline>-sqlglot-<sqlglot>.json
        {"format": 2, "entries": [[key, [statement, ...]], ...]}
    sql-lineage-<silverline>-sqlglot-<sqlglot>.new.jsonl
        one {"format": 2, "entries": [...]} a line: entries added since the file was
        written, read after it
    dbt-<project key>-<silverline>.json
        {"format": 2, "fingerprint": "...", "batch": batch}
    dbt-<project key>-<silverline>.summary.json
        {"format": 2, "fingerprint": "...", "summary": [[datasets, jobs, edges], [issue, ...]]}

where a key is a list of strings and a dataclass value (``StatementLineage``,
``LineageBatch``, ``ParseIssue`` ...) is the list of its fields' values in declaration
order: enums as their value, tuples as lists, nested dataclasses alike.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import tempfile
import types
import typing
from collections.abc import Callable
from contextlib import suppress
from dataclasses import fields, is_dataclass
from enum import Enum
from importlib.metadata import version
from operator import attrgetter
from pathlib import Path
from typing import Any

from lineage.model import LineageBatch, ParseIssue, StatementLineage, redacted_logger
from lineage.model.memory import building_acyclic

__all__ = [
    "CODE_VERSION",
    "BatchCache",
    "CacheFile",
    "ParseCache",
    "env_var_names",
    "project_fingerprint",
]

log = redacted_logger("parsers.sql")

_FORMAT = 2
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_Key = tuple[str, ...]
_Entry = tuple[_Key, tuple[StatementLineage, ...]]
_Summary = tuple[tuple[int, int, int], tuple[ParseIssue, ...]]
_JOURNAL_MIN = 256  # entries the parse-cache journal may hold however small the file is


def _code_version() -> str:
    """The installed distribution's version (from its metadata, as sqlglot's is) plus a
    digest of the parser and model sources' names, sizes and times: an upgraded
    Silverline, or an edited checkout, never reads an older one's results."""
    digest = hashlib.sha256()
    here = Path(__file__).resolve()
    for folder in (here.parents[1], here.parents[2] / "lineage" / "model"):  # parsers/, model
        for source in sorted(folder.rglob("*.py")):
            info = source.stat()
            digest.update(f"{source.name}:{info.st_size}:{info.st_mtime_ns};".encode())
    return f"{version('silverline')}-{digest.hexdigest()[:12]}"


#: What keys every cache file: results of other code are never read.
CODE_VERSION = _code_version()
_SILVERLINE = CODE_VERSION


class ParseCache:
    """Load and save ``parsers.sql``'s script cache in one folder.

    A scan that parsed a few new scripts appends just those to a journal beside the file
    (one JSON document a line) instead of writing every entry again: after a one-model
    edit, saving costs that model, not the project. The file is rewritten with everything
    (and the journal removed) once the journal holds a quarter of it.
    """

    def __init__(self, folder: Path) -> None:
        self.path = folder / f"sql-lineage-{_SILVERLINE}-sqlglot-{version('sqlglot')}.json"
        self.journal = folder / f"{self.path.stem}.new.jsonl"
        self._loaded = 0
        self._done = False
        self._saved: set[_Key] = set()  # keys the two files hold
        self._journaled = 0  # entries in the journal
        self._file_ok = False  # the file was read and decoded

    def load(self) -> int:
        """Add the saved results to the in-memory cache; returns how many were added."""
        if self._done:
            return self._loaded
        from parsers.sql.parse import import_cache  # sqlglot: only once there is parsing

        self._done = True
        with building_acyclic():  # thousands of saved parses: kept until the process ends
            return self._load(import_cache)

    def _load(self, import_cache: Callable[[dict[_Key, Any]], int]) -> int:
        document = _read(self.path)
        found = None if document is None else _decode(self.path, _entry_list,
                                                      document.get("entries"))  # fmt: skip
        loaded: list[_Entry] = list(found or ())
        self._file_ok = found is not None  # else the next save writes the file anew
        journaled = [entry for part in _read_lines(self.journal)
                     for entry in _decode(self.journal, _entry_list, part) or ()]  # fmt: skip
        self._journaled = len(journaled)
        entries = dict([*loaded, *journaled])
        self._saved = set(entries)
        self._loaded = import_cache(entries)
        return self._loaded

    def save(self) -> None:
        """Write what is new in the in-memory cache; failures only cost speed."""
        if not self._done:  # never loaded (nothing was parsed): keep the files as they are
            return
        from parsers.sql.parse import export_cache

        entries = export_cache()
        new = [(key, value) for key, value in entries.items() if key not in self._saved]
        if not new:
            return
        with building_acyclic():
            small = self._journaled + len(new) <= max(_JOURNAL_MIN, len(self._saved) // 4)
            if self._file_ok and small:
                line = {"format": _FORMAT, "entries": _entry_list.encode(new)}
                if _append_line(self.journal, line):
                    self._journaled += len(new)
                    self._saved.update(key for key, _ in new)
                    return
            encoded = _entry_list.encode(list(entries.items()))
        if _atomic_write(self.path, {"format": _FORMAT, "entries": encoded}):
            # What the journal held is in the file now (or was dropped from the cache).
            with suppress(OSError):
                os.unlink(self.journal)
            self._journaled = 0
            self._saved = set(entries)
            self._file_ok = True
            _remove_other_versions(self.path.parent, "sql-lineage-*.json*",
                                   keep={self.path.name, self.journal.name})


_ENV_VAR = re.compile(rb"""env_var\(\s*['"]([^'"]+)['"]""")
_SKIPPED_DIRS = {".git", ".lineage", "logs", "__pycache__", ".venv", "node_modules"}
_TARGET_FILES = {"manifest.json", "catalog.json"}
# What dbt reads: models and macros, Python models, YAML, seeds and docs blocks. Anything
# else in the folder (a dbt-duckdb warehouse file, a SQLite catalog, Parquet extracts) is
# data: hashing it would read gigabytes per scan and call every `dbt run` a change.
_PROJECT_SUFFIXES = {".sql", ".py", ".yml", ".yaml", ".csv", ".md", ".jinja", ".j2"}


def env_var_names(content: bytes) -> list[str]:
    """The names a dbt file reads with ``env_var('NAME')``, sorted, once each."""
    return sorted({name.decode(errors="replace") for name in _ENV_VAR.findall(content)})


def project_fingerprint(
    project: Path, settings: str, *, skip: Callable[[str], bool] | None = None
) -> str:
    """A hash of everything a dbt project's lineage can depend on.

    Every file under the project that dbt reads (models, macros, YAML, seeds, docs,
    packages, profiles: by suffix; virtualenvs left out), dbt's ``target/manifest.json``
    and ``catalog.json``, the values of the environment variables the project reads with
    ``env_var()``, and ``settings`` (the loader's options). ``skip``: files left out, by
    their path relative to the project (``models/x.sql``).
    """
    digest = hashlib.blake2b(settings.encode(), digest_size=20)
    names: set[str] = set()
    for folder, dirs, files in os.walk(project):
        relative = Path(folder).relative_to(project)
        if relative.parts and "pyvenv.cfg" in files:  # a virtualenv by any name
            dirs[:] = []
            continue
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS)
        in_target = relative.parts[:1] == ("target",)
        for name in sorted(files):
            if in_target:
                if len(relative.parts) > 1 or name not in _TARGET_FILES:
                    continue
            elif os.path.splitext(name)[1].lower() not in _PROJECT_SUFFIXES:
                continue
            path = Path(folder) / name
            if skip is not None and skip((relative / name).as_posix()):
                continue
            try:
                content = path.read_bytes()
            except OSError:
                continue
            digest.update(str(relative / name).encode() + b"\0" + content + b"\0")
            names.update(env_var_names(content))
    for env_name in sorted(names):
        value = os.environ.get(env_name) or "\0unset"
        digest.update(f"{env_name}={value}\0".encode())
    return digest.hexdigest()


class BatchCache:
    """The last batch built from one dbt project, reused while its fingerprint holds."""

    def __init__(self, folder: Path, project: Path) -> None:
        key = hashlib.blake2b(str(project.resolve()).encode(), digest_size=8).hexdigest()
        self.path = folder / f"dbt-{key}-{_SILVERLINE}.json"
        self.summary_path = folder / f"dbt-{key}-{_SILVERLINE}.summary.json"

    def load(self, fingerprint: str) -> LineageBatch | None:
        """The saved batch, if it was built from exactly this ``fingerprint``."""
        # The small summary names the fingerprint too: a changed project (the common
        # case here) is told from it without parsing megabytes of batch to compare.
        summary = _read(self.summary_path, quiet=True)
        if summary is not None and summary.get("fingerprint") != fingerprint:
            return None
        document = _read(self.path)
        if document is None or document.get("fingerprint") != fingerprint:
            return None
        batch: LineageBatch | None = _decode(self.path, _batch, document.get("batch"))
        if batch is not None and self._summary(fingerprint, quiet=True) is None:
            self._save_summary(fingerprint, batch)  # lost: the next scan would load the batch
        return batch

    def save(self, fingerprint: str, batch: LineageBatch) -> None:
        """Keep ``batch`` (failures only cost speed), with its summary beside it."""
        with building_acyclic():
            encoded = _batch.encode(batch)
        _atomic_write(self.path, {"format": _FORMAT, "fingerprint": fingerprint, "batch": encoded})
        self._save_summary(fingerprint, batch)
        _remove_other_versions(self.path.parent, f"{self.path.name.split(_SILVERLINE)[0]}*.json",
                               keep={self.path.name, self.summary_path.name})

    def _save_summary(self, fingerprint: str, batch: LineageBatch) -> None:
        # A small summary beside it, so a scan the catalog already holds loads nothing big.
        counts = (len(batch.datasets), len(batch.jobs), len(batch.edges))
        summary = _summary.encode((counts, batch.issues))
        _atomic_write(
            self.summary_path, {"format": _FORMAT, "fingerprint": fingerprint, "summary": summary}
        )

    def summary(self, fingerprint: str) -> _Summary | None:
        """(datasets, jobs, edges) counts and issues of the saved batch, if it is current."""
        return self._summary(fingerprint, quiet=False)

    def _summary(self, fingerprint: str, *, quiet: bool) -> _Summary | None:
        document = _read(self.summary_path, quiet=quiet)
        if document is None or document.get("fingerprint") != fingerprint:
            return None
        if not self.path.exists():
            return None
        found: _Summary | None = _decode(
            self.summary_path, _summary, document.get("summary"), warn=not quiet
        )
        return found


class CacheFile:
    """One plain JSON cache document of a project (``<kind>-<project key>-<version>.json``)
    for a cache whose values are checked by its reader: read with the same refusals as
    the other caches (links, other users' files, other formats), written atomically."""

    def __init__(self, folder: Path, kind: str, project: Path) -> None:
        key = hashlib.blake2b(str(project.resolve()).encode(), digest_size=8).hexdigest()
        self.path = folder / f"{kind}-{key}-{_SILVERLINE}.json"
        self._stale = f"{kind}-{key}-*.json"

    def read(self) -> dict[str, Any] | None:
        """The document (without its format key), or None: missing, unreadable or not ours
        (one warning line)."""
        document = _read(self.path)
        return None if document is None else document.get("content")

    def write(self, content: dict[str, Any]) -> None:
        """Replace the document (failures only cost speed); other versions' files go."""
        with building_acyclic():
            if _atomic_write(self.path, {"format": _FORMAT, "content": content}):
                _remove_other_versions(self.path.parent, self._stale, keep={self.path.name})


# -- the typed JSON codec -------------------------------------------------------------------


class _Invalid(ValueError):
    """A value that does not have the type its place in the document calls for."""


class _Codec:
    """How one type hint goes to JSON and back: ``encode`` to plain lists and scalars,
    ``decode`` checking every value's type on the way (a file is untrusted input).

    ``plain``: the JSON type that decodes to itself (``str`` for ``str | None``), checked
    inline by the callers, which are called hundreds of thousands of times per file.
    ``flat``: the JSON form is a scalar, so it can key a memo of decoded values.
    """

    __slots__ = ("decode", "encode", "flat", "plain")

    def __init__(
        self,
        encode: Callable[[Any], Any],
        decode: Callable[[Any], Any],
        *,
        plain: type | None = None,
        flat: bool = False,
    ) -> None:
        self.encode = encode
        self.decode = decode
        self.plain = plain
        self.flat = flat


_codecs: dict[object, _Codec] = {}
# Decoded values of small dataclasses by their JSON form: a batch names each dataset and
# transformation thousands of times; one object each is what pickle gave. Emptied after
# every file (``_decode``), so it never outlives a load.
_memos: list[dict[tuple[Any, ...], Any]] = []


def _codec(hint: object) -> _Codec:
    """The codec of a type hint of ``lineage.model`` (built once per hint)."""
    found = _codecs.get(hint)
    if found is None:
        found = _codecs[hint] = _build(hint)
    return found


def _same(value: Any) -> Any:
    return value


_SCALARS: dict[object, type] = {str: str, int: int, bool: bool}  # exact types: no bool for int


def _build(hint: object) -> _Codec:
    """A codec for a scalar, an enum, ``X | None``, a tuple or a frozen model dataclass."""
    kind = _SCALARS.get(hint)
    if kind is not None:

        def scalar(value: Any) -> Any:
            if type(value) is not kind:
                raise _Invalid(f"expected {kind.__name__}, found {type(value).__name__}")
            return value

        return _Codec(_same, scalar, plain=kind, flat=True)
    if hint is float:
        return _Codec(_same, _float, plain=float, flat=True)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return _enum_codec(hint)
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return _optional_codec(hint, args)
    if typing.get_origin(hint) is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return _sequence_codec(_codec(args[0]))
        return _pair_codec([_codec(arg) for arg in args])
    if isinstance(hint, type) and is_dataclass(hint):
        return _dataclass_codec(hint)
    raise TypeError(f"no cache codec for {hint!r}")  # a model type this module must learn


def _float(value: Any) -> float:
    if type(value) not in (int, float):
        raise _Invalid(f"expected a number, found {type(value).__name__}")
    return float(value)


def _enum_codec(kind: type[Enum]) -> _Codec:
    members = {member.value: member for member in kind}

    def decode(value: Any) -> Enum:
        if type(value) is not str or value not in members:
            raise _Invalid(f"not a {kind.__name__}: {str(value)[:40]!r}")
        return members[value]

    return _Codec(lambda member: member.value, decode, flat=True)


def _optional_codec(hint: object, args: tuple[Any, ...]) -> _Codec:
    others = [arg for arg in args if arg is not type(None)]
    if len(others) != 1 or len(args) != 2:
        raise TypeError(f"no cache codec for {hint!r}")
    inner = _codec(others[0])
    return _Codec(
        _same if inner.encode is _same else lambda v: None if v is None else inner.encode(v),
        lambda value: None if value is None else inner.decode(value),
        plain=inner.plain,
        flat=inner.flat,
    )


def _sequence_codec(item: _Codec) -> _Codec:
    """``tuple[X, ...]`` as a list."""
    encode_item, decode_item, plain = item.encode, item.decode, item.plain

    def decode(value: Any) -> tuple[Any, ...]:
        if type(value) is not list:
            raise _Invalid(f"expected a list, found {type(value).__name__}")
        if not value:
            return ()
        if plain is not None and all(type(v) is plain for v in value):
            return tuple(value)
        return tuple([decode_item(v) for v in value])

    if encode_item is _same:  # tuples of scalars: json writes them as lists already
        return _Codec(_same, decode)
    return _Codec(lambda value: [encode_item(v) for v in value], decode)


def _pair_codec(parts: list[_Codec]) -> _Codec:
    """``tuple[A, B]`` as a list of that length."""
    encoders = [part.encode for part in parts]
    decoders = [part.decode for part in parts]

    def decode(value: Any) -> tuple[Any, ...]:
        if type(value) is not list or len(value) != len(decoders):
            raise _Invalid(f"expected a list of {len(decoders)}")
        return tuple([decode_part(v) for decode_part, v in zip(decoders, value, strict=True)])

    return _Codec(
        lambda value: [encode_part(v) for encode_part, v in zip(encoders, value, strict=True)],
        decode,
    )


def _dataclass_codec(cls: type[Any]) -> _Codec:
    """A model dataclass as the list of its fields' values, in declaration order.

    Decoding fills a new instance's ``__dict__`` as pickle and ``copy`` do, three times
    faster than the frozen ``__init__`` (there is no ``__post_init__`` to skip; a class
    with one is built through ``__init__``).
    """
    hints = typing.get_type_hints(cls)
    names = [f.name for f in fields(cls)]
    parts = [_codec(hints[name]) for name in names]
    # Fields read in one C call; those whose JSON is the value itself are not called.
    encoders = [None if part.encode is _same else part.encode for part in parts]
    read = attrgetter(*names) if len(names) > 1 else lambda value: (getattr(value, names[0]),)
    checks = [(part.plain, part.decode) for part in parts]
    size = len(names)
    direct = not hasattr(cls, "__post_init__") and all(f.init for f in fields(cls))
    new = object.__new__

    def build(value: Any) -> Any:
        if type(value) is not list or len(value) != size:
            raise _Invalid(f"expected {cls.__name__} as a list of {size}")
        decoded = [
            v if type(v) is plain else decode_part(v)
            for (plain, decode_part), v in zip(checks, value, strict=True)
        ]
        if not direct:
            return cls(*decoded)
        instance = new(cls)
        instance.__dict__.update(zip(names, decoded, strict=True))
        return instance

    decode = build
    if all(part.flat for part in parts):
        memo: dict[tuple[Any, ...], Any] = {}
        _memos.append(memo)

        def decode(value: Any) -> Any:
            key = tuple(value) if type(value) is list else ()
            found = memo.get(key)
            if found is None:
                found = memo[key] = build(value)
            return found

    def encode(value: Any) -> list[Any]:
        return [
            v if encode_part is None else encode_part(v)
            for encode_part, v in zip(encoders, read(value), strict=True)
        ]

    if all(part is None for part in encoders):  # DatasetId, ParseIssue ...: one C call
        return _Codec(lambda value: list(read(value)), decode)
    return _Codec(encode, decode)


_entry_list = _codec(tuple[_Entry, ...])
_batch = _codec(LineageBatch)
_summary = _codec(_Summary)


# -- the files ------------------------------------------------------------------------------


def _read(path: Path, *, quiet: bool = False) -> dict[str, Any] | None:
    """A cache file's document of this format, or None: missing (silently), unreadable,
    not JSON of this format, or not ours (one warning line naming it, unless ``quiet``)."""
    text = _read_bytes(path, quiet=quiet)
    if text is None:
        return None
    try:
        with building_acyclic():
            document = json.loads(text)
    except (ValueError, RecursionError) as exc:
        _ignored(path, exc, quiet)
        return None
    return _of_format(path, document, quiet=quiet)


def _read_lines(path: Path) -> list[Any]:
    """The ``entries`` of each document of a journal, oldest first. Lines that do not
    decode (a write cut short) are skipped, with one warning naming the file."""
    parts: list[Any] = []
    bad = 0
    for line in (_read_bytes(path, quiet=False) or b"").splitlines():
        try:
            with building_acyclic():
                document = json.loads(line)
        except (ValueError, RecursionError):
            document = None
        if isinstance(document, dict) and document.get("format") == _FORMAT:
            parts.append(document.get("entries"))
        else:
            bad += 1
    if bad:
        log.warning("ignoring %d line(s) of the cache journal %s that do not decode", bad, path)
    return parts


def _of_format(path: Path, document: Any, *, quiet: bool) -> dict[str, Any] | None:
    if not isinstance(document, dict) or document.get("format") != _FORMAT:
        _ignored(path, _Invalid(f"not a format {_FORMAT} cache file"), quiet)
        return None
    return document


def _read_bytes(path: Path, *, quiet: bool) -> bytes | None:
    """A cache file's bytes, or None: missing (silently), unreadable or not ours (one
    warning line naming it, unless ``quiet``).

    Ownership is checked on the open file, so nothing can swap the file after the check.
    """
    if not _usable_folder(path.parent, quiet=quiet):
        return None
    try:
        # Not through a symlink: a repository can commit one to /dev/zero or a FIFO.
        with open(os.open(path, os.O_RDONLY | _NOFOLLOW | _NONBLOCK), "rb") as handle:
            status = os.fstat(handle.fileno())
            if not stat.S_ISREG(status.st_mode):
                raise _Invalid("not a regular file")
            if _foreign(status.st_uid):
                raise _Invalid(f"owned by another user (uid {status.st_uid})")
            return handle.read()
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        _ignored(path, exc, quiet)
        return None


def _decode(path: Path, codec: _Codec, value: Any, *, warn: bool = True) -> Any:
    """``value`` decoded, or None (one warning naming ``path``) when it has a wrong type."""
    try:
        with building_acyclic():
            return codec.decode(value)
    except (ValueError, TypeError, RecursionError) as exc:
        _ignored(path, exc, not warn)
        return None
    finally:
        for memo in _memos:
            memo.clear()


def _ignored(path: Path, exc: BaseException, quiet: bool) -> None:
    if quiet:
        return
    reason = " ".join(str(exc).split())[:200] or type(exc).__name__
    log.warning("ignoring the cache file %s (%s); scanning without it", path, reason)


def _foreign(owner: int) -> bool:
    """Whether ``owner`` is another user (on POSIX; elsewhere nothing is foreign)."""
    return hasattr(os, "getuid") and owner != os.getuid()


_reported: set[tuple[str, int]] = set()


def _usable_folder(folder: Path, *, quiet: bool = False) -> bool:
    """Whether the cache folder is this user's; a refusal is said once per process."""
    try:
        owner = folder.stat().st_uid
    except OSError:
        return True  # missing: nothing to read, and writing creates it as ours
    if not _foreign(owner):
        return True
    if not quiet and (str(folder), owner) not in _reported:
        _reported.add((str(folder), owner))
        log.warning(
            "not using the cache folder %s: it belongs to another user (uid %d), who could "
            "plant or read its files; scanning without the cache",
            folder,
            owner,
        )
    return False


def _private_folder(folder: Path) -> bool:
    """Create the cache folder private (0700) if missing; whether it may be written."""
    if not folder.is_dir():
        os.makedirs(folder, mode=0o700, exist_ok=True)
        os.chmod(folder, 0o700)  # makedirs' mode is masked by the umask
    return _usable_folder(folder)


def _atomic_write(path: Path, document: dict[str, Any]) -> bool:
    """Replace ``path`` by ``document`` (a temporary file renamed: readers never see half
    a file); the folder is created private. Failures only cost speed (returns False)."""
    try:
        if not _private_folder(path.parent):
            return False
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")  # mode 0600
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(json.dumps(document, separators=(",", ":")))  # the C encoder
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
    except (OSError, ValueError):
        return False
    return True


def _remove_other_versions(folder: Path, pattern: str, keep: set[str]) -> None:
    """Delete the files of ``pattern`` in ``folder`` but ``keep``: an upgraded (or edited)
    Silverline never reads an older one's cache files, which would otherwise pile up,
    tens of megabytes a version for a large project. Failures only leave them."""
    with suppress(OSError):
        for stale in folder.glob(pattern):
            if stale.name not in keep and not stale.is_symlink() and stale.is_file():
                with suppress(OSError):
                    stale.unlink()


def _append_line(path: Path, document: dict[str, Any]) -> bool:
    """Append ``document`` as one line to ``path`` (created 0600), in one write: a reader
    sees whole lines, or a torn last one it drops. Only to a regular file of ours."""
    line = (json.dumps(document, separators=(",", ":")) + "\n").encode("utf-8")
    try:
        if not _private_folder(path.parent):
            return False
        flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | _NOFOLLOW | _NONBLOCK
        handle = os.open(path, flags, 0o600)
        try:
            status = os.fstat(handle)
            if not stat.S_ISREG(status.st_mode) or _foreign(status.st_uid):
                return False
            if status.st_size and os.pread(handle, 1, status.st_size - 1) != b"\n":
                line = b"\n" + line  # after a write cut short: its tail stays its own line
            os.write(handle, line)
        finally:
            os.close(handle)
    except (OSError, ValueError):
        return False
    return True
