"""Dataset aspects: status, properties, subtypes, schema, owners, tags and assertions.

A dataset we know only by name is only referenced (``status`` and its lineage): its
properties are left to whoever ingests it. A declared test becomes an assertion on the
dataset (or its column); check results are mapped in ``connectors.datahub.assertions``.
Where the catalog's columns are the live ones, the schema fields take the live
nullability and keys, and a live view its SQL (``connectors.datahub.profiles``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from datahub.emitter.mce_builder import (
    make_data_platform_urn,
    make_dataplatform_instance_urn,
    make_tag_urn,
)
from datahub.metadata import schema_classes as sc

from connectors.datahub import events
from connectors.datahub.context import ownership
from connectors.datahub.naming import (
    FieldTypeName,
    dataset_name,
    field_path,
    field_type,
    short_name,
)
from connectors.datahub.profiles import ProfileAspects, view_properties
from connectors.datahub.upstreams import UpstreamAspects
from lineage.contracts import DBT_COLUMNS_KEY, dbt_test_labels
from lineage.model import Dataset, DatasetId, DatasetKind, DataTest, redact_mapping

__all__ = ["DatasetAspects"]

_SUBTYPES = {
    DatasetKind.TABLE: "Table",
    DatasetKind.VIEW: "View",
    DatasetKind.MATERIALIZED_VIEW: "Materialized View",
    DatasetKind.SOURCE: "Source",
    DatasetKind.SEED: "Seed",
    DatasetKind.SNAPSHOT: "Snapshot",
    DatasetKind.LOCATION: "Location",
}
_TYPE_CLASSES: dict[FieldTypeName, Any] = {
    FieldTypeName.STRING: sc.StringTypeClass,
    FieldTypeName.NUMBER: sc.NumberTypeClass,
    FieldTypeName.BOOLEAN: sc.BooleanTypeClass,
    FieldTypeName.DATE: sc.DateTypeClass,
    FieldTypeName.TIME: sc.TimeTypeClass,
    FieldTypeName.BYTES: sc.BytesTypeClass,
    FieldTypeName.ARRAY: sc.ArrayTypeClass,
    FieldTypeName.MAP: sc.MapTypeClass,
    FieldTypeName.RECORD: sc.RecordTypeClass,
    FieldTypeName.ENUM: sc.EnumTypeClass,
    FieldTypeName.NULL: sc.NullTypeClass,
}


class DatasetAspects(UpstreamAspects, ProfileAspects):
    """Builds the MCPs of datasets and their declared tests."""

    def _dataset(self, dataset_id: DatasetId) -> None:
        urn = self.urn(dataset_id)
        dataset = self.datasets.get(dataset_id)
        aspects: list[sc._Aspect | None] = [sc.StatusClass(removed=False)]
        if dataset is not None and _is_described(dataset):
            aspects += [
                self._properties(dataset),
                self._subtypes(dataset),
                self._schema(dataset),
                ownership(dataset.owners, self.stamp(self.dataset_time(dataset_id))),
                _tags(dataset.tags),
            ]
            live = self.snapshot.live.get(dataset_id)
            if live is not None:
                aspects.append(view_properties(live.table))
        if self.settings.platform_instance:
            aspects.append(
                sc.DataPlatformInstanceClass(
                    platform=make_data_platform_urn(self.platform(dataset_id)),
                    instance=make_dataplatform_instance_urn(
                        self.platform(dataset_id), self.settings.platform_instance
                    ),
                )
            )
        aspects.append(self._upstream_lineage(dataset_id))
        self._emit(urn, *aspects)
        if dataset is not None:
            for test in sorted(dataset.tests):
                self._assertion(dataset_id, test)

    def _properties(self, dataset: Dataset) -> sc.DatasetPropertiesClass:
        platform = self.platform(dataset.id)
        name = dataset_name(dataset.id, platform, self.settings.case)
        try:
            meta = json.loads(dataset.meta or "{}")
        except ValueError:
            meta = {"meta": dataset.meta}
        if isinstance(meta, dict):
            # Column marks go with the columns; a meta key may name a secret (masked).
            meta = redact_mapping({k: v for k, v in meta.items() if k != DBT_COLUMNS_KEY})
        custom = events.text_map(meta if isinstance(meta, dict) else {"meta": meta})
        # Our own keys win over same-named meta keys: they describe where this came from.
        custom.update(
            events.text_map(
                {
                    "namespace": dataset.id.namespace,
                    "kind": dataset.kind.value,
                    "source_file": dataset.source_file,
                    "contract_enforced": "true" if dataset.contract_enforced else None,
                }
            )
        )
        if dataset.freshness is not None:
            custom.update(
                events.text_map(
                    {
                        "freshness.loaded_at_field": dataset.freshness.loaded_at_field,
                        "freshness.warn_after": dataset.freshness.warn_after,
                        "freshness.error_after": dataset.freshness.error_after,
                    }
                )
            )
        return sc.DatasetPropertiesClass(
            name=short_name(name, platform),
            qualifiedName=name,
            description=dataset.description,
            customProperties=custom,
        )

    def _subtypes(self, dataset: Dataset) -> sc.SubTypesClass | None:
        names = []
        if any(j.kind == "dbt_model" for j in self.writers.get(dataset.id, ())):
            names.append("Model")
        if dataset.kind in _SUBTYPES:
            names.append(_SUBTYPES[dataset.kind])
        return sc.SubTypesClass(typeNames=names) if names else None

    def _schema(self, dataset: Dataset) -> sc.SchemaMetadataClass | None:
        if dataset.schema is None or not dataset.schema.fields:
            return None
        platform = self.platform(dataset.id)
        not_null = {t.column for t in dataset.tests if t.name == "not_null" and t.column}
        fields = []
        for column in dataset.schema.fields:
            kind = field_type(column.type)
            native = column.type or "unknown"
            fields.append(
                sc.SchemaFieldClass(
                    fieldPath=field_path(column.name, platform, self.settings.case),
                    type=sc.SchemaFieldDataTypeClass(type=_TYPE_CLASSES[kind]()),
                    nativeDataType=native,
                    # Nullable unless a not_null test or the type itself says otherwise.
                    nullable=column.name not in not_null and "not null" not in native.lower(),
                    description=column.description,
                )
            )
        doc: list[Any] = [[f.name, f.type, f.description] for f in dataset.schema.fields]
        keys = self._live_fields(dataset, fields)
        if keys is not None:  # the columns are the live ones: hash their live facts too
            doc = [c.to_dict() for c in self.snapshot.live[dataset.id].table.columns]
        # The catalog's version of these columns, so DataHub's schema history moves with it.
        current = self.current_schema(dataset.id)
        return sc.SchemaMetadataClass(
            schemaName=dataset_name(dataset.id, platform, self.settings.case),
            platform=make_data_platform_urn(platform),
            version=current.version if current is not None else 0,
            created=self.stamp(current.first_at if current is not None else None),
            lastModified=self.stamp(current.observed_at if current is not None else None),
            hash=hashlib.sha256(json.dumps(doc).encode()).hexdigest(),
            platformSchema=sc.OtherSchemaClass(rawSchema=""),
            fields=fields,
            primaryKeys=keys or None,
        )

    def _assertion(self, dataset_id: DatasetId, test: DataTest) -> str:
        dataset_urn = self.urn(dataset_id)
        urn = events.assertion_urn(dataset_urn, test)
        # A check result names (dataset, check, column): the first such test takes it,
        # by dbt's name and by the names `lineage check` and run_results give the test.
        for name in (test.name, *dbt_test_labels(test)):
            self.assertions.setdefault((dataset_id, name, test.column), urn)
        field = self.field_urn(dataset_id, test.column) if test.column else None
        self.result.mcps.extend(events.assertion_mcps(urn, dataset_urn, field, test))
        return urn


def _is_described(dataset: Dataset) -> bool:
    """Whether we know anything about a dataset beyond its name (else we only reference
    it, and leave its properties to whoever ingests it)."""
    return bool(
        dataset.kind is not DatasetKind.UNKNOWN
        or dataset.description
        or dataset.owners
        or dataset.tags
        or dataset.meta not in ("", "{}")
        or dataset.source_file
        or (dataset.schema is not None and dataset.schema.fields)
    )


def _tags(tags: Sequence[str]) -> sc.GlobalTagsClass | None:
    if not tags:
        return None
    urns = dict.fromkeys(make_tag_urn(t) for t in tags if t)
    return sc.GlobalTagsClass(tags=[sc.TagAssociationClass(tag=u) for u in urns])
