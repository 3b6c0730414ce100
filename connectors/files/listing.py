"""Listing a bronze root into the data files of a dataset.

Hidden files and folders (``_SUCCESS``, ``.part.crc``, ``_delta_log``, ``_temporary``)
are skipped as pyarrow.dataset skips them. Without an explicit format, the format is
the one most of the files have (by suffix: ``.parquet``, ``.csv``, ``.json`` /
``.jsonl`` / ``.ndjson``); files of another format are left out and said in an
``mixed_formats`` finding. With an explicit format, files of that suffix and files
without any suffix (Spark's ``part-00000``) are taken.
"""

from __future__ import annotations

import fnmatch
import posixpath
from collections import Counter
from collections.abc import Sequence
from typing import Any

from connectors.files.layout import DataFile
from connectors.files.paths import Folded, Location, hive_pair, is_hidden
from connectors.files.readers import FORMATS, format_of

__all__ = ["Selection", "list_tree", "select_files"]

Entry = tuple[str, int]  # (path relative to the listed folder, size in bytes)


def list_tree(fs: Any, scan: Location) -> list[Entry] | None:
    """Every file below ``scan`` (recursively, sorted), ``[("", size)]`` when ``scan`` is a
    file itself, None when nothing is there."""
    import pyarrow.fs as pafs

    info = fs.get_file_info(scan.fs_path)
    if info.type == pafs.FileType.NotFound:
        return None
    if info.type == pafs.FileType.File:
        return [("", int(info.size or 0))]
    base = scan.fs_path.rstrip("/") + "/"
    out = []
    for item in fs.get_file_info(pafs.FileSelector(scan.fs_path, recursive=True)):
        if item.type != pafs.FileType.File:
            continue
        relative = item.path[len(base) :] if item.path.startswith(base) else item.path
        out.append((relative, int(item.size or 0)))
    return sorted(out)


class Selection:
    """The data files chosen from a listing, their format, and what was left out."""

    def __init__(self, files: list[DataFile], fmt: str | None, skipped: Counter[str]) -> None:
        self.files = files
        self.format = fmt
        self.skipped = skipped


def _partition(relative: str) -> tuple[tuple[str, str], ...]:
    folders = relative.split("/")[:-1]
    return tuple(pair for f in folders if (pair := hive_pair(f)) is not None)


def select_files(
    entries: Sequence[Entry], folded: Folded, scan: Location, fmt: str | None
) -> Selection:
    """The data files of ``entries`` (listed below ``scan``), paths relative to the dataset
    root ``folded.root``, with their Hive partition values."""
    if entries and entries[0][0] == "":  # the root is one file: it is the dataset
        size = entries[0][1]
        name = scan.name
        found = fmt or format_of(name)
        one = DataFile(scan.fs_path, name, size)
        return Selection([one] if found else [], found, Counter())
    root_path = folded.root.path.rstrip("/")
    lead = scan.path[len(root_path) :].strip("/") if scan.path.startswith(root_path) else ""
    candidates: list[tuple[str, str, int, str | None]] = []
    for relative, size in entries:
        if any(is_hidden(part) for part in relative.split("/")):
            continue
        if folded.pattern is not None and not fnmatch.fnmatchcase(relative, folded.pattern):
            continue
        name = posixpath.basename(relative)
        candidates.append((relative, name, size, format_of(name)))
    counts = Counter(found for *_, found in candidates if found is not None)
    chosen = fmt
    if chosen is None and counts:
        order = list(FORMATS)
        chosen = max(counts, key=lambda f: (counts[f], -order.index(f)))
    files, skipped = [], Counter[str]()
    for relative, name, size, found in candidates:
        keep = found == chosen or (fmt is not None and found is None and "." not in name)
        if not keep:
            if found is not None:
                skipped[found] += 1
            continue
        below_root = f"{lead}/{relative}" if lead else relative
        path = posixpath.join(scan.fs_path, relative)
        files.append(DataFile(path, below_root, size, _partition(below_root)))
    return Selection(files, chosen, skipped)
