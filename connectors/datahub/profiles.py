"""Profiles and live schemas as DataHub aspects: ``datasetProfile``, live schema fields.

The latest profile of each introspected dataset (``Catalog.latest_profile``) becomes one
``datasetProfile`` (timeseries, at the profile's time, so each profile is sent once)::

    row_count                       rowCount
    columns of the live table       columnCount (else the columns the profile names)
    null_count / null_rate          fieldProfiles[].nullCount / nullProportion
    distinct_count                  uniqueCount, uniqueProportion (of the rows scanned)
    min / max (numbers), bounds     min / max as text (whole numbers without ".0"); text
                                    bounds only of date, time and number columns

A sampled profile (``sampled_rows``) keeps its proportions and bounds but sends no
``nullCount`` / ``uniqueCount``: counts of the sample beside the table's exact row count
would read as the table's. The bounds of text columns are some row's values (a name, an
e-mail address) and stay in the catalog. ``last_loaded_at`` has no field in DataHub's
profile (it is a freshness check's figure). Profiles, like run events, are never
retracted: they are history.

A live schema (``Catalog.live_schemas``) changes ``schemaMetadata`` only where the
catalog's columns are the live ones (no documented schema): the fields then take the
live nullability, primary keys (``primaryKeys``, ``isPartOfKey``) and partition columns
(``isPartitioningKey``). A live view's SQL becomes ``viewProperties``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from datahub.metadata import schema_classes as sc

from connectors.datahub import events
from connectors.datahub.context import BuildContext
from connectors.datahub.naming import FieldTypeName, field_path, field_type
from lineage.model import Dataset, DatasetKind, DatasetProfile, LiveColumn, LiveTable
from lineage.views import ObservedSchema

__all__ = ["ProfileAspects", "is_live_schema", "profile_aspect", "view_properties"]

# Column types whose text bounds are figures, not somebody's data.
_ORDERED = frozenset({FieldTypeName.NUMBER, FieldTypeName.DATE, FieldTypeName.TIME})


def profile_aspect(
    profile: DatasetProfile,
    path: Callable[[str], str],
    types: Mapping[str, str | None] | None = None,
) -> sc.DatasetProfileClass:
    """The ``datasetProfile`` of one profile; ``path`` names a column's field path and
    ``types`` holds the live table's native column types (its column count, and which
    text bounds may leave: those of dates, times and numbers only)."""
    types = types or {}
    names: dict[str, None] = {}
    for metric in profile.metrics:
        if metric.column is not None:
            names[metric.column] = None
    for column, _, _ in profile.bounds:
        names[column] = None
    # The bounds of a text column are values of some row (a name, an e-mail): withheld.
    bounds = {
        column: (low, high)
        for column, low, high in profile.bounds
        if field_type(types.get(column)) in _ORDERED
    }
    rows = profile.metric("row_count")
    scanned = profile.sampled_rows if profile.sampled_rows is not None else rows
    sampled = profile.sampled_rows is not None
    fields = []
    for name in names:
        nulls, distinct = profile.metric("null_count", name), profile.metric("distinct_count", name)
        low, high = bounds.get(name, (None, None))
        low = low if low is not None else _figure(profile.metric("min", name))
        high = high if high is not None else _figure(profile.metric("max", name))
        field = sc.DatasetFieldProfileClass(
            fieldPath=path(name),
            nullCount=None if nulls is None or sampled else int(nulls),
            nullProportion=profile.metric("null_rate", name),
            uniqueCount=None if distinct is None or sampled else round(distinct),
            uniqueProportion=min(1.0, distinct / scanned)
            if distinct is not None and scanned
            else None,
            min=low,
            max=high,
        )
        figures = (field.nullCount, field.nullProportion, field.uniqueProportion, low, high)
        if any(f is not None for f in figures):  # a loaded-at column alone says nothing here
            fields.append(field)
    return sc.DatasetProfileClass(
        timestampMillis=events.millis(profile.observed_at),
        rowCount=None if rows is None else int(rows),
        columnCount=len(types) or len(names) or None,
        fieldProfiles=fields or None,
    )


def is_live_schema(dataset: Dataset, live: ObservedSchema | None) -> bool:
    """Whether the catalog's columns of ``dataset`` are its live ones (no documented
    schema): the catalog fills them from the newest introspection only then."""
    if live is None or not live.table.columns:
        return False
    return (
        dataset.schema is None or not dataset.schema.fields or dataset.schema == live.table.schema
    )


def view_properties(table: LiveTable) -> sc.ViewPropertiesClass | None:
    """A live view's SQL as ``viewProperties`` (None for anything but a view)."""
    if not table.definition or table.kind not in (DatasetKind.VIEW, DatasetKind.MATERIALIZED_VIEW):
        return None
    return sc.ViewPropertiesClass(
        materialized=table.kind is DatasetKind.MATERIALIZED_VIEW,
        viewLogic=table.definition,
        viewLanguage="SQL",
    )


class ProfileAspects(BuildContext):
    """Builds the profile aspects and the live facts of schema fields."""

    def _profile(self, profile: DatasetProfile) -> None:
        dataset_id = profile.dataset
        platform = self.platform(dataset_id)
        live = self.snapshot.live.get(dataset_id)
        types = {c.name: c.type for c in live.table.columns} if live is not None else {}

        def path(name: str) -> str:
            return field_path(name, platform, self.settings.case)

        self._emit(self.urn(dataset_id), profile_aspect(profile, path, types))

    def _live_fields(self, dataset: Dataset, fields: list[sc.SchemaFieldClass]) -> list[str] | None:
        """Give ``fields`` the live nullability and keys; the primary key's field paths
        (None when the dataset's columns are documented, not live)."""
        live = self.snapshot.live.get(dataset.id)
        if live is None or not is_live_schema(dataset, live):
            return None
        platform = self.platform(dataset.id)
        by_path: Mapping[str, LiveColumn] = {
            field_path(c.name, platform, self.settings.case): c for c in live.table.columns
        }
        keys = []
        for schema_field in fields:
            column = by_path.get(schema_field.fieldPath)
            if column is None:
                continue
            if column.nullable is not None:  # a not_null test still says "not nullable"
                schema_field.nullable = schema_field.nullable and column.nullable
            if column.primary_key:
                schema_field.isPartOfKey = True
                keys.append(schema_field.fieldPath)
            if column.partition:
                schema_field.isPartitioningKey = True
        return keys


def _figure(value: float | None) -> str | None:
    if value is None:
        return None
    return str(int(value)) if float(value).is_integer() else repr(float(value))
