"""``run_checks`` over a real ERP-shaped DuckDB warehouse: stale history never passes
(the figures are measured live, or judged stale), a contract's freshness column is
measured, sensitive columns stay out of every contract's samples, a check two contracts
state is run and stored once, and a failed check names its root cause through lineage."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from lineage.catalog import Catalog
from lineage.config import ProjectConfig, load_config
from lineage.contracts import Contract, ContractField, Source
from lineage.model import DatasetId
from lineage.views import CheckResult, CheckStatus
from lineage.workspace.checks import load_contracts, plan_checks, run_checks, sensitive_columns
from lineage.workspace.live import introspect

NOW = datetime.now(timezone.utc).replace(microsecond=0)

# Six customers: one bad birth date (NULL after TRY_CAST: a 1/6 null rate), one bad id.
BRONZE = [
    ("CUST0001", "M", "1980-02-01", "a@example.com"),
    ("CUST0002", "F", "1850-01-01", "b@example.com"),
    ("BAD-3", "X", "not a date", "c@example.com"),
    (None, None, "1999-12-31", "d@example.com"),
    ("CUST0005", "M", "2001-01-01", "e@example.com"),
    ("CUST0006", "F", "1990-06-01", "f@example.com"),
]

SEED = """\
dataset: silver.erp_customers
schema:
  fields:
    - name: customer_id
      constraints: [not_null]
    - name: gender
      constraints:
        - accepted_values: [Male, Female, Unknown]
    - name: email
      pii: true
quality:
  freshness: {error: 24h, column: extracted_at}
  row_count:
    error: ±10% vs previous day
    min: 3
  null_rate: {column: birth_date, max: 5%}
"""

# The same dataset's Great Expectations suite (bound by its file's stem): it knows
# nothing of pii, and states not_null(customer_id) again.
SUITE = {
    "expectation_suite_name": "erp_customers",
    "expectations": [
        {"expectation_type": "expect_column_values_to_not_be_null",
         "kwargs": {"column": "customer_id"}},
        {"expectation_type": "expect_column_values_to_be_between",
         "kwargs": {"column": "birth_date", "min_value": "1900-01-01"}},
    ],
}  # fmt: skip


@pytest.fixture
def project(tmp_path: Path) -> Iterator[tuple[Catalog, ProjectConfig, DatasetId]]:
    import duckdb

    path = tmp_path / "wh.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA bronze; CREATE SCHEMA staging; CREATE SCHEMA silver")
    con.execute(
        "CREATE TABLE bronze.erp_cust_az12 (cid VARCHAR, gen VARCHAR, bdate VARCHAR, "
        "email VARCHAR, _airbyte_extracted_at TIMESTAMP)"
    )
    extracted = (NOW - timedelta(hours=2)).replace(tzinfo=None)
    con.executemany(
        "INSERT INTO bronze.erp_cust_az12 VALUES (?, ?, ?, ?, ?)",
        [(*row, extracted) for row in BRONZE],
    )
    # The seed's shape: a staging view filtering the feed, a silver view typing it.
    con.execute(
        "CREATE VIEW staging.stg_erp_cust_az12 AS SELECT cid, bdate, gen, email, "
        "_airbyte_extracted_at AS extracted_at FROM bronze.erp_cust_az12 "
        "WHERE _airbyte_extracted_at >= TIMESTAMP '1900-01-01'"
    )
    con.execute(
        "CREATE VIEW silver.erp_customers AS SELECT CAST(cid AS VARCHAR(50)) AS customer_id, "
        "TRY_CAST(bdate AS DATE) AS birth_date, CASE gen WHEN 'M' THEN 'Male' "
        "WHEN 'F' THEN 'Female' WHEN 'X' THEN 'x' ELSE 'Unknown' END AS gender, email, "
        "extracted_at FROM staging.stg_erp_cust_az12"
    )
    con.close()
    (tmp_path / "lineage.yml").write_text(f"dialect: duckdb\nwarehouse:\n  url: duckdb:///{path}\n")
    contracts = tmp_path / "contracts"
    contracts.mkdir()
    (contracts / "customers.yaml").write_text(SEED, encoding="utf-8")
    (contracts / "erp_customers.json").write_text(json.dumps(SUITE), encoding="utf-8")
    config = load_config(tmp_path)
    with Catalog(f"sqlite:///{tmp_path / 'catalog.db'}") as catalog:
        report = introspect(catalog, config)
        assert not report.issues, report.issues
        yield catalog, config, DatasetId(f"duckdb://{path}", "wh.silver.erp_customers")


def _stale_history(catalog: Catalog, dataset: DatasetId) -> None:
    """Twenty days ago, five days of profiles that would pass every rule."""
    for days in range(20, 25):
        at = NOW - timedelta(days=days)
        catalog.record_metric(dataset, "row_count", 6.0, at)
        catalog.record_metric(dataset, "null_rate", 0.0, at, column="birth_date")
        catalog.record_metric(dataset, "last_loaded_at", at.timestamp(), at, column="extracted_at")


def _by_check(results: list[CheckResult]) -> dict[str, CheckResult]:
    return {r.check: r for r in results}


def test_live_figures_beat_stale_history_and_the_contract_freshness_column_is_measured(
    project: tuple[Catalog, ProjectConfig, DatasetId],
) -> None:
    catalog, config, dataset = project
    _stale_history(catalog, dataset)
    results = _by_check(run_checks(catalog, config, [dataset], now=NOW).results)
    nulls = results["null_rate(birth_date)"]
    assert nulls.status is CheckStatus.FAILED  # 1 of 6 today, whatever the history said
    assert nulls.details["measured"] == "live"
    assert nulls.details["observed"] == pytest.approx(1 / 6)
    minimum = results["row_count_min"]
    assert (minimum.status, minimum.details["measured"]) == (CheckStatus.PASSED, "live")
    # `freshness: {column: extracted_at}` is measured live, though no profile ever
    # named the column and lineage.yml has no warehouse.loaded_at for it.
    fresh = results["freshness"]
    assert fresh.status is CheckStatus.PASSED, fresh.details
    assert (fresh.column, fresh.details["measured"]) == ("extracted_at", "live")
    assert fresh.details["observed"] == "2h"
    # Today's live count has no previous day to compare with: the history is 20 days old.
    previous = results["row_count_vs_previous"]
    assert previous.status is CheckStatus.INSUFFICIENT_HISTORY, previous.details
    assert "no row count of the day before" in previous.details["message"]


def test_without_the_warehouse_stale_profiles_are_insufficient_history_not_passed(
    project: tuple[Catalog, ProjectConfig, DatasetId],
) -> None:
    catalog, config, dataset = project
    _stale_history(catalog, dataset)
    offline = replace(config, warehouse=replace(config.warehouse, url=None))
    results = _by_check(run_checks(catalog, offline, [dataset], now=NOW).results)
    for check in ("null_rate(birth_date)", "row_count_min", "row_count_vs_previous"):
        result = results[check]
        assert result.status is CheckStatus.INSUFFICIENT_HISTORY, (check, result.details)
        assert result.details["message"].startswith("stale: the newest"), result.details
        assert result.details["measured"] == "profile"
    assert "20d old (at most 24h)" in results["row_count_min"].details["message"]
    # The old loaded-at value fails freshness on its own: it needs no age limit.
    assert results["freshness"].status is CheckStatus.FAILED
    # A fresh profile is judged, and says it was the figure's source.
    catalog.record_metric(dataset, "null_rate", 0.02, NOW - timedelta(hours=3), column="birth_date")
    again = _by_check(run_checks(catalog, offline, [dataset], now=NOW).results)
    nulls = again["null_rate(birth_date)"]
    assert (nulls.status, nulls.details["measured"]) == (CheckStatus.PASSED, "profile")
    # A looser limit, given by the caller, judges the old figures again.
    lenient = run_checks(catalog, offline, [dataset], now=NOW, max_figure_age=30 * 86400)
    assert _by_check(lenient.results)["row_count_min"].status is CheckStatus.PASSED


def test_a_column_pii_in_one_contract_is_hidden_in_every_contracts_samples(
    project: tuple[Catalog, ProjectConfig, DatasetId],
) -> None:
    catalog, config, dataset = project
    results = run_checks(catalog, config, [dataset], now=NOW).results
    sampled = [r for r in results if r.details.get("sample")]
    # Among them the GE suite's min(birth_date), which marks nothing sensitive itself.
    assert {r.check for r in sampled} >= {"not_null(customer_id)", "min(birth_date)"}
    for result in sampled:
        for row in result.details["sample"]:
            assert "email" not in row and "customer_id" in row, (result.check, row)
    assert sensitive_columns(catalog, config, dataset) == {"email"}


def test_a_dbt_models_pii_column_counts_though_the_model_has_no_tests(
    project: tuple[Catalog, ProjectConfig, DatasetId], monkeypatch: pytest.MonkeyPatch
) -> None:
    import lineage.workspace.checks as module

    catalog, config, dataset = project
    (config.root / "contracts" / "customers.yaml").write_text(
        SEED.replace("      pii: true\n", ""), encoding="utf-8")  # fmt: skip
    assert sensitive_columns(catalog, config, dataset) == frozenset()
    # dbt column meta (pii, tags) arrives as a sensitive field of the model's contract.
    pii_only = Contract(Source("models/silver/schema.yml"), "dbt", "erp_customers",
                        fields=(ContractField("EMAIL", sensitive=True),))  # fmt: skip
    monkeypatch.setattr(module, "contract_from_dataset",
                        lambda d: pii_only if d.id == dataset else None)  # fmt: skip
    assert sensitive_columns(catalog, config, dataset) == {"email"}
    for result in run_checks(catalog, config, [dataset], now=NOW).results:
        assert all("email" not in row for row in result.details.get("sample", ()))


def test_ingested_ge_results_keep_sensitive_values_out(
    project: tuple[Catalog, ProjectConfig, DatasetId], monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from lineage.cli import app

    catalog, config, dataset = project
    validation = {
        "success": False,
        "results": [
            {"success": False,
             "expectation_config": {"expectation_type": "expect_column_values_to_match_regex",
                                    "kwargs": {"column": "email", "regex": "@corp"}},
             "result": {"unexpected_count": 2,
                        "partial_unexpected_list": ["a@example.com", "b@example.com"]}},
            {"success": False,
             "expectation_config": {"expectation_type": "expect_column_values_to_not_be_null",
                                    "kwargs": {"column": "gender"}},
             "result": {"unexpected_count": 1, "partial_unexpected_list": [None]}},
        ],
        "meta": {"run_id": {"run_name": "nightly", "run_time": NOW.isoformat()}},
    }  # fmt: skip
    path = config.root / "validation.json"
    path.write_text(json.dumps(validation), encoding="utf-8")
    monkeypatch.chdir(config.root)
    monkeypatch.delenv("LINEAGE_CATALOG_URL", raising=False)
    done = CliRunner().invoke(
        app,
        [
            "ingest",
            str(path),
            "--dataset",
            "silver.erp_customers",
            "--catalog",
            f"sqlite:///{config.root / 'catalog.db'}",
        ],
    )
    assert done.exit_code == 0, (done.stdout, done.stderr)
    stored = {r.column: r for r in catalog.check_results(dataset) if r.run_id == "nightly"}
    assert set(stored) == {"email", "gender"}
    assert "sample" not in stored["email"].details  # pii in the seed contract
    assert stored["email"].details["unexpected_count"] == 2  # the figures stay
    assert stored["gender"].details["sample"] == [None]  # other columns keep theirs


def test_a_check_two_contracts_state_runs_and_is_stored_once(
    project: tuple[Catalog, ProjectConfig, DatasetId],
) -> None:
    catalog, config, dataset = project
    bound, _ = load_contracts(catalog, config)
    assert sum(c.label == "not_null(customer_id)" for b in bound
               for c in b.contract.constraints) == 2  # fmt: skip
    report = run_checks(catalog, config, [dataset], now=NOW)
    labels = [(r.check, r.column) for r in report.results]
    assert len(labels) == len(set(labels))  # nothing the catalog's key would drop
    stored = [r for r in catalog.check_results(dataset) if r.run_id == report.run_id]
    assert len(stored) == len(report.results)
    merged = _by_check(report.results)["not_null(customer_id)"]
    assert merged.status is CheckStatus.FAILED
    assert [Path(s.split(":")[0]).name for s in merged.details["sources"]] == [
        "customers.yaml", "erp_customers.json"]  # fmt: skip


def test_a_different_check_under_the_same_name_is_kept_apart(
    project: tuple[Catalog, ProjectConfig, DatasetId],
) -> None:
    catalog, config, dataset = project
    other = """\
dataset: silver.erp_customers
schema:
  fields:
    - name: gender
      constraints:
        - accepted_values: [Male, Female, Unknown, x]
    - name: customer_id
      constraints: [not_null]
"""
    (config.root / "contracts" / "loose.yaml").write_text(other, encoding="utf-8")
    [plan] = plan_checks(load_contracts(catalog, config)[0])
    labels = [c.label for c in plan.constraints]
    assert labels.count("not_null(customer_id)") == 1  # identical: merged, three sources
    assert len(plan.sources[("not_null(customer_id)", "customer_id")]) == 3
    assert "accepted_values(gender)" in labels and "accepted_values(gender) [loose.yaml]" in labels
    results = _by_check(run_checks(catalog, config, [dataset], now=NOW).results)
    assert results["accepted_values(gender)"].status is CheckStatus.FAILED  # 'x'
    assert results["accepted_values(gender) [loose.yaml]"].status is CheckStatus.PASSED


def test_a_failed_check_names_the_root_of_its_direct_chain_and_the_transformation(
    project: tuple[Catalog, ProjectConfig, DatasetId],
) -> None:
    catalog, config, dataset = project
    results = _by_check(run_checks(catalog, config, [dataset], now=NOW).results)
    early = results["min(birth_date)"].details  # 1850: a constraint of the GE suite
    assert early["message"].endswith(" <- wh.bronze.erp_cust_az12.bdate, TRY_CAST"), early
    assert early["root_cause"] == ["wh.bronze.erp_cust_az12.bdate"]
    assert early["transformation"] == "TRY_CAST"
    nulls = results["null_rate(birth_date)"]
    assert nulls.details["message"] == (
        "null rate of birth_date 16.7%, above 5% <- wh.bronze.erp_cust_az12.bdate, TRY_CAST"
    )
    upstream = nulls.details["upstream"]
    assert upstream == early["upstream"]
    # The DIRECT chain first, nearest to root, then the INDIRECT columns (the filter).
    assert upstream[0].startswith("wh.staging.stg_erp_cust_az12.bdate (DIRECT/TRANSFORMATION")
    assert upstream[0].endswith(", TRY_CAST)")
    assert upstream[1].startswith("wh.bronze.erp_cust_az12.bdate (DIRECT/IDENTITY")
    assert all("INDIRECT" in u or "FILTER" in u for u in upstream[2:]) and upstream[2:]
    assert any("_airbyte_extracted_at" in u for u in upstream[2:])
    # A CAST is named too. A CASE's subject is INDIRECT (CONDITIONAL): no DIRECT chain,
    # so the nearest column is named, and the rest are listed.
    assert (
        results["not_null(customer_id)"]
        .details["message"]
        .endswith("<- wh.bronze.erp_cust_az12.cid, CAST")
    )
    gender = results["accepted_values(gender)"].details
    assert gender["message"].endswith("<- wh.staging.stg_erp_cust_az12.gen (INDIRECT/CONDITIONAL"
                                      " via view:wh.silver.erp_customers)")  # fmt: skip
    assert any(u.startswith("wh.bronze.erp_cust_az12.gen ") for u in gender["upstream"])
