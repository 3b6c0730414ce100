"""A folder of Parquet, CSV or JSON-lines files as one ``LiveTable``.

File schemas are read in a thread pool (footers and samples are small reads, so on S3 the
time is all round trips); results keep the files' path order, so the output is the same
whatever finishes first. A file that cannot be read is an ``ObservationIssue`` naming it
and is left out of the layout (its size and rows are not counted), the others go on.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from connectors.files.errors import describe
from connectors.files.layout import (
    DataFile,
    build_partitions,
    partition_columns,
    small_files_findings,
)
from connectors.files.paths import Location
from connectors.files.readers import read_footer, sample_schema
from connectors.files.schemas import live_columns, mismatch_findings, unify
from lineage.model import (
    DatasetId,
    DatasetKind,
    FileLayout,
    Finding,
    LiveTable,
    ObservationIssue,
)

__all__ = ["Outcome", "observe_folder"]

_WORKERS = 16


@dataclass
class Outcome:
    """What observing one dataset gave: the table (None when nothing could be read),
    issues and findings."""

    table: LiveTable | None = None
    issues: list[ObservationIssue] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def _read_all(
    fs: Any, files: Sequence[DataFile], fmt: str, sample_rows: int
) -> list[tuple[Any, int | None] | BaseException]:
    def one(item: DataFile) -> tuple[Any, int | None] | BaseException:
        try:
            if fmt == "parquet":
                return read_footer(fs, item.path)
            return sample_schema(fs, item.path, fmt, sample_rows), None
        except Exception as exc:
            return exc

    if len(files) == 1:
        return [one(files[0])]
    with ThreadPoolExecutor(max_workers=min(_WORKERS, len(files))) as pool:
        return list(pool.map(one, files))


def observe_folder(
    fs: Any,
    root: Location,
    dataset: DatasetId,
    files: Sequence[DataFile],
    fmt: str,
    *,
    sample_rows: int,
    small_file_bytes: int,
    secrets: Sequence[str] = (),
) -> Outcome:
    """Observe the data ``files`` (all of format ``fmt``) of the dataset rooted at ``root``."""
    outcome = Outcome()
    if not files:
        outcome.issues.append(ObservationIssue(root.uri, f"no {fmt} data files found"))
        return outcome
    good: list[DataFile] = []
    schemas: list[tuple[str, Any]] = []
    for item, result in zip(files, _read_all(fs, files, fmt, sample_rows), strict=True):
        subject = root.child(item.relative).uri
        if isinstance(result, BaseException):
            outcome.issues.append(ObservationIssue(subject, describe(result, secrets)))
            continue
        schema, rows = result
        good.append(replace(item, row_count=rows))
        schemas.append((subject, schema))
    if not good:
        return outcome
    unified = unify([schema for _, schema in schemas])
    outcome.findings.extend(mismatch_findings(dataset, schemas, unified))
    keys: list[str] = []
    for item in good:
        keys.extend(key for key, _ in item.partition if key not in keys)
    columns = live_columns(unified, keys) + partition_columns(good, unified.names)
    layout = FileLayout(
        format=fmt,
        root=root.uri,
        partition_columns=tuple(keys),
        partitions=build_partitions(good, counted=fmt == "parquet"),
    )
    outcome.table = LiveTable(
        id=dataset,
        kind=DatasetKind.LOCATION,
        columns=tuple(columns),
        location=root.uri,
        layout=layout,
    )
    outcome.findings.extend(small_files_findings(dataset, good, small_file_bytes))
    return outcome
