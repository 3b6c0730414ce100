"""The file primitives of the spool (``connectors.openlineage.spool``): durable writes and
renames, and where the spool goes when its own folder cannot be written.

- ``atomic_write`` replaces a file so that readers see the old or the new one, never a
  mix, and leaves no temporary file behind when the write fails (a full disk);
- ``write_all`` writes everything and ``fsync``s; ``fsync_dir`` makes a new name durable;
- ``fallback_folder`` is the second spool folder, under the user's cache folder, for when
  the project's spool folder cannot be written (read-only, a file in its place, full).
"""

from __future__ import annotations

import hashlib
import os
import threading
from contextlib import suppress
from pathlib import Path

__all__ = [
    "atomic_write",
    "count_lines",
    "describe",
    "fallback_folder",
    "fsync_dir",
    "last_byte",
    "write_all",
]


def fallback_folder(primary: str | os.PathLike[str]) -> Path:
    """``$XDG_CACHE_HOME/silverline/spool/<hash of primary>`` (``~/.cache`` by default):
    one fallback per project spool, so two projects' events never mix."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    digest = hashlib.sha256(os.fsencode(os.path.abspath(primary))).hexdigest()[:16]
    return Path(cache) / "silverline" / "spool" / digest


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``: readers see the old or the new file, never a mix.
    On failure the temporary file is removed and the old file stays as it was."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            write_all(fd, data)
        finally:
            os.close(fd)
        os.replace(temporary, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(temporary)
        raise
    fsync_dir(path.parent)


def write_all(fd: int, data: bytes) -> None:
    """Write all of ``data`` (one ``os.write`` may write less), then ``fsync``."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    os.fsync(fd)


def fsync_dir(folder: Path) -> None:
    """A rename or a new file is durable only once its folder's entry is on disk."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def last_byte(path: Path) -> bytes:
    with open(path, "rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1)


def count_lines(path: Path) -> int:
    try:
        return sum(1 for raw in path.read_bytes().split(b"\n") if raw.strip())
    except FileNotFoundError:
        return 0


def describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
