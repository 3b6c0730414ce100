"""Partitions of a bronze folder: typed Hive partition columns, per-partition file
statistics and the small-files rule (all pure).

The small-files rule (``is_small_files``): a partition has a small-files problem when

- it holds more than one file,
- its median file is smaller than an eighth of the target size (16 MB for the default
  128 MB target), and
- compacting would reduce the file count (``ceil(total / target) < files``).

The median, not the mean, so that one large file among many tiny ones still counts as
small files; the last condition keeps a partition of a few large-enough files quiet.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from lineage.model import DatasetId, FilePartition, Finding, LiveColumn, Severity

__all__ = [
    "HIVE_NULL",
    "SMALL_FILE_DIVISOR",
    "DataFile",
    "build_partitions",
    "human_bytes",
    "is_small_files",
    "partition_columns",
    "small_files_findings",
]

#: A file's median size below ``small_file_bytes / SMALL_FILE_DIVISOR`` counts as small.
SMALL_FILE_DIVISOR = 8
#: Hive's (and pyarrow's) spelling of a null partition value.
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"
_INTEGER = re.compile(r"[+-]?\d+")
_INT32 = (-(2**31), 2**31 - 1)


@dataclass(frozen=True)
class DataFile:
    """One data file of a dataset: its path for the file system, its path below the dataset
    root, its size and the Hive partition values of its folders."""

    path: str
    relative: str
    size: int
    partition: tuple[tuple[str, str], ...] = ()
    row_count: int | None = None


def partition_type(values: Iterable[str]) -> str:
    """The type pyarrow's HivePartitioning infers: ``int32`` when every (non-null) value is
    an integer that fits, ``int64`` when they need more, else ``string``."""
    seen = [v for v in values if v != HIVE_NULL]
    if seen and all(_INTEGER.fullmatch(v) for v in seen):
        numbers = [int(v) for v in seen]
        if all(_INT32[0] <= n <= _INT32[1] for n in numbers):
            return "int32"
        return "int64"
    return "string"


def partition_columns(files: Sequence[DataFile], file_columns: Iterable[str]) -> list[LiveColumn]:
    """Typed partition columns in the order their folders nest; a key that is also a
    column of the files is left to the file's column (the caller marks it)."""
    keys: dict[str, list[str]] = {}
    for item in files:
        for key, value in item.partition:
            keys.setdefault(key, []).append(value)
    present = set(file_columns)
    return [
        LiveColumn(
            name=key,
            type=partition_type(values),
            nullable=True if HIVE_NULL in values else None,
            partition=True,
        )
        for key, values in keys.items()
        if key not in present
    ]


def build_partitions(files: Sequence[DataFile], *, counted: bool) -> tuple[FilePartition, ...]:
    """One FilePartition per distinct set of partition values, sorted by those values;
    ``counted`` says whether the files carry row counts (Parquet footers) at all."""
    groups: dict[tuple[tuple[str, str], ...], list[DataFile]] = {}
    for item in files:
        groups.setdefault(item.partition, []).append(item)
    out = []
    for values in sorted(groups):
        members = groups[values]
        sizes = [m.size for m in members]
        rows: int | None = None
        if counted and all(m.row_count is not None for m in members):
            rows = sum(m.row_count or 0 for m in members)
        out.append(
            FilePartition(
                values=values,
                file_count=len(members),
                total_bytes=sum(sizes),
                row_count=rows,
                smallest_file_bytes=min(sizes),
                largest_file_bytes=max(sizes),
            )
        )
    return tuple(out)


def is_small_files(sizes: Sequence[int], small_file_bytes: int) -> bool:
    """Whether files of ``sizes`` (bytes, one partition) are a small-files problem against
    the target ``small_file_bytes`` (see the module's docstring for the rule)."""
    if len(sizes) < 2 or small_file_bytes <= 0:
        return False
    if statistics.median(sizes) >= small_file_bytes / SMALL_FILE_DIVISOR:
        return False
    return math.ceil(sum(sizes) / small_file_bytes) < len(sizes)


def human_bytes(size: float) -> str:
    """``1.5 KB``, ``128 MB``: sizes for messages (powers of 1024)."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(size) < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" or size >= 100 else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def small_files_findings(
    dataset: DatasetId, files: Sequence[DataFile], small_file_bytes: int
) -> list[Finding]:
    """A ``small_files`` finding for each partition of ``files`` the rule flags."""
    groups: dict[tuple[tuple[str, str], ...], list[int]] = {}
    for item in files:
        groups.setdefault(item.partition, []).append(item.size)
    findings = []
    for values in sorted(groups):
        sizes = groups[values]
        if not is_small_files(sizes, small_file_bytes):
            continue
        where = "/".join(f"{k}={v}" for k, v in values) or "(unpartitioned)"
        average = sum(sizes) / len(sizes)
        target = f"{human_bytes(small_file_bytes)}-1 GB"
        findings.append(
            Finding(
                dataset=dataset,
                kind="small_files",
                message=(
                    f"partition {where}: {len(sizes)} files averaging {human_bytes(average)}, "
                    f"far below the {target} target; compact to {target} files"
                ),
                severity=Severity.WARNING,
            )
        )
    return findings
