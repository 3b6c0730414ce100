"""Where a bronze dataset lives and what it is called (pure: no file is touched here).

Names follow the OpenLineage naming spec, as the rest of Silverline names file datasets
(``parsers.sql.names.location_dataset``, ``lineage.run.datasets``)::

    s3://bucket/bronze/erp/cust_az12/          -> DatasetId("s3://bucket", "bronze/erp/cust_az12")
    /data/bronze/erp/cust_az12                 -> DatasetId("file", "/data/bronze/erp/cust_az12")

A dataset is its root folder: partition folders (``year=2024/month=01``) and globs
(``cust_az12/year=*/*.parquet``) fold to it, so a job that writes one partition and the
folder observed here are the same dataset.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from lineage.errors import ConfigError
from lineage.model import DatasetId

__all__ = [
    "GLOB_CHARS",
    "Folded",
    "Location",
    "dataset_root",
    "hive_pair",
    "is_hidden",
    "parse_location",
]

#: Characters that make a path segment a glob pattern.
GLOB_CHARS = frozenset("*?[")
_S3_SCHEMES = frozenset({"s3", "s3a", "s3n"})


@dataclass(frozen=True)
class Location:
    """A folder or file: on the local disk (``bucket`` empty) or in an S3 bucket.

    ``path`` is an absolute POSIX path locally and a key prefix without slashes on S3.
    """

    scheme: str  # "file" or "s3"
    bucket: str
    path: str

    @property
    def uri(self) -> str:
        """``s3://bucket/key`` or the absolute local path (as ``FileLayout.root`` reads)."""
        if self.scheme == "s3":
            return f"s3://{self.bucket}/{self.path}" if self.path else f"s3://{self.bucket}"
        return self.path

    @property
    def fs_path(self) -> str:
        """The path as a pyarrow file system spells it (``bucket/key`` on S3)."""
        if self.scheme == "s3":
            return f"{self.bucket}/{self.path}" if self.path else self.bucket
        return self.path

    @property
    def dataset_id(self) -> DatasetId:
        if self.scheme == "s3":
            return DatasetId(f"s3://{self.bucket}", self.path or "/")
        return DatasetId("file", self.path)

    def child(self, relative: str) -> Location:
        """The location ``relative`` (a POSIX path) below this one."""
        if not relative:
            return self
        joined = posixpath.join(self.path, relative) if self.path else relative
        return Location(self.scheme, self.bucket, joined)

    def parent(self) -> Location:
        return Location(self.scheme, self.bucket, posixpath.dirname(self.path))

    @property
    def name(self) -> str:
        return posixpath.basename(self.path)


def parse_location(root: str) -> Location:
    """``root`` (``s3://bucket/prefix/``, ``file:///abs``, ``/abs`` or a relative path) as a
    Location; trailing slashes do not matter. Other object stores raise ConfigError."""
    text = root.strip()
    if not text:
        raise ConfigError("an empty bronze root")
    parsed = urlsplit(text)
    scheme = parsed.scheme.lower()
    if scheme in _S3_SCHEMES:
        if len(parsed.netloc) < 3:
            raise ConfigError(f"{text!r} names no S3 bucket")
        return Location("s3", parsed.netloc, parsed.path.strip("/"))
    if scheme == "file":
        return Location("file", "", _local(unquote(parsed.path) or "/"))
    if scheme and len(scheme) > 1:  # not a Windows drive letter
        raise ConfigError(
            f"{text!r}: only local paths and s3:// locations are supported for bronze files"
        )
    return Location("file", "", _local(os.path.expanduser(text)))


def _local(path: str) -> str:
    absolute = os.path.abspath(path)  # normalises, keeps symlinks as the user named them
    return absolute.replace(os.sep, "/")


def hive_pair(segment: str) -> tuple[str, str] | None:
    """``("year", "2024")`` for a Hive partition folder ``year=2024`` (URI-unescaped, as
    pyarrow's HivePartitioning reads it), None for any other segment."""
    key, sep, value = segment.partition("=")
    if not sep or not key or "=" in key:
        return None
    return unquote(key), unquote(value)


def is_hidden(segment: str) -> bool:
    """Files and folders pyarrow.dataset skips too: ``_SUCCESS``, ``.crc``, ``_delta_log``."""
    return segment.startswith((".", "_"))


@dataclass(frozen=True)
class Folded:
    """A root folded to its dataset: ``root`` names the dataset, ``scan`` is the folder to
    list, ``fixed`` the partition values of the folders between them, ``pattern`` a glob
    relative to ``scan`` (None without one)."""

    root: Location
    scan: Location
    fixed: tuple[tuple[str, str], ...]
    pattern: str | None


def dataset_root(location: Location) -> Folded:
    """Fold ``location`` to its dataset root: globs and trailing ``key=value`` folders go.

    >>> folded = dataset_root(parse_location("s3://bkt/erp/cust/year=2024/*.parquet"))
    >>> folded.root.uri, folded.scan.uri, folded.fixed, folded.pattern
    ('s3://bkt/erp/cust', 's3://bkt/erp/cust/year=2024', (('year', '2024'),), '*.parquet')
    """
    segments = [s for s in location.path.split("/") if s]
    pattern: str | None = None
    for index, segment in enumerate(segments):
        if GLOB_CHARS & set(segment):
            pattern = "/".join(segments[index:])
            segments = segments[:index]
            break
    prefix = "/" if location.scheme == "file" else ""
    scan = Location(location.scheme, location.bucket, prefix + "/".join(segments))
    fixed: list[tuple[str, str]] = []
    while segments and (pair := hive_pair(segments[-1])) is not None:
        fixed.insert(0, pair)
        segments.pop()
    root = Location(location.scheme, location.bucket, prefix + "/".join(segments))
    return Folded(root, scan, tuple(fixed), pattern)
