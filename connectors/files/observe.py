"""The entry points: ``observe_files`` for one dataset root, ``discover`` for a bronze
folder of many datasets.

``discover`` lists its root once and finds the datasets in it: an Iceberg table is a
folder with ``metadata/*.metadata.json``, a Delta table a folder with ``_delta_log/``, and
any other dataset a folder holding data files directly or through Hive partition folders
(``key=value``: the dataset is the folder above the first of them). Datasets come out
sorted by root. One dataset or file that cannot be read is an issue; the rest goes on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from connectors.files.errors import describe, listing_error
from connectors.files.folders import Outcome, observe_folder
from connectors.files.listing import list_tree, select_files
from connectors.files.paths import (
    Folded,
    Location,
    dataset_root,
    hive_pair,
    is_hidden,
    parse_location,
)
from connectors.files.readers import format_of
from connectors.files.storage import S3Settings, filesystem
from connectors.files.tables import iceberg_metadata_file, is_delta, observe_delta, observe_iceberg
from lineage.errors import ConfigError, ConnectorError
from lineage.model import DatasetId, Finding, Observation, ObservationIssue, Severity

__all__ = ["FORMAT_NAMES", "discover", "observe_files"]

#: Accepted ``format=`` values and what they mean.
FORMAT_NAMES = {
    "parquet": "parquet",
    "csv": "csv",
    "json": "json",
    "jsonl": "json",
    "ndjson": "json",
    "iceberg": "iceberg",
    "delta": "delta",
}
_DEFAULT_SMALL = 128 * 1024**2


def _format(name: str | None) -> str | None:
    if name is None:
        return None
    found = FORMAT_NAMES.get(name.strip().lower())
    if found is None:
        raise ConfigError(f"unknown bronze format {name!r}; one of {', '.join(FORMAT_NAMES)}")
    return found


class _Context:
    """What every dataset of one call shares: file system, settings, options."""

    def __init__(
        self, location: Location, storage_options: Mapping[str, str] | None,
        sample_rows: int, small_file_bytes: int,
    ) -> None:  # fmt: skip
        self.settings = S3Settings.resolve(storage_options)
        self.fs = filesystem(location, self.settings)
        self.secrets = self.settings.secrets()
        self.sample_rows = sample_rows
        self.small_file_bytes = small_file_bytes

    def listing(self, scan: Location) -> list[tuple[str, int]] | None:
        try:
            return list_tree(self.fs, scan)
        except FileNotFoundError:
            return None
        except Exception as exc:
            raise listing_error(exc, scan.uri, self.secrets) from exc

    def exists(self, location: Location) -> bool:
        import pyarrow.fs as pafs

        try:
            info = self.fs.get_file_info(location.fs_path)
        except Exception as exc:
            raise listing_error(exc, location.uri, self.secrets) from exc
        return bool(info.type != pafs.FileType.NotFound)

    def table_format(self, location: Location, fmt: str | None) -> tuple[str, Location] | None:
        """``("iceberg", metadata file)`` or ``("delta", root)`` when ``location`` is one."""
        if fmt in (None, "iceberg"):
            metadata = iceberg_metadata_file(self.fs, location)
            if metadata is not None:
                return "iceberg", metadata
        if fmt in (None, "delta"):
            try:
                if is_delta(self.fs, location):
                    return "delta", location
            except Exception as exc:
                raise listing_error(exc, location.uri, self.secrets) from exc
        return None

    def table(self, kind: str, root: Location, found: Location, dataset: DatasetId) -> Outcome:
        try:
            if kind == "iceberg":
                return observe_iceberg(root, found, dataset, self.settings, self.small_file_bytes)
            return observe_delta(root, dataset, self.settings, self.small_file_bytes)
        except ConnectorError:
            raise
        except Exception as exc:
            return Outcome(issues=[ObservationIssue(root.uri, describe(exc, self.secrets))])

    def folder(
        self, folded: Folded, scan: Location, entries: Sequence[tuple[str, int]],
        fmt: str | None, dataset: DatasetId | None,
    ) -> Outcome:  # fmt: skip
        selection = select_files(entries, folded, scan, fmt)
        single = bool(entries) and entries[0][0] == ""
        root = scan if single else folded.root
        if selection.format is None or not selection.files:
            what = f"{fmt} " if fmt else ""
            message = f"no {what}data files (.parquet, .csv, .json, .jsonl, .ndjson) found"
            return Outcome(issues=[ObservationIssue(root.uri, message)])
        name = dataset or root.dataset_id
        outcome = observe_folder(
            self.fs, root, name, selection.files, selection.format,
            sample_rows=self.sample_rows, small_file_bytes=self.small_file_bytes,
            secrets=self.secrets,
        )  # fmt: skip
        if selection.skipped:
            others = ", ".join(f"{n} {f}" for f, n in sorted(selection.skipped.items()))
            outcome.findings.insert(0, Finding(
                name, "mixed_formats",
                f"{root.uri}: {selection.format} files observed; {others} files left out",
                Severity.INFO,
            ))  # fmt: skip
        return outcome


def _observation(source: str, outcomes: Sequence[Outcome]) -> Observation:
    tables = [o.table for o in outcomes if o.table is not None]
    return Observation(
        source=source,
        tables=tuple(sorted(tables, key=lambda t: (t.id.namespace, t.id.name))),
        issues=tuple(i for o in outcomes for i in o.issues),
        findings=tuple(f for o in outcomes for f in o.findings),
    )


def observe_files(
    root: str,
    *,
    dataset: DatasetId | None = None,
    format: str | None = None,
    storage_options: Mapping[str, str] | None = None,
    sample_rows: int = 1000,
    small_file_bytes: int = _DEFAULT_SMALL,
) -> Observation:
    """Observe the one bronze dataset at ``root`` (a folder, a file, a glob, a partition
    folder, an Iceberg table or metadata.json, a Delta table; local or ``s3://``).

    ``dataset`` overrides the name (by default the OpenLineage name of the root, partition
    folders and globs folded away); ``format`` is ``parquet``, ``csv``, ``json``,
    ``iceberg`` or ``delta``, detected when None. Raises ConfigError for a bad root or
    option and ConnectorError when the store cannot be listed at all or a needed library
    is missing; everything else is an issue of the Observation.
    """
    location = parse_location(root)
    fmt = _format(format)
    context = _Context(location, storage_options, sample_rows, small_file_bytes)
    folded = dataset_root(location)
    if not context.exists(folded.scan):
        issue = ObservationIssue(location.uri, "no such file or folder")
        return Observation(location.uri, issues=(issue,))
    if folded.pattern is None:
        found = context.table_format(location, fmt)
        if found is not None:
            kind, where = found
            table_root = where.parent().parent() if kind == "iceberg" else where
            if kind == "iceberg" and not location.path.endswith(".metadata.json"):
                table_root = location
            name = dataset or table_root.dataset_id
            return _observation(location.uri, [context.table(kind, table_root, where, name)])
    if fmt in ("iceberg", "delta"):
        marker = "metadata/*.metadata.json" if fmt == "iceberg" else "_delta_log/"
        message = f"not a {fmt} table (no {marker})"
        return Observation(location.uri, issues=(ObservationIssue(location.uri, message),))
    entries = context.listing(folded.scan)
    if entries is None:
        issue = ObservationIssue(location.uri, "no such file or folder")
        return Observation(location.uri, issues=(issue,))
    outcome = context.folder(folded, folded.scan, entries, fmt, dataset)
    return _observation(location.uri, [outcome])


def _dataset_folder(relative: str) -> str:
    # The folder above the first Hive partition folder of a file's path.
    folders = relative.split("/")[:-1]
    kept = []
    for part in folders:
        if hive_pair(part) is not None:
            break
        kept.append(part)
    return "/".join(kept)


def _table_roots(entries: Sequence[tuple[str, int]]) -> dict[str, str]:
    # {folder: "iceberg" | "delta"}, outermost tables only.
    found: dict[str, str] = {}
    for relative, _ in entries:
        parts = relative.split("/")
        if "_delta_log" in parts[:-1]:
            found.setdefault("/".join(parts[: parts.index("_delta_log")]), "delta")
        elif len(parts) >= 2 and parts[-2] == "metadata" and parts[-1].endswith(".metadata.json"):
            found.setdefault("/".join(parts[:-2]), "iceberg")
    outer: dict[str, str] = {}
    for folder in sorted(found):
        if not any(folder == o or folder.startswith(o + "/") or not o for o in outer):
            outer[folder] = found[folder]
    return outer


def discover(
    root: str,
    *,
    format: str | None = None,
    storage_options: Mapping[str, str] | None = None,
    sample_rows: int = 1000,
    small_file_bytes: int = _DEFAULT_SMALL,
) -> Observation:
    """Observe every dataset below the bronze folder ``root`` (see the module's docstring);
    ``format`` restricts folders to one file format. Raises like ``observe_files``."""
    location = parse_location(root)
    fmt = _format(format)
    context = _Context(location, storage_options, sample_rows, small_file_bytes)
    entries = context.listing(location)
    if entries is None:
        issue = ObservationIssue(location.uri, "no such file or folder")
        return Observation(location.uri, issues=(issue,))
    tables = _table_roots(entries) if fmt in (None, "iceberg", "delta") else {}
    groups: dict[str, list[tuple[str, int]]] = {}
    for relative, size in entries:
        if any(relative == t or relative.startswith(t + "/") or not t for t in tables):
            continue
        if any(is_hidden(p) for p in relative.split("/")) or format_of(relative) is None:
            continue
        folder = _dataset_folder(relative)
        below = relative[len(folder) + 1 :] if folder else relative
        groups.setdefault(folder, []).append((below, size))
    outcomes: list[Outcome] = []
    for folder in sorted(set(groups) | set(tables)):
        where = location.child(folder)
        try:
            if folder in tables:
                outcomes.append(_discovered_table(context, tables[folder], where))
                continue
            folded = Folded(where, where, (), None)
            outcomes.append(context.folder(folded, where, groups[folder], fmt, None))
        except Exception as exc:
            issue = ObservationIssue(where.uri, describe(exc, context.secrets))
            outcomes.append(Outcome(issues=[issue]))
    if not outcomes:
        message = "no datasets found (no data files, Iceberg or Delta tables)"
        return Observation(location.uri, issues=(ObservationIssue(location.uri, message),))
    return _observation(location.uri, outcomes)


def _discovered_table(context: _Context, kind: str, where: Location) -> Outcome:
    if kind == "iceberg":
        metadata = iceberg_metadata_file(context.fs, where)
        if metadata is None:
            return Outcome(issues=[ObservationIssue(where.uri, "no Iceberg metadata file")])
        return context.table(kind, where, metadata, where.dataset_id)
    return context.table(kind, where, where, where.dataset_id)
