"""Validation against the official OpenLineage JSON Schemas (copied in openlineage_spec/).

The copy comes unchanged from ``../shared/openlineage-spec`` (Apache License 2.0, the
OpenLineage project); it lives in the repo so the suite needs nothing outside it.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

SPEC_DIR = Path(__file__).parent / "openlineage_spec"
COLUMN_LINEAGE_URL = "https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json"


@lru_cache(maxsize=1)
def registry() -> Registry:
    resources = []
    for path in sorted(SPEC_DIR.glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        resources.append((document["$id"], Resource.from_contents(document)))
    return Registry().with_resources(resources)


def validate_facet(facet: dict[str, Any], schema_url: str) -> None:
    """Raise ``jsonschema.ValidationError`` unless ``facet`` is valid for ``schema_url``."""
    document = registry().contents(schema_url.split("#")[0])
    name = next(iter(document["properties"]))
    schema = {"$ref": f"{schema_url}#/properties/{name}"}
    Draft202012Validator(schema, registry=registry()).validate(facet)


def validate_column_lineage(entry: dict[str, Any]) -> None:
    """Validate one ``columnLineage`` entry of ``parse_sql(...).to_dict()`` as the facet."""
    facet = {
        "_producer": "https://github.com/silverline/silverline",
        "_schemaURL": COLUMN_LINEAGE_URL,
        "fields": entry["fields"],
        "dataset": entry["dataset"],
    }
    validate_facet(facet, COLUMN_LINEAGE_URL)
