"""Iceberg and Delta tables: schema, partition spec, snapshots and current data files.

- Iceberg (pyiceberg): a table folder (its newest ``metadata/*.metadata.json`` is read,
  newest by the version number the file name starts with) or a metadata.json path, through
  ``StaticTable.from_metadata``: no catalog needed. Types as Iceberg spells them
  (``long``, ``timestamptz``). Identity partitions mark their source column; other
  transforms (``day(ts)``, ``bucket[16](id)``) add a partition column typed by the
  transform's result. The layout comes from the current snapshot's data files (the
  manifests: no data file is opened).
- Delta (deltalake): a table folder. Types as Delta spells them (``long``, ``string``);
  the layout from the add actions of the current version.

Snapshots are newest first. Both libraries load only here, and a missing one raises a
ConnectorError naming the extra to install.
"""

from __future__ import annotations

import posixpath
import re
from datetime import datetime, timezone
from typing import Any

from connectors.files.folders import Outcome
from connectors.files.layout import HIVE_NULL, DataFile, build_partitions, small_files_findings
from connectors.files.paths import Location
from connectors.files.storage import S3Settings, require
from lineage.model import DatasetId, DatasetKind, FileLayout, LiveColumn, LiveTable, TableSnapshot

__all__ = [
    "iceberg_metadata_file",
    "is_delta",
    "observe_delta",
    "observe_iceberg",
    "table_uri",
]

_VERSION = re.compile(r"^v?(\d+)[-.]")


def table_uri(location: Location) -> str:
    return location.uri if location.scheme == "s3" else f"file://{location.path}"


def _moment(millis: Any) -> datetime | None:
    if millis is None:
        return None
    return datetime.fromtimestamp(int(millis) / 1000, tz=timezone.utc)


def _text(value: Any) -> str:
    return HIVE_NULL if value is None else str(value)


def iceberg_metadata_file(fs: Any, location: Location) -> Location | None:
    """The newest metadata.json of the Iceberg table at ``location`` (or ``location`` when
    it is one), None when ``location`` is not an Iceberg table."""
    import pyarrow.fs as pafs

    if location.path.endswith(".metadata.json"):
        return location
    folder = location.child("metadata")
    try:
        infos = fs.get_file_info(pafs.FileSelector(folder.fs_path, allow_not_found=True))
    except OSError:
        return None
    names = [
        posixpath.basename(i.path)
        for i in infos
        if i.type == pafs.FileType.File and i.path.endswith(".metadata.json")
    ]
    if not names:
        return None

    def version(name: str) -> tuple[int, str]:
        found = _VERSION.match(name)
        return (int(found.group(1)) if found else -1, name)

    return folder.child(max(names, key=version))


def is_delta(fs: Any, location: Location) -> bool:
    """Whether ``location`` holds a Delta table (a ``_delta_log`` folder)."""
    import pyarrow.fs as pafs

    info = fs.get_file_info(location.child("_delta_log").fs_path)
    return bool(info.type == pafs.FileType.Directory)


def observe_iceberg(
    root: Location,
    metadata: Location,
    dataset: DatasetId,
    settings: S3Settings,
    small_file_bytes: int,
) -> Outcome:
    """Observe the Iceberg table whose current metadata file is ``metadata``."""
    table_module = require("pyiceberg.table")
    table = table_module.StaticTable.from_metadata(
        table_uri(metadata), properties=settings.iceberg_properties()
    )
    schema = table.schema()
    spec = table.spec()
    identity = {f.source_id for f in spec.fields if str(f.transform) == "identity"}
    columns = [
        LiveColumn(
            name=f.name,
            type=str(f.field_type),
            nullable=not f.required,
            comment=f.doc or None,
            partition=f.field_id in identity,
        )
        for f in schema.fields
    ]
    keys: list[tuple[str, str]] = []  # (name in the files' partition record, column name)
    for pf in spec.fields:
        source = schema.find_field(pf.source_id)
        if pf.source_id in identity:
            keys.append((pf.name, source.name))
            continue
        keys.append((pf.name, pf.name))
        columns.append(
            LiveColumn(
                name=pf.name,
                type=str(pf.transform.result_type(source.field_type)),
                nullable=True,
                comment=f"{pf.transform}({source.name})",
                partition=True,
            )
        )
    files = []
    if table.current_snapshot() is not None:
        listing = table.inspect.files().to_pylist()
        for row in listing:
            if row.get("content", 0) != 0:  # delete files are not data
                continue
            record = row.get("partition") or {}
            values = tuple((column, _text(record.get(name))) for name, column in keys)
            files.append(
                DataFile(
                    path=row["file_path"],
                    relative=row["file_path"],
                    size=int(row["file_size_in_bytes"]),
                    partition=values,
                    row_count=int(row["record_count"]),
                )
            )
    files.sort(key=lambda f: f.path)
    snapshots = sorted(
        table.metadata.snapshots,
        key=lambda s: (s.timestamp_ms, s.sequence_number or 0),
        reverse=True,
    )
    layout = FileLayout(
        format="iceberg",
        root=root.uri,
        partition_columns=tuple(column for _, column in keys),
        partitions=build_partitions(files, counted=True),
        snapshots=tuple(
            TableSnapshot(
                id=str(s.snapshot_id),
                committed_at=_moment(s.timestamp_ms),
                operation=None if s.summary is None else str(s.summary.operation.value),
                summary=_iceberg_summary(s.summary),
            )
            for s in snapshots
        ),
    )
    comment = table.metadata.properties.get("comment")
    live = LiveTable(dataset, DatasetKind.TABLE, tuple(columns), comment=comment,
                     location=root.uri, layout=layout)  # fmt: skip
    return Outcome(live, [], small_files_findings(dataset, files, small_file_bytes))


def _iceberg_summary(summary: Any) -> tuple[tuple[str, str], ...]:
    if summary is None:
        return ()
    return tuple(sorted((str(k), str(v)) for k, v in summary.additional_properties.items()))


def _delta_type(kind: Any) -> str:
    primitive = getattr(kind, "type", None)
    return primitive if isinstance(primitive, str) else str(kind)


def _summary(entry: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    pairs: dict[str, str] = {}
    for section in ("operationParameters", "operationMetrics"):
        for key, value in (entry.get(section) or {}).items():
            pairs[str(key)] = str(value)
    return tuple(sorted(pairs.items()))


def observe_delta(
    root: Location, dataset: DatasetId, settings: S3Settings, small_file_bytes: int
) -> Outcome:
    """Observe the Delta table at ``root``."""
    deltalake = require("deltalake")
    pa = require("pyarrow")
    table = deltalake.DeltaTable(table_uri(root), storage_options=settings.delta_options() or None)
    metadata = table.metadata()
    keys = tuple(metadata.partition_columns)
    columns = tuple(
        LiveColumn(
            name=f.name,
            type=_delta_type(f.type),
            nullable=bool(f.nullable),
            comment=(f.metadata or {}).get("comment") or None,
            partition=f.name in keys,
        )
        for f in table.schema().fields
    )
    actions = pa.table(table.get_add_actions(flatten=True)).to_pylist()
    files = sorted(
        (
            DataFile(
                path=str(a["path"]),
                relative=str(a["path"]),
                size=int(a["size_bytes"]),
                partition=tuple((k, _text(a.get(f"partition.{k}"))) for k in keys),
                row_count=None if a.get("num_records") is None else int(a["num_records"]),
            )
            for a in actions
        ),
        key=lambda f: f.path,
    )
    history = sorted(table.history(), key=lambda e: int(e.get("version", -1)), reverse=True)
    layout = FileLayout(
        format="delta",
        root=root.uri,
        partition_columns=keys,
        partitions=build_partitions(files, counted=True),
        snapshots=tuple(
            TableSnapshot(
                id=str(e.get("version")),
                committed_at=_moment(e.get("timestamp")),
                operation=e.get("operation"),
                summary=_summary(e),
            )
            for e in history
        ),
    )
    live = LiveTable(dataset, DatasetKind.TABLE, columns, comment=metadata.description or None,
                     location=root.uri, layout=layout)  # fmt: skip
    return Outcome(live, [], small_files_findings(dataset, files, small_file_bytes))
