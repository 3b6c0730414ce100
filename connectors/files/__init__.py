"""Bronze files: Parquet, CSV and JSON-lines folders (local or ``s3://``), Hive
partitions, Iceberg and Delta tables, as ``lineage.model`` observations and profiles.

``observe_files(root)`` observes one dataset, ``discover(root)`` every dataset below a
bronze folder, ``profile_files(root)`` streams one dataset through pyarrow for its
metrics. Nothing heavy is imported here: names load on first use (PEP 562); pyarrow,
pyiceberg and deltalake load inside the functions that need them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from connectors.files.layout import is_small_files as is_small_files
    from connectors.files.observe import discover as discover
    from connectors.files.observe import observe_files as observe_files
    from connectors.files.paths import (
        dataset_root as dataset_root,
    )
    from connectors.files.paths import (
        parse_location as parse_location,
    )
    from connectors.files.profile import profile_files as profile_files
    from connectors.files.storage import S3Settings as S3Settings

_EXPORTS = {
    "S3Settings": "connectors.files.storage",
    "dataset_root": "connectors.files.paths",
    "discover": "connectors.files.observe",
    "is_small_files": "connectors.files.layout",
    "observe_files": "connectors.files.observe",
    "parse_location": "connectors.files.paths",
    "profile_files": "connectors.files.profile",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    # PEP 562: the module that defines ``name`` is imported on first access only.
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
