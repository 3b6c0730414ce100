"""``lineage metrics``: the catalog's figures in the Prometheus text format on stdout or in
a textfile, and ``lineage metrics serve`` answering real HTTP scrapes with fresh figures."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import typer
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from lineage.catalog import Catalog
from lineage.cli import metrics
from lineage.model import DatasetId, DatasetProfile, ProfileMetric

SILVER = DatasetId("duckdb:///erp.duckdb", "erp.silver.erp_customers")
ROWS = 'silverline_dataset_rows{dataset="erp.silver.erp_customers",namespace="duckdb:///erp.duckdb"}'
# Until app.py registers the group, the tests run it on an app of their own, as app.py will.
APP = "import typer; from lineage.cli import metrics; app = typer.Typer(); " \
      "metrics.register(app); app()"  # fmt: skip


def _app() -> typer.Typer:
    app = typer.Typer()
    metrics.register(app)
    return app


def _rows(text: str) -> dict[str, float]:
    return {s.labels["dataset"]: s.value for f in text_string_to_metric_families(text)
            for s in f.samples if s.name == "silverline_dataset_rows"}  # fmt: skip


@pytest.fixture
def catalog_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    now = datetime.now(timezone.utc)
    with Catalog(url) as catalog:
        catalog.record_profile(DatasetProfile(SILVER, now - timedelta(hours=1), (
            ProfileMetric("row_count", 120), ProfileMetric("null_rate", 0.25, "birth_date"),
            ProfileMetric("last_loaded_at", (now - timedelta(hours=2)).timestamp(), "loaded_at"),
        )))  # fmt: skip
        catalog.record_check_result(SILVER, "not_null(customer_id)", "fail", now, "customer_id")
    return url


def test_metrics_prints_the_text_format_and_writes_a_textfile(
    catalog_url: str, tmp_path: Path
) -> None:
    runner = CliRunner()
    shown = runner.invoke(_app(), ["metrics", "--catalog", catalog_url])
    assert shown.exit_code == 0, shown.output
    assert f"{ROWS} 120.0\n" in shown.stdout
    freshness = next(s for f in text_string_to_metric_families(shown.stdout) for s in f.samples
                     if s.name == "silverline_dataset_freshness_seconds")  # fmt: skip
    assert 7200 <= freshness.value < 7200 + 60  # 2 h since the load, read at the call

    out = tmp_path / "node_exporter" / "silverline.prom"
    written = runner.invoke(_app(), ["metrics", "--out", str(out), "--catalog", catalog_url])
    assert written.exit_code == 0, written.output
    assert written.stdout == ""  # the figures went to the file only
    assert f"{ROWS} 120.0\n" in out.read_text()
    assert 'status="failed"} 1.0' in out.read_text()


@pytest.fixture
def server(catalog_url: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``metrics serve --port 0`` in its own process; yields the /metrics URL."""
    env = {**os.environ, "LINEAGE_CATALOG_URL": catalog_url}
    process = subprocess.Popen([sys.executable, "-c", APP, "metrics", "serve", "--port", "0"],
                               stderr=subprocess.PIPE, text=True, env=env)  # fmt: skip
    try:
        assert process.stderr is not None
        line = process.stderr.readline()  # printed once the socket listens
        found = re.search(r"http://127\.0\.0\.1:(\d+)/metrics", line)
        assert found, line
        yield found.group(0), process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stderr is not None:
            process.stderr.close()


def _scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        return str(response.read().decode())


def test_serve_answers_scrapes_with_fresh_figures(
    server: tuple[str, subprocess.Popen[str]], catalog_url: str
) -> None:
    url, process = server
    assert _rows(_scrape(url)) == {SILVER.name: 120.0}
    with Catalog(catalog_url) as catalog:  # a new measurement after the server started
        catalog.record_metric(SILVER, "row_count", 135, datetime.now(timezone.utc), "run-9")
        catalog.record_metric(DatasetId(SILVER.namespace, "erp.silver.erp_locations"),
                              "row_count", 7, datetime.now(timezone.utc))  # fmt: skip
    assert _rows(_scrape(url)) == {SILVER.name: 135.0, "erp.silver.erp_locations": 7.0}
    process.send_signal(signal.SIGINT)  # Ctrl-C stops it cleanly
    assert process.wait(timeout=10) == 0
