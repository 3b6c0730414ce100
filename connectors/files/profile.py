"""Profiling a bronze dataset by streaming its record batches (pyarrow.dataset with Hive
partitioning, pyarrow.compute), never loading it whole.

Metric names are the warehouse profile's: ``row_count``; per column ``null_count``,
``null_rate`` (0..1), ``distinct_count`` (exact up to ``stats.DISTINCT_LIMIT`` distinct
values, else left out), ``min`` / ``max`` (numbers, as floats); ``last_loaded_at``
(epoch seconds of the max of the first of ``loaded_at_columns`` the dataset has, with
``column`` set). Text, date and time bounds go in ``DatasetProfile.bounds`` as ISO text.

Memory: files are scanned one at a time, in batches of ``BATCH_ROWS`` with a readahead of
``READAHEAD`` batches; statistics are folded per batch. With ``sample_above_rows`` set
and a dataset larger than that, files spread evenly over the dataset are scanned until
that many rows are seen (``sampled_rows`` says how many); ``row_count`` stays exact
(Parquet footers, a counting scan for CSV / JSON). A file that cannot be read raises
a PermanentConnectorError whose message names it (a profile of part of a dataset would
report wrong figures); a store that does not answer raises a TemporaryConnectorError.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from connectors.files.errors import describe, listing_error
from connectors.files.listing import list_tree, select_files
from connectors.files.paths import Location, dataset_root, parse_location
from connectors.files.schemas import unify
from connectors.files.stats import TableStats
from connectors.files.storage import S3Settings, filesystem, require
from connectors.files.tables import iceberg_metadata_file, is_delta, table_uri
from lineage.errors import ConnectorError, PermanentConnectorError
from lineage.model import DatasetId, DatasetProfile, ProfileMetric

__all__ = [
    "BATCH_ROWS",
    "LOADED_AT_COLUMNS",
    "READAHEAD",
    "failure",
    "fs_uri",
    "profile_files",
]

BATCH_ROWS = 32 * 1024
READAHEAD = 1
#: Load-time columns looked for, in order (Airbyte's, the warehouse's, a generic one).
LOADED_AT_COLUMNS = ("_airbyte_extracted_at", "dwh_loaded_at", "_loaded_at")


def failure(exc: BaseException, subject: str, secrets: Sequence[str] = ()) -> ConnectorError:
    """``exc`` as a ConnectorError whose message names ``subject`` (callers report the
    message alone), temporary or permanent as ``errors.listing_error`` decides."""
    if isinstance(exc, ConnectorError):
        return exc
    kind = type(listing_error(exc, subject, secrets))
    return kind(f"{subject}: {describe(exc, secrets)}")


def fs_uri(root: Location, path: str) -> str:
    """A file system path (``bucket/key`` on S3) as a URI below ``root``'s store."""
    return f"s3://{path}" if root.scheme == "s3" else path


def _spread(count: int) -> list[int]:
    # Indexes 0..count-1 in an order that covers the whole range early (bit reversal-ish):
    # a sample of the first k of them is spread over every part of the dataset.
    order: list[int] = []
    step = 1
    while step < count:
        step *= 2
    seen: set[int] = set()
    while step >= 1:
        for index in range(0, count, step):
            if index not in seen:
                seen.add(index)
                order.append(index)
        step //= 2
    return order


class _Source:
    """A dataset to stream: its schema, its fragments (or one batch reader), its rows."""

    def __init__(self, schema: Any, fragments: Sequence[Any], reader: Any = None) -> None:
        self.schema = schema
        self.fragments = list(fragments)
        self.reader = reader

    def count_rows(self) -> int:
        return sum(int(f.count_rows()) for f in self.fragments)


def _folder_source(fs: Any, location: Location) -> _Source:
    ds = require("pyarrow.dataset")
    folded = dataset_root(location)
    entries = list_tree(fs, folded.scan)
    if entries is None:
        raise PermanentConnectorError(f"{location.uri}: no such file or folder")
    selection = select_files(entries, folded, folded.scan, None)
    if selection.format is None or not selection.files:
        raise PermanentConnectorError(f"{location.uri}: no data files found")
    single = entries[0][0] == ""
    paths = [f.path for f in selection.files]
    options: dict[str, Any] = {"format": selection.format, "filesystem": fs}
    if not single:
        options |= {"partitioning": "hive", "partition_base_dir": folded.root.fs_path}
    first = ds.dataset(paths, **options)
    physical = []
    for fragment in first.get_fragments():
        try:
            physical.append(fragment.physical_schema)
        except Exception as exc:
            raise failure(exc, fs_uri(location, fragment.path)) from exc
    partition_fields = [] if first.partitioning is None else list(first.partitioning.schema)
    schema = unify([unify(physical), require("pyarrow").schema(partition_fields)])
    dataset = ds.dataset(paths, schema=schema, **options)
    return _Source(schema, list(dataset.get_fragments()))


def _table_source(fs: Any, location: Location, settings: S3Settings) -> _Source | None:
    metadata = iceberg_metadata_file(fs, location)
    if metadata is not None:
        table = require("pyiceberg.table").StaticTable.from_metadata(
            table_uri(metadata), properties=settings.iceberg_properties()
        )
        reader = table.scan().to_arrow_batch_reader()
        return _Source(reader.schema, [], reader)
    if is_delta(fs, location):
        deltalake = require("deltalake")
        table = deltalake.DeltaTable(
            table_uri(location), storage_options=settings.delta_options() or None
        )
        dataset = table.to_pyarrow_dataset()
        return _Source(dataset.schema, list(dataset.get_fragments()))
    return None


def _batches(fragment: Any, schema: Any, remote: bool) -> Iterator[Any]:
    ds = require("pyarrow.dataset")
    options = None
    if isinstance(fragment, ds.ParquetFileFragment):
        # Pre-buffering fetches whole row groups in few requests: worth it against S3's
        # latency, but locally it only holds more of the file in memory at once.
        options = ds.ParquetFragmentScanOptions(pre_buffer=remote)
    scanner = ds.Scanner.from_fragment(
        fragment, schema=schema, batch_size=BATCH_ROWS, batch_readahead=READAHEAD,
        fragment_readahead=1, fragment_scan_options=options,
    )  # fmt: skip
    yield from scanner.to_batches()


def _scan(
    source: _Source, budget: int | None, root: Location, secrets: Sequence[str]
) -> TableStats:
    remote = root.scheme != "file"
    total = TableStats(source.schema)
    if source.reader is not None:
        for batch in source.reader:
            if budget is not None and total.rows >= budget:
                break
            total.add(batch if budget is None else batch.slice(0, budget - total.rows))
        return total
    order = range(len(source.fragments)) if budget is None else _spread(len(source.fragments))
    for index in order:
        fragment = source.fragments[index]
        part = TableStats(source.schema)
        try:
            for batch in _batches(fragment, source.schema, remote):
                if budget is not None and total.rows + part.rows >= budget:
                    break
                if budget is not None:
                    batch = batch.slice(0, budget - total.rows - part.rows)
                part.add(batch)
        except Exception as exc:
            subject = fs_uri(root, getattr(fragment, "path", "") or root.uri)
            raise failure(exc, subject, secrets) from exc
        total.merge(part)
        if budget is not None and total.rows >= budget:
            break
    return total


def _epoch(value: Any) -> float | None:
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return moment.timestamp()
    if isinstance(value, str):
        try:
            return _epoch(datetime.fromisoformat(value.strip().replace("Z", "+00:00")))
        except ValueError:
            return None
    return None


def _metrics(stats: TableStats, row_count: int, loaded_at_columns: Sequence[str]) -> Any:
    metrics = [ProfileMetric("row_count", float(row_count))]
    bounds = []
    for name, column in stats.columns.items():
        metrics.append(ProfileMetric("null_count", float(column.nulls), name))
        rate = column.nulls / stats.rows if stats.rows else 0.0
        metrics.append(ProfileMetric("null_rate", rate, name))
        if column.distinct_count is not None:
            metrics.append(ProfileMetric("distinct_count", float(column.distinct_count), name))
        if column.kind == "number":
            for label, value in (("min", column.low), ("max", column.high)):
                if value is not None:
                    metrics.append(ProfileMetric(label, float(value), name))
        elif column.kind in ("text", "time"):
            bounds.append((name, *column.text_bounds()))
    for name in loaded_at_columns:
        if name in stats.columns:
            moment = _epoch(stats.columns[name].high)
            if moment is not None:
                metrics.append(ProfileMetric("last_loaded_at", moment, name))
            break
    return tuple(metrics), tuple(bounds)


def profile_files(
    root: str,
    *,
    dataset: DatasetId | None = None,
    storage_options: Mapping[str, str] | None = None,
    loaded_at_columns: Sequence[str] = LOADED_AT_COLUMNS,
    sample_above_rows: int | None = None,
    now: datetime | None = None,
) -> DatasetProfile:
    """Profile the bronze dataset at ``root`` (a folder of Parquet / CSV / JSON lines with
    Hive partitions, an Iceberg or a Delta table; local or ``s3://``). Raises
    PermanentConnectorError for a missing root or an unreadable file (the message names
    it), TemporaryConnectorError when the store does not answer."""
    location = parse_location(root)
    settings = S3Settings.resolve(storage_options)
    fs = filesystem(location, settings)
    observed_at = now or datetime.now(timezone.utc)
    secrets = settings.secrets()
    try:
        source = _table_source(fs, location, settings) or _folder_source(fs, location)
        budget: int | None = None
        row_count: int | None = None
        if sample_above_rows is not None and source.reader is None:
            exact = source.count_rows()  # Parquet: from the footers
            if exact > sample_above_rows:
                budget, row_count = sample_above_rows, exact
        stats = _scan(source, budget, location, secrets)
    except Exception as exc:
        raise failure(exc, location.uri, secrets) from exc
    row_count = stats.rows if row_count is None else row_count
    sampled = None if budget is None else stats.rows
    metrics, bounds = _metrics(stats, row_count, loaded_at_columns)
    name = dataset or dataset_root(location).root.dataset_id
    return DatasetProfile(name, observed_at, metrics, bounds, sampled_rows=sampled)
