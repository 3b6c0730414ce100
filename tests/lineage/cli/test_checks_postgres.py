"""``lineage check`` end to end on PostgreSQL: a real warehouse database and a real catalog
database, every contract rule passing on clean rows and failing on dirty ones.

The seed's own contract file (verbatim) binds by its stem to ``silver.erp_cust_az12``; a
second contract, bound by ``dataset:``, states every other rule the issue names. The
history rules read a 7-day row-count history written into the catalog at times relative
to now, then today's profile: 100 rows (clean), then 80 (dirty: a 20 % drop).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from typer.testing import CliRunner

import lineage.run
from lineage.catalog import Catalog
from lineage.cli import app
from lineage.model import DatasetId

runner = CliRunner()

SEED = Path(__file__).parents[2] / "parsers" / "contracts" / "fixtures" / "erp_cust_az12.yaml"

RULES = """\
dataset: silver.erp_cust_az12
schema:
  fields:
    - name: customer_id
      constraints:
        - unique
        - pattern: '^CUST[0-9]{4}$'
    - name: birth_date
      constraints:
        - max: today
      quality:
        null_rate: '< 5%'
    - name: gender
      constraints:
        - accepted_values: [Male, Female, Unknown]
    - name: credit_limit
      constraints:
        - min: 0
        - max: 100000
    - name: crm_key
      constraints:
        - type: varchar(20)
quality:
  row_count:
    error: ±10% vs previous day
  custom_sql:
    - {name: no_future_birth_dates,
       sql: SELECT * FROM silver.erp_cust_az12 WHERE birth_date > CURRENT_DATE}
"""

# check -> status on the dirty rows; every one of them passes on the clean rows.
DIRTY = {
    # the seed's contract
    "not_null(customer_id)": "failed",
    "max_length(customer_id)": "failed",
    "min(birth_date)": "failed",
    "freshness": "failed",
    "row_count_vs_average(7d)": "warning",  # the seed writes it as a warning
    # the second contract
    "unique(customer_id)": "failed",
    "pattern(customer_id)": "failed",
    "max(birth_date)": "failed",
    "null_rate(birth_date)": "failed",
    "accepted_values(gender)": "failed",
    "min(credit_limit)": "failed",
    "max(credit_limit)": "failed",
    "type(crm_key)": "failed",
    "row_count_vs_previous": "failed",
    "no_future_birth_dates": "failed",
}

CLEAN_ROWS = """
INSERT INTO silver.erp_cust_az12
SELECT 'CUST' || lpad(i::text, 4, '0'), DATE '1950-01-01' + i * 100,
       (ARRAY['Male', 'Female', 'Unknown'])[1 + mod(i, 3)], 1000 + i, 'CRM-' || i, now()
FROM generate_series(1, 100) AS i
"""

# 80 rows left (a 20 % drop), the rows dirty as the seed's bronze data is.
DIRTY_ROWS = [
    "DELETE FROM silver.erp_cust_az12 WHERE customer_id > 'CUST0080'",
    "UPDATE silver.erp_cust_az12 SET customer_id = NULL WHERE customer_id = 'CUST0001'",
    "UPDATE silver.erp_cust_az12 SET customer_id = 'CUST0003' WHERE customer_id = 'CUST0002'",
    "UPDATE silver.erp_cust_az12 SET customer_id = repeat('X', 55) WHERE customer_id = 'CUST0004'",
    "UPDATE silver.erp_cust_az12 SET birth_date = '1850-01-01' WHERE customer_id = 'CUST0005'",
    "UPDATE silver.erp_cust_az12 SET birth_date = '2090-01-01' WHERE customer_id = 'CUST0006'",
    "UPDATE silver.erp_cust_az12 SET birth_date = NULL "
    "WHERE customer_id BETWEEN 'CUST0010' AND 'CUST0015'",  # 6 of 80: 7.5 % > 5 %
    "UPDATE silver.erp_cust_az12 SET gender = 'x' WHERE customer_id = 'CUST0020'",
    "UPDATE silver.erp_cust_az12 SET gender = 'M' WHERE customer_id = 'CUST0021'",
    "UPDATE silver.erp_cust_az12 SET credit_limit = -5 WHERE customer_id = 'CUST0030'",
    "UPDATE silver.erp_cust_az12 SET credit_limit = 250000 WHERE customer_id = 'CUST0031'",
    "UPDATE silver.erp_cust_az12 SET dwh_loaded_at = now() - interval '3 days'",
    "ALTER TABLE silver.erp_cust_az12 ALTER COLUMN crm_key TYPE text",
]


@pytest.fixture
def catalog_database(postgres_server: Any) -> Iterator[str]:
    """A second fresh database on the session's server, for the catalog."""
    with postgres_server.fresh_database("c") as url:
        yield url


def _run(*args: str, code: int = 0) -> Any:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, (result.stdout, result.stderr)
    return json.loads(result.stdout) if "json" in args else result.stdout


def _execute(url: str, *statements: str) -> None:
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement)
    finally:
        engine.dispose()


def test_every_rule_passes_on_clean_rows_and_fails_on_dirty_ones(
    postgres_database: str, catalog_database: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    _execute(
        postgres_database,
        "CREATE SCHEMA silver",
        "CREATE TABLE silver.erp_cust_az12 (customer_id varchar(60), birth_date date, "
        "gender varchar(10), credit_limit numeric(10, 2), crm_key varchar(20), "
        "dwh_loaded_at timestamptz)",
        CLEAN_ROWS,
    )
    (tmp_path / "lineage.yml").write_text(
        f"warehouse:\n  url: {postgres_database}\ncatalog:\n  url: {catalog_database}\n"
        "contracts: rules/\n"  # the plain-string form of the folder
    )
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "erp_cust_az12.yaml").write_bytes(SEED.read_bytes())
    (tmp_path / "rules" / "erp_cust_az12_rules.yaml").write_text(RULES, encoding="utf-8")
    monkeypatch.delenv("LINEAGE_CATALOG_URL", raising=False)  # lineage.yml's catalog
    monkeypatch.delenv("OPENLINEAGE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    _run("introspect", "--format", "json")

    with Catalog(catalog_database) as catalog:
        [dataset] = [d.id for d in catalog.datasets() if d.id.name.endswith(".erp_cust_az12")]
        now = datetime.now(timezone.utc)
        for days in range(1, 8):  # a steady week of 100 rows
            catalog.record_metric(dataset, "row_count", 100, now - timedelta(days=days))

    _run("profile", "--format", "json")  # today: 100 rows, no nulls, loaded just now
    clean = _run("check", "--format", "json", "--fail-on", "warning")
    assert {r["check"]: r["status"] for r in clean["results"]} == dict.fromkeys(DIRTY, "passed")
    assert clean["issues"] == [] and clean["summary"]["passed"] == len(DIRTY)

    _execute(postgres_database, *DIRTY_ROWS)
    _run("introspect", "--format", "json")  # crm_key is text now
    _run("profile", "--format", "json")  # today: 80 rows
    dirty = _run("check", "--format", "json", code=1)
    results = {r["check"]: r for r in dirty["results"]}
    assert {k: r["status"] for k, r in results.items()} == DIRTY
    assert dirty["summary"] == {
        "passed": 0, "warning": 1, "failed": len(DIRTY) - 1, "error": 0,
        "insufficient_history": 0, "contract_issues": 0,
    }  # fmt: skip

    observed = {k: r["details"].get("observed") for k, r in results.items()}
    assert observed["not_null(customer_id)"] == 1
    assert observed["unique(customer_id)"] == 1  # CUST0003 twice
    assert observed["pattern(customer_id)"] == 1  # the 55 X; the NULL id passes
    assert observed["accepted_values(gender)"] == 2
    assert observed["null_rate(birth_date)"] == pytest.approx(0.075)
    assert "20" in results["row_count_vs_average(7d)"]["details"]["message"]  # 20 % below
    assert "20" in results["row_count_vs_previous"]["details"]["message"]
    assert results["min(birth_date)"]["details"]["sample"][0]["birth_date"] == "1850-01-01"
    assert results["min(birth_date)"]["details"]["source"].endswith("erp_cust_az12.yaml:11")
    assert "crm_key is TEXT" in results["type(crm_key)"]["details"]["message"]

    assert lineage.run.flush(10)  # the check runs' events are delivered before the count
    with Catalog(catalog_database) as catalog:  # both runs stored in the PostgreSQL catalog
        stored = catalog.check_results(DatasetId(dataset.namespace, dataset.name))
    assert len(stored) == 2 * len(DIRTY)
