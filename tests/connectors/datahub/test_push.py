"""Pushes into DataHub Lite and MCP files: readable back, incremental, idempotent."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.lite.lite_util import get_datahub_lite

from connectors.datahub import (
    PushTarget,
    aspect_hash,
    aspect_key,
    build_mcps,
    push,
)
from lineage.catalog import Catalog
from lineage.errors import ConnectorError
from tests.connectors.datahub.conftest import dbt_batch

SILVER_URN = "urn:li:dataset:(urn:li:dataPlatform:redshift,silver.erp_customers,PROD)"
BRONZE_URN = "urn:li:dataset:(urn:li:dataPlatform:redshift,bronze.erp_cust_az12,PROD)"
GOLD_URN = "urn:li:dataset:(urn:li:dataPlatform:redshift,gold.customer_age_groups,PROD)"
DATAHUB_CLI = Path(sys.executable).with_name("datahub")


def lite_rows(path: Path) -> list[tuple[str, str, int, str]]:
    """Every stored aspect version of a DataHub Lite file."""
    with sqlite3.connect(path) as conn:
        return sorted(
            conn.execute("SELECT urn, aspect_name, version, metadata FROM metadata_aspect_v2")
        )


def latest_versions(path: Path) -> dict[tuple[str, str], int]:
    """The newest version number of every stored aspect."""
    found: dict[tuple[str, str], int] = {}
    for urn, aspect, version, _ in lite_rows(path):
        found[(urn, aspect)] = max(version, found.get((urn, aspect), 0))
    return found


def lite_get(path: Path, urn: str, aspects: list[str]) -> dict[str, Any]:
    config = {"type": "sqlite", "config": {"file": str(path), "read_only": True}}
    lite = get_datahub_lite(config, read_only=True)
    try:
        found = lite.get(urn, aspects)
    finally:
        lite.close()
    assert found is not None
    return found


def test_lite_holds_the_seeds_column_lineage(datahub_catalog: Catalog, tmp_path: Path) -> None:
    lite = tmp_path / "datahub-lite.db"
    report = push(datahub_catalog, PushTarget.lite(lite))
    assert report.sent == report.built > 40 and not report.dry_run

    lineage = lite_get(lite, SILVER_URN, ["upstreamLineage"])["upstreamLineage"]
    assert [u["dataset"] for u in lineage["upstreams"]] == [BRONZE_URN]
    columns = {
        (f["downstreams"][0].rsplit(",", 1)[1].rstrip(")"),
         f["upstreams"][0].rsplit(",", 1)[1].rstrip(")"), f["transformOperation"])
        for f in lineage["fineGrainedLineages"]
        if f["downstreamType"] == "FIELD"
    }  # fmt: skip
    assert columns == {
        ("customer_id", "cid", "DIRECT:TRANSFORMATION"),
        ("birth_date", "bdate", "DIRECT:TRANSFORMATION"),
        ("gender", "gen", "INDIRECT:CONDITIONAL"),
    }
    # Everything built is stored, readable through Lite's own API.
    stored = {(urn, name) for urn, name, version, _ in lite_rows(lite) if version == 0}
    assert {(m.entityUrn, m.aspectName) for m in build_mcps(datahub_catalog)} <= stored


def lite_edges(path: Path) -> list[tuple[str, str, str, str]]:
    with sqlite3.connect(path) as conn:
        return sorted(conn.execute("SELECT * FROM metadata_edge_v2"))


def test_lite_browse_index_matches_a_full_reindex(datahub_catalog: Catalog, tmp_path: Path) -> None:
    lite = tmp_path / "lite.db"
    push(datahub_catalog, PushTarget.lite(lite))
    indexed = lite_edges(lite)
    assert len(indexed) > 20
    store = get_datahub_lite({"type": "sqlite", "config": {"file": str(lite)}})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        names = {b.name for b in store.ls("/")}
        store.close()  # Lite's own full reindex
    assert lite_edges(lite) == indexed
    assert {"databases", "data_platforms", "assertions", "querys"} <= names  # Lite's own words


def test_pushing_twice_creates_nothing_new(datahub_catalog: Catalog, tmp_path: Path) -> None:
    lite = tmp_path / "lite.db"
    target = PushTarget.lite(lite)
    first = push(datahub_catalog, target)
    rows = lite_rows(lite)
    again = push(datahub_catalog, target)
    assert (again.sent, again.unchanged, again.retracted) == (0, first.built, 0)
    assert lite_rows(lite) == rows  # same rows, same versions


def test_only_what_changed_is_sent(datahub_catalog: Catalog, tmp_path: Path) -> None:
    lite = tmp_path / "lite.db"
    target = PushTarget.lite(lite)
    push(datahub_catalog, target)
    before = latest_versions(lite)

    datahub_catalog.write(dbt_batch(description="Customers per decade of birth"))
    report = push(datahub_catalog, target)
    # The description is the dataset's and (dbt says the same of both) its job's.
    dbt_job = "urn:li:dataJob:(urn:li:dataFlow:(dbt,erp,prod),customer_age_groups)"
    changed = {(GOLD_URN, "datasetProperties"), (dbt_job, "dataJobInfo")}
    assert set(report.keys) == changed and report.unchanged == report.built - 2
    after = latest_versions(lite)
    assert after == {key: version + (key in changed) for key, version in before.items()}
    properties = lite_get(lite, GOLD_URN, ["datasetProperties"])["datasetProperties"]
    assert properties["description"] == "Customers per decade of birth"

    full = push(datahub_catalog, target, full=True)
    assert full.sent == full.built and full.full


def test_dry_run_sends_and_records_nothing(datahub_catalog: Catalog, tmp_path: Path) -> None:
    lite = tmp_path / "lite.db"
    target = PushTarget.lite(lite)
    report = push(datahub_catalog, target, dry_run=True)
    assert report.dry_run and report.sent == report.built and len(report.keys) == report.sent
    assert not lite.exists()
    assert datahub_catalog.push_state(target.canonical) == {}


def test_state_is_per_target_and_a_missing_lite_file_means_full(
    datahub_catalog: Catalog, tmp_path: Path
) -> None:
    one, two = PushTarget.lite(tmp_path / "one.db"), PushTarget.lite(tmp_path / "two.db")
    push(datahub_catalog, one)
    assert push(datahub_catalog, two).sent > 0  # another target starts from nothing
    (tmp_path / "one.db").unlink()
    report = push(datahub_catalog, one)
    assert report.sent == report.built and "does not exist" in report.warnings[0]


def test_what_left_the_catalog_is_retracted(datahub_catalog: Catalog, tmp_path: Path) -> None:
    lite = tmp_path / "lite.db"
    target = PushTarget.lite(lite)
    push(datahub_catalog, target)
    gone_job = "urn:li:dataJob:(urn:li:dataFlow:(dbt,erp,prod),retired_model)"
    datahub_catalog.record_push(
        target.canonical,
        {
            (gone_job, "dataJobInfo"): "0" * 64,
            (SILVER_URN, "ownership"): "0" * 64,
            (SILVER_URN, "globalTags"): "0" * 64,
            ("urn:li:dataProcessInstance:old-run", "dataProcessInstanceProperties"): "0" * 64,
        },
    )
    report = push(datahub_catalog, target)
    assert sorted(report.keys) == [
        (gone_job, "status"),
        (SILVER_URN, "globalTags"),
        (SILVER_URN, "ownership"),
    ]
    assert report.retracted == 3
    assert lite_get(lite, gone_job, ["status"])["status"] == {"removed": True}
    assert lite_get(lite, SILVER_URN, ["ownership"])["ownership"]["owners"] == []
    assert push(datahub_catalog, target).sent == 0  # a retraction is sent once


def test_file_push_passes_datahubs_own_check(datahub_catalog: Catalog, tmp_path: Path) -> None:
    out = tmp_path / "out" / "mcps.json"
    report = push(datahub_catalog, PushTarget.file(out))
    records = json.loads(out.read_text())
    assert len(records) == report.sent == report.built
    checked = subprocess.run(
        [str(DATAHUB_CLI), "check", "metadata-file", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr[-2000:]
    assert f"{report.sent} MCEs found - all valid" in checked.stdout

    # The file decodes back into the MCPs built, with this push's run id.
    built = {aspect_key(m): aspect_hash(m) for m in build_mcps(datahub_catalog)}
    decoded = [MetadataChangeProposalWrapper.from_obj(r) for r in records]
    assert all(isinstance(m, MetadataChangeProposalWrapper) for m in decoded)
    assert {aspect_key(m): aspect_hash(m) for m in decoded} == built  # type: ignore[arg-type]
    assert {r["systemMetadata"]["runId"] for r in records} == {
        records[0]["systemMetadata"]["runId"]
    }
    assert records[0]["systemMetadata"]["runId"].startswith("silverline-")

    # The next push to the same file holds only what changed: here nothing.
    assert push(datahub_catalog, PushTarget.file(out)).sent == 0
    assert json.loads(out.read_text()) == []


def test_a_file_that_cannot_be_written_records_nothing(
    datahub_catalog: Catalog, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    target = PushTarget.file(blocker / "mcps.json")
    with pytest.raises(ConnectorError, match="cannot write the MCP file") as caught:
        push(datahub_catalog, target)
    assert "0 of" in str(caught.value)
    assert datahub_catalog.push_state(target.canonical) == {}
