"""A dbt model's meta and tests in DataHub: column marks stay with the columns, secret
meta values are masked, and a dbt test's results (from run_results, named as
``lineage check`` names the same check) land on that test's own assertion."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from datahub.metadata import schema_classes as sc

from connectors.datahub import build_mcps
from connectors.datahub.events import assertion_urn
from lineage.catalog import Catalog
from lineage.contracts import DBT_COLUMNS_KEY
from lineage.model import Dataset, DatasetId, DataTest, Field, LineageBatch, Schema

CUSTOMERS = DatasetId("postgres://db:5432", "dwh.silver.erp_customers")
URN = "urn:li:dataset:(urn:li:dataPlatform:postgres,dwh.silver.erp_customers,PROD)"
NOT_NULL = DataTest("not_null", "customer_id")
T0 = datetime(2026, 12, 1, 6, 0, tzinfo=timezone.utc)


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[Catalog]:
    meta = {
        "team": "crm",
        "api_token": "s3cr3t-value",
        DBT_COLUMNS_KEY: {"email": {"meta": {"pii": True}, "tags": ["pii"]}},
    }
    dataset = Dataset(
        CUSTOMERS,
        schema=Schema((Field("customer_id"), Field("email"))),
        tests=(NOT_NULL,),
        meta=json.dumps(meta, sort_keys=True),
    )
    with Catalog(f"sqlite:///{tmp_path / 'catalog.db'}") as found:
        found.write(LineageBatch(datasets=(dataset,)))
        # dbt's run_results, named as lineage check names the same test.
        found.record_check_result(CUSTOMERS, "not_null(customer_id)", "failed", T0,
                                  "customer_id", "dbt-invocation-1",
                                  {"dbt_test": "not_null", "observed": 3})  # fmt: skip
        yield found


def test_custom_properties_mask_secrets_and_leave_column_marks_out(catalog: Catalog) -> None:
    [properties] = [m.aspect for m in build_mcps(catalog)
                    if m.entityUrn == URN and isinstance(m.aspect, sc.DatasetPropertiesClass)]
    custom = properties.customProperties
    assert custom["team"] == "crm"
    assert "s3cr3t-value" not in json.dumps(custom)
    assert DBT_COLUMNS_KEY not in custom


def test_a_dbt_tests_results_land_on_its_own_assertion(catalog: Catalog) -> None:
    mcps = build_mcps(catalog)
    runs = [m for m in mcps if isinstance(m.aspect, sc.AssertionRunEventClass)]
    assert [r.aspect.assertionUrn for r in runs] == [assertion_urn(URN, NOT_NULL)]
    assert runs[0].aspect.result is not None
    assert runs[0].aspect.result.type == sc.AssertionResultTypeClass.FAILURE
    # No second assertion for the same check.
    infos = [m for m in mcps if isinstance(m.aspect, sc.AssertionInfoClass)]
    assert len(infos) == 1
