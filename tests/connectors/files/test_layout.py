"""The small-files rule and Hive partition typing (pure functions)."""

from __future__ import annotations

import pytest

from connectors.files.layout import (
    DataFile,
    build_partitions,
    human_bytes,
    is_small_files,
    partition_type,
    small_files_findings,
)
from lineage.model import DatasetId, Severity

MB = 1024**2
TARGET = 128 * MB


@pytest.mark.parametrize(
    ("sizes", "small"),
    [
        ([], False),
        ([1024], False),  # one file: nothing to compact
        ([1024] * 2, True),
        ([1 * MB] * 40, True),
        ([15 * MB] * 3, True),  # median under 16 MB (target / 8)
        ([16 * MB] * 3, False),  # median at target / 8
        ([200 * MB, 1 * MB, 2 * MB], True),  # one big file does not hide many small ones
        ([1 * MB, 300 * MB, 400 * MB], False),  # median large
        ([15 * MB] * 9 + [TARGET * 20], False),  # compaction would not reduce the count
    ],
)
def test_small_files_rule(sizes: list[int], small: bool) -> None:
    assert is_small_files(sizes, TARGET) is small


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        (["2024", "2025"], "int32"),
        (["01", "12"], "int32"),  # pyarrow's HivePartitioning reads 01 as 1
        (["01", "x2"], "string"),
        (["ID", "SG"], "string"),
        (["3000000000"], "int64"),
        (["__HIVE_DEFAULT_PARTITION__", "7"], "int32"),
    ],
)
def test_partition_types_as_pyarrow_infers(values: list[str], kind: str) -> None:
    assert partition_type(values) == kind


def test_partitions_and_findings_are_sorted_and_sized() -> None:
    files = [
        DataFile("b2", "country=SG/b2", 10, (("country", "SG"),), 1),
        DataFile("a1", "country=ID/a1", 300, (("country", "ID"),), 4),
        DataFile("a2", "country=ID/a2", 100, (("country", "ID"),), 6),
    ]
    parts = build_partitions(files, counted=True)
    assert [p.path for p in parts] == ["country=ID", "country=SG"]
    assert (parts[0].file_count, parts[0].total_bytes, parts[0].row_count) == (2, 400, 10)
    assert (parts[0].smallest_file_bytes, parts[0].largest_file_bytes) == (100, 300)
    assert build_partitions(files, counted=False)[0].row_count is None
    (finding,) = small_files_findings(DatasetId("file", "/b"), files, TARGET)
    assert finding.kind == "small_files" and finding.severity is Severity.WARNING
    assert finding.message.startswith("partition country=ID: 2 files averaging 200 B")
    assert "compact to 128 MB-1 GB files" in finding.message


def test_human_bytes() -> None:
    assert [human_bytes(n) for n in (726, 1536, 128 * MB)] == ["726 B", "1.5 KB", "128 MB"]
