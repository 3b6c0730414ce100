"""The metrics and check results an OpenLineage event carries in its facets.

``event_metrics`` reads ``outputStatistics``, ``dataQualityMetrics`` (dataset-level and
per column) and Silverline's own ``silverline_metrics`` run facet; ``event_assertions``
reads ``dataQualityAssertions`` (dbt tests, Great Expectations). Values that are not
finite numbers, and entries without a name, are left out.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

from connectors.openlineage.batch import named_entries
from lineage.model import DatasetId

__all__ = ["event_assertions", "event_metrics"]

_METRIC_NAMES = {
    "rowCount": "row_count",
    "bytes": "size_bytes",
    "fileCount": "file_count",
    "nullCount": "null_count",
    "distinctCount": "distinct_count",
    "sum": "sum",
    "count": "count",
    "min": "min",
    "max": "max",
}


def event_metrics(event: Mapping[str, Any]) -> Iterator[tuple[DatasetId, str, float, str | None]]:
    """``(dataset, name, value, column)`` of every metric the event carries."""
    for direction in ("inputs", "outputs"):
        for entry in named_entries(event.get(direction)):
            dataset = DatasetId(entry["namespace"], entry["name"])
            extra = entry.get("outputFacets" if direction == "outputs" else "inputFacets") or {}
            statistics = extra.get("outputStatistics")
            if isinstance(statistics, Mapping):
                for key, name in (("rowCount", "row_count"), ("size", "size_bytes")):
                    if _number(statistics.get(key)):
                        yield dataset, name, float(statistics[key]), None
            for quality in (
                (entry.get("facets") or {}).get("dataQualityMetrics"),
                extra.get("dataQualityMetrics"),
            ):
                if isinstance(quality, Mapping):
                    yield from _quality_metrics(dataset, quality)
    run = event.get("run")
    facets = run.get("facets") if isinstance(run, Mapping) else None
    custom = facets.get("silverline_metrics") if isinstance(facets, Mapping) else None
    if isinstance(custom, Mapping) and isinstance(custom.get("metrics"), list):
        for metric in custom["metrics"]:
            if (
                isinstance(metric, Mapping)
                and isinstance(metric.get("dataset"), str)
                and _number(metric.get("value"))
            ):
                dataset = DatasetId(str(metric.get("namespace", "")), metric["dataset"])
                column = metric.get("column")
                yield (
                    dataset,
                    str(metric["name"]),
                    float(metric["value"]),
                    (str(column) if column is not None else None),
                )


def event_assertions(
    event: Mapping[str, Any],
) -> Iterator[tuple[DatasetId, str, str | None, str]]:
    """``(dataset, check, column, "pass" | "fail")`` of every assertion the event carries."""
    for entry in named_entries(event.get("inputs")) + named_entries(event.get("outputs")):
        dataset = DatasetId(entry["namespace"], entry["name"])
        for group in (entry.get("inputFacets"), entry.get("facets")):
            facet = group.get("dataQualityAssertions") if isinstance(group, Mapping) else None
            if not isinstance(facet, Mapping) or not isinstance(facet.get("assertions"), list):
                continue
            for assertion in facet["assertions"]:
                if isinstance(assertion, Mapping) and isinstance(assertion.get("assertion"), str):
                    column = assertion.get("column")
                    yield (
                        dataset,
                        assertion["assertion"],
                        str(column) if column is not None else None,
                        "pass" if assertion.get("success") else "fail",
                    )


def _quality_metrics(
    dataset: DatasetId, facet: Mapping[str, Any]
) -> Iterator[tuple[DatasetId, str, float, str | None]]:
    for key in ("rowCount", "bytes", "fileCount"):
        if _number(facet.get(key)):
            yield dataset, _METRIC_NAMES[key], float(facet[key]), None
    columns = facet.get("columnMetrics")
    if isinstance(columns, Mapping):
        for column, values in columns.items():
            if not isinstance(values, Mapping):
                continue
            for key, value in values.items():
                name = _METRIC_NAMES.get(key)
                if name is not None and _number(value):
                    yield dataset, name, float(value), str(column)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
