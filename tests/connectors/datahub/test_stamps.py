"""Audit stamps and schema versions: the catalog's times, the configured actor, versions
that move with the schema, and pushes that stay incremental."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from datahub.emitter.mcp import MetadataChangeProposalWrapper

from connectors.datahub import DEFAULT_ACTOR, DataHubSettings, PushTarget, build_mcps, push
from connectors.datahub.settings import actor_urn
from lineage.catalog import Catalog
from lineage.errors import ConfigError
from lineage.workspace import sql_batch
from parsers.sql import parse_sql
from tests.connectors.datahub.conftest import (
    SEED_SQL,
    SILVER,
    SILVER_JOB,
    T0,
    dbt_batch,
    record_events,
    seed_batch,
)
from tests.connectors.datahub.test_assertions import stored

SILVER_URN = "urn:li:dataset:(urn:li:dataPlatform:redshift,silver.erp_customers,PROD)"
GOLD_URN = "urn:li:dataset:(urn:li:dataPlatform:redshift,gold.customer_age_groups,PROD)"
DBT_JOB_URN = "urn:li:dataJob:(urn:li:dataFlow:(dbt,erp,prod),customer_age_groups)"
SCANNED = T0 - timedelta(days=3)  # when the SQL scan was recorded
MODELLED = T0 - timedelta(days=2)  # when the dbt project was


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@pytest.fixture
def catalog(catalog_url: str) -> Iterator[Catalog]:
    """The connector's seed catalog, recorded at known times (SQLite and PostgreSQL)."""
    with Catalog(catalog_url) as found:
        found.write(seed_batch(), observed_at=SCANNED)
        found.write(dbt_batch(), observed_at=MODELLED)
        record_events(found)
        yield found


def stamps(mcps: list[MetadataChangeProposalWrapper]) -> list[tuple[str, str, int, str]]:
    """Every audit stamp sent: (urn, aspect path, time, actor)."""
    found: list[tuple[str, str, int, str]] = []

    def walk(value: Any, urn: str, path: str) -> None:
        if isinstance(value, dict):
            if set(value) >= {"time", "actor"}:
                found.append((urn, path, value["time"], value["actor"]))
            for key, inner in value.items():
                walk(inner, urn, f"{path}.{key}")
        elif isinstance(value, list):
            for inner in value:
                walk(inner, urn, f"{path}[]")

    for mcp in mcps:
        walk(json.loads(mcp.to_obj()["aspect"]["value"]), mcp.entityUrn or "", mcp.aspectName or "")
    return found


def by_path(mcps: list[MetadataChangeProposalWrapper]) -> dict[tuple[str, str], int]:
    return {(urn, path): time for urn, path, time, _ in stamps(mcps)}


def test_every_stamp_carries_the_catalogs_time_and_the_default_actor(catalog: Catalog) -> None:
    mcps = build_mcps(catalog)
    sent = stamps(mcps)
    assert len(sent) >= 12
    assert {actor for *_, actor in sent} == {DEFAULT_ACTOR} == {"urn:li:corpuser:silverline"}
    assert [s for s in sent if s[2] == 0] == []  # no "time 0 / unknown" left
    times = by_path(mcps)
    [silver_query] = [m.entityUrn for m in mcps if m.aspectName == "queryProperties"
                      and getattr(m.aspect, "name", None) == SILVER_JOB]  # fmt: skip
    # The silver load was recorded by the scan, the dbt model's lineage by the dbt load.
    assert times[(silver_query, "queryProperties.lastModified")] == ms(SCANNED)
    assert times[(SILVER_URN, "upstreamLineage.upstreams[].auditStamp")] == ms(SCANNED)
    assert times[(GOLD_URN, "upstreamLineage.upstreams[].auditStamp")] == ms(MODELLED)
    assert times[(SILVER_URN, "schemaMetadata.lastModified")] == ms(SCANNED)
    assert times[(GOLD_URN, "ownership.lastModified")] == ms(MODELLED)
    assert times[(DBT_JOB_URN, "ownership.lastModified")] == ms(MODELLED)
    # A run's process instance was created when the run started.
    assert times[("urn:li:dataProcessInstance:run-ok-1", "dataProcessInstanceProperties.created")] \
        == ms(T0)  # fmt: skip


def test_the_configured_actor_is_in_every_stamp(catalog: Catalog) -> None:
    mcps = build_mcps(catalog, DataHubSettings(actor="etl-bot"))
    assert {actor for *_, actor in stamps(mcps)} == {"urn:li:corpuser:etl-bot"}
    assert DataHubSettings(actor=" urn:li:corpuser:ana@example.com ").actor == (
        "urn:li:corpuser:ana@example.com"
    )


@pytest.mark.parametrize(
    "bad", ["", "  ", "urn:li:corpGroup:data-team", "urn:li:corpuser:", "ana lopez", "ana(x)",
            "urn:li:corpuser:urn:li:corpuser:x", "a,b"],
)  # fmt: skip
def test_a_malformed_actor_is_a_config_error_naming_the_key(bad: str) -> None:
    with pytest.raises(ConfigError, match=r"^actor must be a DataHub user"):
        DataHubSettings(actor=bad)
    with pytest.raises(ConfigError, match=r"^--actor must be"):
        actor_urn(bad, "--actor")


def test_stamps_are_stable_and_a_newer_catalog_time_alone_resends_nothing(
    catalog: Catalog, tmp_path: Path
) -> None:
    target = PushTarget.lite(tmp_path / "lite.db")
    first = push(catalog, target)
    assert first.sent == first.built
    # The same scan recorded again, later: nothing in the catalog changes.
    catalog.write(seed_batch(), observed_at=T0 + timedelta(days=30))
    assert [stamps(build_mcps(catalog))] == [stamps(build_mcps(catalog))]
    assert push(catalog, target).sent == 0
    # Another actor changes no content: nothing is resent (--full would).
    assert push(catalog, target, DataHubSettings(actor="someone-else")).sent == 0
    # The dbt model's description changes: its dataset row and job are rewritten (newer
    # updated_at in their owners' and lineage's stamps), but only what changed is sent.
    catalog.write(dbt_batch(description="Customers per decade"), observed_at=T0)
    report = push(catalog, target)
    assert set(report.keys) == {(GOLD_URN, "datasetProperties"), (DBT_JOB_URN, "dataJobInfo")}


def test_schema_version_follows_the_catalog_and_moves_with_the_schema(
    catalog: Catalog, tmp_path: Path
) -> None:
    lite = tmp_path / "lite.db"
    target = PushTarget.lite(lite)
    push(catalog, target)
    [first] = stored(lite, SILVER_URN, "schemaMetadata")
    assert first["version"] == 1
    assert first["created"]["time"] == first["lastModified"]["time"] == ms(SCANNED)

    # The silver table gains a column: the scan records schema version 2.
    changed = SEED_SQL.replace("dwh_loaded_at TIMESTAMP\n);", "dwh_loaded_at TIMESTAMP, "
                               "email VARCHAR(200)\n);")  # fmt: skip
    assert changed != SEED_SQL
    altered = T0 + timedelta(days=5)
    catalog.write(sql_batch(parse_sql(changed, dialect="redshift", file=SILVER_JOB)),
                  observed_at=altered)  # fmt: skip
    assert [v.version for v in catalog.schema_history(SILVER)] == [1, 2]
    report = push(catalog, target)
    assert (SILVER_URN, "schemaMetadata") in report.keys
    first, second = stored(lite, SILVER_URN, "schemaMetadata")
    assert second["version"] == 2 and "email" in {f["fieldPath"] for f in second["fields"]}
    assert second["created"]["time"] == ms(SCANNED)  # the dataset's first schema
    assert second["lastModified"]["time"] == ms(altered)
    assert push(catalog, target).sent == 0
