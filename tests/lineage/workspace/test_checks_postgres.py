"""History rules on a real PostgreSQL warehouse: the newest figures are measured live in
one scan (row count, null rate, the contract's own loaded-at column), the baseline comes
from the catalog's metric history, and every figure says where it came from."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from lineage.catalog import Catalog
from lineage.config import load_config
from lineage.model import DatasetId
from lineage.views import CheckStatus
from lineage.workspace.checks import run_checks
from lineage.workspace.live import introspect

NOW = datetime.now(timezone.utc).replace(microsecond=0)

CONTRACT = """\
dataset: silver.erp_customers
schema:
  fields:
    - name: email
      pii: true
quality:
  freshness: {error: 1h, column: loaded_at}
  row_count:
    warning: ±15% from 7d avg
    error: ±10% vs previous day
    min: 3
  null_rate: {column: birth_date, max: 5%}
"""


def test_live_figures_on_postgres_against_the_metric_history(
    tmp_path: Path, postgres_database: str
) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(postgres_database)
    with engine.begin() as conn:
        conn.execute(text("CREATE SCHEMA silver"))
        conn.execute(text("CREATE TABLE silver.erp_customers (customer_id text, "
                          "birth_date date, email text, loaded_at timestamptz)"))  # fmt: skip
        # Eight rows today (a 20% drop from ten), two without a birth date, loaded 3h ago.
        conn.execute(
            text("INSERT INTO silver.erp_customers SELECT 'CUST000' || i, "
                 "CASE WHEN i <= 2 THEN NULL ELSE DATE '1990-01-01' END, "
                 "'c' || i || '@example.com', :at FROM generate_series(1, 8) AS i"),
            {"at": NOW - timedelta(hours=3)},
        )  # fmt: skip
    engine.dispose()
    (tmp_path / "lineage.yml").write_text(f"warehouse:\n  url: {postgres_database}\n")
    (tmp_path / "contracts").mkdir()
    (tmp_path / "contracts" / "customers.yaml").write_text(CONTRACT, encoding="utf-8")
    config = load_config(tmp_path)
    with Catalog(f"sqlite:///{tmp_path / 'catalog.db'}") as catalog:
        assert not introspect(catalog, config).issues
        [dataset] = [d.id for d in catalog.datasets() if d.id.name.endswith("erp_customers")]
        assert isinstance(dataset, DatasetId)
        for days in range(1, 8):  # a week of daily profiles: ten rows, no nulls
            at = NOW - timedelta(days=days)
            catalog.record_metric(dataset, "row_count", 10.0, at)
            catalog.record_metric(dataset, "null_rate", 0.0, at, column="birth_date")
        results = {r.check: r for r in run_checks(catalog, config, now=NOW).results}
    assert {k: r.status for k, r in results.items()} == {
        "freshness": CheckStatus.FAILED,  # 3h > 1h, on the contract's loaded_at
        "row_count_vs_average(7d)": CheckStatus.WARNING,  # 8 vs 10: -20%
        "row_count_vs_previous": CheckStatus.FAILED,  # -20% beyond ±10%
        "row_count_min": CheckStatus.PASSED,
        "null_rate(birth_date)": CheckStatus.FAILED,  # 25% today, 0% in every profile
    }
    assert all(r.details["measured"] == "live" for r in results.values())
    assert results["freshness"].column == "loaded_at"
    assert results["freshness"].details["observed"] == "3h"
    assert results["null_rate(birth_date)"].details["observed"] == 0.25
    assert results["row_count_vs_average(7d)"].details["message"] == (
        "row count 8 is 20% below the 7-day average 10"
    )
