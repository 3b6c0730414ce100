"""Run-time drift: the output schemas a run reports against the catalog's documented ones.

The baseline of a dataset is its last *documented* schema version (what SQL and dbt
scans, ``--schema`` files and contracts recorded: every observer but the live warehouse,
the files, introspection and events), the same notion as ``lineage drift --baseline
catalog --against events``. No documented schema: nothing to compare, no finding.

A run's types represent its columns (a data frame's ``int64`` for an ``INTEGER``
column, ``object`` for anything), they do not declare them: the observed side compares
columns (removed, added, renamed) and coarse type families only (``type_families``).

Pure: ``connectors.openlineage.drift`` wires it where events reach the catalog, and
``lineage.run.drift`` for jobs declared ``on_drift="fail"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

from lineage.drift.diff import DatasetSchema
from lineage.drift.impact import DriftFinding
from lineage.drift.kinds import Change, ChangeKind, DriftSeverity
from lineage.errors import ConfigError
from lineage.model import DatasetId, Field, LiveColumn, Schema

__all__ = [
    "ON_DRIFT_POLICIES",
    "ON_DRIFT_TAG",
    "UNDOCUMENTED_OBSERVERS",
    "breaking_findings",
    "documented_schema",
    "documented_version",
    "drift_summary",
    "observed_schema",
    "parse_on_drift",
    "phrase",
    "run_baseline",
    "run_observer",
]

#: What ``@job(on_drift=...)`` accepts: record and log (default), also fail the run on
#: breaking drift, or do not compare at all.
ON_DRIFT_POLICIES = ("warn", "fail", "ignore")
#: The job tag (OpenLineage ``tags`` job facet) carrying a policy other than ``warn``, so
#: whoever records the job's events (the catalog sink, ``lineage ingest``) honours it.
ON_DRIFT_TAG = "silverline.on_drift"
#: Observers whose schema versions are observations, not documentation. ``openlineage``
#: included: an event's own schema is recorded before it is compared.
UNDOCUMENTED_OBSERVERS = ("warehouse:", "files:", "introspection", "openlineage")


class _Version(Protocol):
    @property
    def observed_by(self) -> str: ...

    @property
    def schema(self) -> Schema: ...


V = TypeVar("V", bound=_Version)


def parse_on_drift(value: object) -> str:
    """``value`` as a policy name.

    Raises:
        ConfigError: not one of ``warn``, ``fail``, ``ignore``.
    """
    text = value.strip().lower() if isinstance(value, str) else value
    if text not in ON_DRIFT_POLICIES:
        raise ConfigError(f"on_drift must be one of {', '.join(ON_DRIFT_POLICIES)}, "
                          f"got {value!r}")  # fmt: skip
    return str(text)


def documented_version(versions: Sequence[V]) -> V | None:
    """The newest version (``versions`` oldest first) a documenting observer recorded with
    at least one column, or None."""
    for version in reversed(versions):
        if not version.observed_by.startswith(UNDOCUMENTED_OBSERVERS) and version.schema.fields:
            return version
    return None


def documented_schema(
    dataset: DatasetId,
    fields: Sequence[Field],
    *,
    description: str | None = None,
    owners: tuple[str, ...] = (),
) -> DatasetSchema:
    """The baseline side: documented columns, in an order that means nothing."""
    columns = tuple(LiveColumn(f.name, f.type, comment=f.description) for f in fields)
    return DatasetSchema(dataset, columns, description=description, owners=owners,
                         source="documented", ordered=False, knows_partitions=False)  # fmt: skip


def observed_schema(dataset: DatasetId, fields: Sequence[Field]) -> DatasetSchema:
    """The run's side: its columns, types compared by family only."""
    columns = tuple(LiveColumn(f.name, f.type, comment=f.description) for f in fields)
    return DatasetSchema(dataset, columns, source="run", ordered=False,
                         knows_partitions=False, type_families=True)  # fmt: skip


def run_observer(job_name: str) -> str:
    """``observed_by`` of a run's findings: ``run:<job name>``."""
    return f"run:{job_name}"


def run_baseline(dataset: DatasetId) -> str:
    """``baseline`` of a run's findings: one scope per dataset, so a run writing one of a
    job's outputs resolves nothing of the others."""
    return f"catalog:{dataset}"


def breaking_findings(findings: Sequence[DriftFinding]) -> list[DriftFinding]:
    return [f for f in findings if f.severity is DriftSeverity.BREAKING]


_TYPE_KINDS = frozenset({
    ChangeKind.TYPE_CHANGED, ChangeKind.TYPE_NARROWED, ChangeKind.TYPE_WIDENED,
    ChangeKind.TYPE_TIMEZONE_CHANGED, ChangeKind.TYPE_UNCOMPARABLE,
})  # fmt: skip


def phrase(change: Change) -> str:
    """A change in a few words: ``column gen removed``, ``column cid type changed
    (VARCHAR(50) -> int64)``."""
    kind = change.kind
    if kind is ChangeKind.COLUMN_REMOVED:
        return f"column {change.column} removed"
    if kind is ChangeKind.COLUMN_ADDED:
        return f"column {change.column} added"
    if kind is ChangeKind.COLUMN_RENAMED:
        return f"column {change.old} renamed to {change.new}"
    words = kind.value.replace("_", " ")
    if kind in _TYPE_KINDS:
        return f"column {change.column} {words} ({change.old} -> {change.new})"
    return f"column {change.column} {words}" if change.column else words


def drift_summary(findings: Sequence[DriftFinding]) -> str:
    """One line for a run's log, worst finding first: ``drift: silver.erp_customers:
    column gen removed (breaking), 2 more; lineage drift for the impact``."""
    if not findings:
        return "no drift"
    worst = min(findings, key=lambda f: f.severity.rank)
    more = len(findings) - 1
    text = f"drift: {worst.dataset.name}: {phrase(worst.change)} ({worst.severity.value})"
    if more:
        text += f", {more} more"
    return text + "; lineage drift for the impact"
