"""``lineage runs``: last night's runs with state, duration, rows written and failing
checks, filtered by job, time and state."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

import lineage
from connectors.openlineage.sinks import CatalogSink
from lineage.catalog import Catalog
from lineage.cli import app
from lineage.model import DatasetId

runner = CliRunner()


def _runs(*args: str, code: int = 0) -> Any:
    result = runner.invoke(app, ["runs", *args], env={"COLUMNS": "200"})
    assert result.exit_code == code, (result.stdout, result.stderr)
    return json.loads(result.stdout) if "json" in args else result.stdout


@pytest.fixture
def catalog_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    monkeypatch.setenv("LINEAGE_CATALOG_URL", url)
    lineage.run.configure(sinks=[CatalogSink(url)], register_atexit=False, handle_sigterm=False)

    @lineage.job(name="erp.load_customers", namespace="warehouse")
    def load(rows: int) -> None:
        lineage.run.current_run().add_output(pd.DataFrame({"id": range(rows)}),
                                             name="silver.erp_customers")  # fmt: skip

    @lineage.job(name="erp.load_locations", namespace="warehouse")
    def broken() -> None:
        raise RuntimeError("bronze.erp_loc_a101 is empty")

    load(120)
    load(80)
    with pytest.raises(RuntimeError):
        broken()
    lineage.run.configure(sinks=[], register_atexit=False, handle_sigterm=False)  # flushes
    return url


def test_runs_say_state_rows_and_failing_checks(catalog_url: str) -> None:
    with Catalog(catalog_url) as catalog:
        newest = catalog.runs("erp.load_customers")[0]
        catalog.record_check_result(
            DatasetId("warehouse", "silver.erp_customers"), "not_null(customer_id)", "fail",
            datetime.now(timezone.utc), "customer_id", newest.run_id,
        )  # fmt: skip
    doc = _runs("--format", "json")
    assert [(r["job"], r["state"]) for r in doc["runs"]] == [
        ("erp.load_locations", "FAIL"), ("erp.load_customers", "COMPLETE"),
        ("erp.load_customers", "COMPLETE"),
    ]  # fmt: skip
    failed, latest, earlier = doc["runs"]
    assert "bronze.erp_loc_a101 is empty" in failed["error"]
    assert (latest["rows_written"], earlier["rows_written"]) == (80, 120)
    assert latest["failing_checks"] == ["not_null(customer_id)"]
    assert latest["duration_seconds"] is not None and latest["duration_seconds"] >= 0

    assert [r["job"] for r in _runs("--status", "failed", "--format", "json")["runs"]] == [
        "erp.load_locations"
    ]
    assert len(_runs("erp.load_customers", "--since", "1d", "--format", "json")["runs"]) == 2
    tomorrow = (datetime.now(timezone.utc) + timedelta(days=1)).date().isoformat()
    assert _runs("--since", tomorrow, "--format", "json")["runs"] == []
    table = _runs("--since", "12h")
    assert "FAIL" in table and "not_null(customer_id)" in table and "120" in table


def test_a_bad_since_is_one_clear_error(catalog_url: str) -> None:
    result = runner.invoke(app, ["runs", "--since", "yesterdayish"])
    assert result.exit_code == 2  # a usage error: the option value
    # rich draws the message in a box, wrapped: compare its words.
    words = " ".join(result.stderr.replace("│", " ").split())
    assert "neither a duration" in words, result.stderr
