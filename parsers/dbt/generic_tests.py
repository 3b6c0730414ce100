"""A generic dbt test of ``manifest.json`` as a ``DataTest``, named as the scan names it.

One function for both readers of a manifest: the project scan (``parsers.dbt.manifest``)
attaches these tests to the tested model, and the run_results reader
(``parsers.dbt.artifacts``) names each test's outcome from the same ``DataTest``, so the
two always agree on the test's name, column and arguments (and so on the check labels
``lineage.contracts.dbt_test_labels`` gives it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lineage.model import DataTest
from parsers.dbt.project import canonical_json

__all__ = ["manifest_test"]

# kwargs dbt adds to every generic test: the tested model and column, not arguments
_NOT_ARGUMENTS = ("model", "column_name")


def manifest_test(raw: Mapping[str, Any], *, to_dataset: str | None = None) -> DataTest | None:
    """The ``DataTest`` of one manifest test node, or None for a singular test (a SQL file
    of its own, without ``test_metadata``).

    The name carries the package (``dbt_utils.accepted_range``), the column is lower-cased,
    the arguments are the test's kwargs as canonical JSON, the severity lower-cased.
    ``to_dataset`` is the relation a ``relationships`` test points to, when known.
    """
    metadata = raw.get("test_metadata")
    if not isinstance(metadata, Mapping) or not metadata.get("name"):
        return None
    name = str(metadata["name"])
    if metadata.get("namespace"):
        name = f"{metadata['namespace']}.{name}"
    kwargs = metadata.get("kwargs")
    kwargs = dict(kwargs) if isinstance(kwargs, Mapping) else {}
    column = raw.get("column_name") or kwargs.get("column_name")
    arguments = {k: v for k, v in kwargs.items() if k not in _NOT_ARGUMENTS}
    if name == "relationships" and to_dataset is not None:
        arguments["to_dataset"] = to_dataset
    config = raw.get("config")
    severity = config.get("severity") if isinstance(config, Mapping) else None
    return DataTest(name, str(column).lower() if column else None,
                    canonical_json(arguments), str(severity or "error").lower())
