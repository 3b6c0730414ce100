"""``lineage check`` and ``lineage contract``: the seed's contract shape over a real DuckDB
warehouse with dirty rows, the failing rules named with their upstream cause, results
recorded once and emitted as OpenLineage assertions; lint and init."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from lineage.catalog import Catalog
from lineage.cli import app
from lineage.model import DatasetId
from tests.lineage.run.test_support import validate_event

runner = CliRunner()

CONTRACT = """\
schema:
  fields:
    - name: customer_id
      type: string
      constraints:
        - not_null
        - max_length: 50
        - pattern: '^CUST[0-9]{4}$'
    - name: birth_date
      type: date
      constraints:
        - min: '1900-01-01'
    - name: gender
      constraints:
        - accepted_values: [Male, Female, Unknown]
quality:
  freshness: 24h
  row_count:
    warning: Â±15% from 7d avg
"""


def _run(*args: str, code: int = 0) -> Any:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, (result.stdout, result.stderr)
    return json.loads(result.stdout) if "json" in args else result.stdout


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    import duckdb

    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    con.execute("CREATE SCHEMA bronze; CREATE SCHEMA silver")
    con.execute("CREATE TABLE bronze.erp_cust_az12 (cid VARCHAR, gen VARCHAR, bdate VARCHAR)")
    con.execute(
        "INSERT INTO bronze.erp_cust_az12 VALUES ('CUST0001', 'M', '1980-02-01'), "
        "('CUST0002', 'F', '1850-01-01'), ('BAD-3', 'X', 'not a date'), "
        "(NULL, NULL, '1999-12-31'), ('CUST0005', 'M', '2001-01-01')"
    )
    con.execute(
        "CREATE VIEW silver.erp_customers AS SELECT cid AS customer_id, "
        "TRY_CAST(bdate AS DATE) AS birth_date, CASE gen WHEN 'M' THEN 'Male' "
        "WHEN 'F' THEN 'Female' WHEN 'X' THEN 'x' ELSE 'Unknown' END AS gender "
        "FROM bronze.erp_cust_az12"
    )
    con.close()
    warehouse = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    (tmp_path / "lineage.yml").write_text(f"warehouse:\n  url: {warehouse}\n")
    (tmp_path / "contracts").mkdir()
    (tmp_path / "contracts" / "erp_customers.yaml").write_text(CONTRACT, encoding="utf-8")
    monkeypatch.delenv("LINEAGE_CATALOG_URL", raising=False)
    monkeypatch.delenv("OPENLINEAGE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    _run("introspect", "--format", "json")
    return tmp_path


def test_the_seed_contract_fails_the_dirty_rows_and_names_the_cause(project: Path) -> None:
    doc = _run("check", "--format", "json", code=1)
    results = {r["check"]: r for r in doc["results"]}
    assert {k: v["status"] for k, v in results.items()} == {
        "not_null(customer_id)": "failed",
        "max_length(customer_id)": "passed",
        "pattern(customer_id)": "failed",
        "min(birth_date)": "failed",
        "accepted_values(gender)": "failed",
        "freshness": "insufficient_history",
        "row_count_vs_average(7d)": "insufficient_history",
    }
    assert results["pattern(customer_id)"]["details"]["observed"] == 1  # BAD-3; NULL passes
    assert results["min(birth_date)"]["details"]["sample"] == [
        {"customer_id": "CUST0002", "birth_date": "1850-01-01", "gender": "Female"}
    ]
    cause = results["min(birth_date)"]["details"]["upstream"][0]
    assert cause.startswith("wh.bronze.erp_cust_az12.bdate (DIRECT/TRANSFORMATION")
    assert results["min(birth_date)"]["details"]["source"].endswith("erp_customers.yaml:12")
    # Warnings pass by default (--fail-on error) ... a failed check does not.
    table = _run("check", code=1)
    assert "wh.bronze.erp_cust_az12.gen" in table  # the cause of the gender failure

    with Catalog(f"sqlite:///{project / '.lineage' / 'catalog.db'}") as catalog:
        stored = catalog.check_results(DatasetId(f"duckdb://{project / 'wh.duckdb'}",
                                                 "wh.silver.erp_customers"))  # fmt: skip
    assert len(stored) == 14  # two runs of 7, never twice through the run's own event
    events = [json.loads(line) for f in sorted((project / ".lineage" / "events").glob("*.jsonl"))
              for line in f.read_text().splitlines()]  # fmt: skip
    complete = [e for e in events if e["eventType"] == "COMPLETE"]
    assert complete and complete[-1]["job"]["name"] == "silverline.check"
    validate_event(complete[-1])
    facet = complete[-1]["inputs"][0]["inputFacets"]["dataQualityAssertions"]
    assert {a["assertion"]: a["success"] for a in facet["assertions"]}["min(birth_date)"] is False


def test_history_rules_judge_the_metric_history(project: Path) -> None:
    dataset = DatasetId(f"duckdb://{project / 'wh.duckdb'}", "wh.silver.erp_customers")
    now = datetime.now(timezone.utc)
    with Catalog(f"sqlite:///{project / '.lineage' / 'catalog.db'}") as catalog:
        for days, rows in ((7, 100), (6, 100), (5, 100), (4, 100), (3, 100), (2, 100), (1, 100)):
            catalog.record_metric(dataset, "row_count", rows, now - timedelta(days=days))
    _run("profile", "silver.erp_customers", "--format", "json")  # today: 5 rows, a 95% drop
    doc = _run("check", "erp_customers", "--format", "json", "--fail-on", "warning", code=1)
    [rule] = [r for r in doc["results"] if r["check"] == "row_count_vs_average(7d)"]
    assert rule["status"] == "warning"  # the seed writes it as a warning


def test_a_broken_contract_is_one_issue_and_the_others_still_run(project: Path) -> None:
    (project / "contracts" / "broken.yaml").write_text("schema: [unclosed\n")
    (project / "contracts" / "nothing_like_it.yaml").write_text(CONTRACT)
    doc = _run("check", "--format", "json", code=1)
    issues = "\n".join(doc["issues"])
    assert "broken.yaml:2: not valid YAML" in issues  # where the parser saw it end
    assert "nothing_like_it" in issues and "matches none of the 2 known datasets" in issues
    assert len(doc["results"]) == 7


def test_lint_names_file_and_line_and_init_writes_a_contract_that_binds(project: Path) -> None:
    assert "no problems" in _run("contract", "lint")
    (project / "contracts" / "erp_customers.yaml").write_text(
        CONTRACT.replace("- name: gender", "- name: gendr")
    )
    doc = _run("contract", "lint", "--format", "json", code=1)
    [issue] = doc["issues"]
    assert "erp_customers.yaml:13" in issue and "gendr" in issue

    _run("profile", "--format", "json")
    _run("contract", "init", "erp_cust_az12")
    written = project / "contracts" / "erp_cust_az12.yaml"
    assert "dataset: wh.bronze.erp_cust_az12" in written.read_text()
    for observed in ("BAD-3", "CUST0005", "1850-01-01", "not a date"):  # text: no ranges
        assert observed not in written.read_text()
    _run("contract", "init", "erp_cust_az12", code=1)  # never overwrites without --force
    doc = _run("check", "erp_cust_az12", "--format", "json")
    assert all(r["dataset"]["name"] == "wh.bronze.erp_cust_az12" for r in doc["results"])


def test_an_unreadable_contract_fails_the_gate_even_when_every_check_passes(
    project: Path,
) -> None:
    # The audit's project: one good contract, a broken YAML file, an unknown rule; and the
    # folder named by the plain-string form of `contracts:`.
    (project / "contracts" / "erp_customers.yaml").unlink()
    (project / "lineage.yml").write_text(
        (project / "lineage.yml").read_text() + "contracts: q/\n")  # fmt: skip
    (project / "q").mkdir()
    (project / "q" / "ok.yaml").write_text(
        "dataset: silver.erp_customers\nschema:\n  fields:\n    - name: gender\n"
        "      constraints:\n        - accepted_values: [Male, Female, Unknown, x]\n"
    )
    (project / "q" / "broken.yaml").write_text("schema: [unclosed\n")
    (project / "q" / "typo.yaml").write_text(
        "dataset: silver.erp_customers\nquality:\n  rowcount: {min: 1}\n")  # fmt: skip
    doc = _run("check", "--format", "json", "--fail-on", "warning", code=1)
    assert [(r["check"], r["status"]) for r in doc["results"]] == [
        ("accepted_values(gender)", "passed")]  # fmt: skip
    assert len(doc["issues"]) == 2
    assert any("broken.yaml:2" in i for i in doc["issues"])
    assert any("typo.yaml:3" in i and "unknown quality rule 'rowcount'" in i
               for i in doc["issues"])  # fmt: skip
    assert doc["summary"]["error"] == 2 and doc["summary"]["contract_issues"] == 2
    assert doc["summary"]["passed"] == 1
    # --fail-on error too: an unreadable contract is at least as bad as a failed check.
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 1
    assert "1 passed, 2 error (of the errors, 2 contract issues: listed below)" in result.stdout
    assert "unknown quality rule 'rowcount'" in result.stderr
    # Fixed, the gate opens.
    (project / "q" / "broken.yaml").unlink()
    (project / "q" / "typo.yaml").unlink()
    assert _run("check", "--format", "json", "--fail-on", "warning")["summary"]["error"] == 0
