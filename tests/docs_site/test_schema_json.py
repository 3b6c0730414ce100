"""``schema.json``: the drift baseline, compared whole (format silverline-schema/1)."""

from __future__ import annotations

import json
from pathlib import Path

from docs_site.build import build_site
from lineage.catalog import Catalog
from lineage.model import (
    Dataset,
    DatasetId,
    DatasetKind,
    Field,
    LineageBatch,
    LiveColumn,
    LiveTable,
    Observation,
    Schema,
)
from tests.docs_site.erp_catalog import NOW, T0

PG = "postgres://db:5432"
DOCUMENTED = DatasetId(PG, "dwh.silver.erp_customers")
LIVE_ONLY = DatasetId(PG, "dwh.bronze.erp_loc_a101")
EMPTY = DatasetId("duckdb:///x.duckdb", "x.main.nothing")


def test_schema_json_is_exactly_the_published_format(tmp_path: Path) -> None:
    with Catalog(f"sqlite:///{tmp_path / 'c.db'}") as catalog:
        catalog.write(LineageBatch((
            Dataset(DOCUMENTED, DatasetKind.TABLE, Schema((
                Field("customer_id", "varchar(50)", "The key"), Field("gender", None, None),
                Field("only_documented", "int"),
            )), description="Customers", owners=("data-eng",)),
            Dataset(EMPTY, DatasetKind.VIEW),
        )), observed_at=T0)  # fmt: skip
        catalog.record_observation(Observation(PG, (
            LiveTable(DOCUMENTED, DatasetKind.TABLE, (
                LiveColumn("customer_id", "character varying(50)", nullable=False,
                           primary_key=True),
                LiveColumn("gender", "text", nullable=True, default="'n/a'", comment="live"),
                LiveColumn("live_extra", "int"),
            )),
            LiveTable(LIVE_ONLY, DatasetKind.TABLE, (
                LiveColumn("cid", "text", nullable=True, comment="customer"),
                LiveColumn("year", "int", nullable=False, partition=True),
            )),
        )), observed_by=f"warehouse:{PG}", observed_at=T0)  # fmt: skip
        build_site(catalog, tmp_path / "site", now=NOW)
    text = (tmp_path / "site" / "schema.json").read_text(encoding="utf-8")
    document = json.loads(text)
    assert document.pop("generator").startswith("silverline")
    assert document == {
        "format": "silverline-schema/1",
        "generated_at": "2026-12-01T06:00:00+00:00",
        "datasets": [
            {
                "namespace": PG, "name": "dwh.bronze.erp_loc_a101", "kind": "table",
                "layer": "bronze", "description": None, "owners": [], "source": "live",
                "partition_columns": ["year"],
                "columns": [
                    {"name": "cid", "type": "text", "description": "customer", "nullable": True,
                     "default": None, "primary_key": False, "partition": False},
                    {"name": "year", "type": "int", "description": None, "nullable": False,
                     "default": None, "primary_key": False, "partition": True},
                ],
            },
            {
                "namespace": PG, "name": "dwh.silver.erp_customers", "kind": "table",
                "layer": "silver", "description": "Customers", "owners": ["data-eng"],
                "source": "documented", "partition_columns": [],
                "columns": [
                    {"name": "customer_id", "type": "varchar(50)", "description": "The key",
                     "nullable": False, "default": None, "primary_key": True,
                     "partition": False},
                    {"name": "gender", "type": "text", "description": "live", "nullable": True,
                     "default": "'n/a'", "primary_key": False, "partition": False},
                    {"name": "only_documented", "type": "int", "description": None,
                     "nullable": None, "default": None, "primary_key": False,
                     "partition": False},
                ],
            },
        ],
    }  # fmt: skip
    # keys sorted, one dataset per line: the same bytes for the same catalog
    lines = text.splitlines()
    assert lines[0] == '{"datasets": [' and lines[-1].startswith("], ")
    assert [json.loads(line.rstrip(",")) for line in lines[1:-1]] == document["datasets"]
    for line in lines[1:-1]:
        entry = json.loads(line.rstrip(","))
        assert line.rstrip(",") == json.dumps(entry, sort_keys=True, ensure_ascii=False)
    assert list(document) == sorted(document)
