"""`lineage scan` into the catalog, then `lineage impact` and `lineage show` on the ERP example."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lineage.cli import app

REPO = Path(__file__).resolve().parents[3]
runner = CliRunner()


@pytest.fixture
def erp_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    monkeypatch.setenv("LINEAGE_CATALOG_URL", url)
    monkeypatch.chdir(REPO)
    result = runner.invoke(
        app,
        ["scan", "examples/erp/redshift", "-d", "redshift", "--schema",
         "examples/erp/redshift/schema.yml"],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["catalog"]["writes"][0]["jobs_added"] == 6
    return url


def test_second_scan_changes_nothing(erp_catalog: str) -> None:
    result = runner.invoke(
        app,
        ["scan", "examples/erp/redshift", "-d", "redshift", "--schema",
         "examples/erp/redshift/schema.yml"],
    )
    writes = json.loads(result.stdout)["catalog"]["writes"][0]
    assert writes["jobs_unchanged"] == 6
    assert writes["edges_added"] == writes["edges_removed"] == writes["jobs_changed"] == 0


def test_impact_of_a_bronze_column_json(erp_catalog: str) -> None:
    result = runner.invoke(app, ["impact", "spectrum.erp_cust_az12.bdate", "-f", "json"])
    assert result.exit_code == 0, result.output
    impact = json.loads(result.stdout)
    columns = {c["node"]: c for c in impact["columns"]}
    birth = columns["silver.erp_customers.birth_date"]
    assert birth["type"] == "DIRECT" and birth["distance"] == 2
    assert [h["job"] for h in birth["path"]] == [
        "examples/erp/redshift/staging/stg_erp_cust_az12.sql",
        "examples/erp/redshift/silver/erp_customers.sql",
    ]
    assert columns["gold.customer_age_groups.age_group"]["type"] == "DIRECT"
    assert {d["node"] for d in impact["datasets"]} >= {
        "silver.erp_customers",
        "gold.customer_age_groups",
        "gold.customers_by_country",
    }


def test_upstream_depth_and_mermaid(erp_catalog: str) -> None:
    result = runner.invoke(
        app,
        [
            "impact",
            "gold.customer_age_groups.age_group",
            "--upstream",
            "--depth",
            "1",
            "-f",
            "mermaid",
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("flowchart LR")
    assert "silver.erp_customers.birth_date" in result.stdout
    assert "spectrum.erp_cust_az12" not in result.stdout


def test_show_lists_schema_and_neighbours(erp_catalog: str) -> None:
    result = runner.invoke(app, ["show", "erp_customers", "-f", "json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["name"] == "silver.erp_customers"
    by_name = {c["name"]: c for c in info["columns"]}
    assert by_name["customer_id"]["type"] == "varchar(50)"
    assert by_name["customer_id"]["upstream"] == ["staging.stg_erp_cust_az12.cid"]
    assert [d["name"] for d in info["upstream"]] == ["staging.stg_erp_cust_az12"]
    assert {d["name"] for d in info["downstream"]} == {
        "gold.customer_age_groups",
        "gold.customers_by_country",
    }
    table = runner.invoke(app, ["show", "silver.erp_customers"], env={"COLUMNS": "200"})
    assert "birth_date" in table.stdout and "downstream:" in table.stdout


def test_unknown_and_ambiguous_names_are_clear_errors(erp_catalog: str, tmp_path: Path) -> None:
    from lineage.errors import InputError

    missing = runner.invoke(app, ["impact", "no_such_table"])
    assert isinstance(missing.exception, InputError)
    assert "no dataset or column 'no_such_table'" in str(missing.exception)
    archive = tmp_path / "archive.sql"
    archive.write_text("CREATE TABLE archive.erp_customers AS SELECT * FROM silver.erp_customers")
    assert runner.invoke(app, ["scan", str(archive), "-d", "redshift"]).exit_code == 0
    ambiguous = runner.invoke(app, ["show", "erp_customers"])
    assert isinstance(ambiguous.exception, InputError)
    assert "archive.erp_customers" in str(ambiguous.exception)
    assert "silver.erp_customers" in str(ambiguous.exception)
    exact = json.loads(runner.invoke(app, ["show", "archive.erp_customers", "-f", "json"]).stdout)
    assert exact["upstream"] == [{"namespace": "redshift", "name": "silver.erp_customers"}]
    # SELECT * expanded from the schema the catalog learned from the ERP scan.
    assert [c["name"] for c in exact["columns"]][:2] == ["customer_id", "birth_date"]
    assert exact["columns"][0]["upstream"] == ["silver.erp_customers.customer_id"]


DBT_ERP = REPO / "tests" / "parsers" / "dbt" / "dbt_projects" / "erp"


def test_scan_a_dbt_project_into_the_catalog_and_query_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINEAGE_CATALOG_URL", f"sqlite:///{tmp_path / 'catalog.db'}")
    first = runner.invoke(app, ["scan", str(DBT_ERP), "--strict"])
    assert first.exit_code == 0, first.output
    doc = json.loads(first.stdout)
    assert doc["dbt"][0]["issues"] == []
    assert doc["catalog"]["writes"][0]["jobs_added"] == doc["dbt"][0]["jobs"]
    again = json.loads(runner.invoke(app, ["scan", str(DBT_ERP)]).stdout)
    assert again["catalog"]["writes"][0]["jobs_unchanged"] == doc["dbt"][0]["jobs"]
    # Same counts and issues, without re-loading: the lineage is not read again then.
    assert doc["dbt"][0]["lineage"] and again["dbt"][0]["lineage"] is None
    assert {**again["dbt"][0], "lineage": None} == {**doc["dbt"][0], "lineage": None}
    birth = next(j for j in doc["dbt"][0]["lineage"] if j["job"].endswith("customer_age_groups"))
    assert birth["fields"]["age_group"][0]["field"] == "birth_date"
    impact = json.loads(
        runner.invoke(app, ["impact", "spectrum.erp_cust_az12.cid", "-f", "json"]).stdout
    )
    reached = {c["node"]: c for c in impact["columns"]}
    assert reached["dev.silver.erp_customers.customer_id"]["type"] == "DIRECT"
    assert "silver-team@example.com" in impact["owners"]
    info = json.loads(runner.invoke(app, ["show", "silver.erp_customers", "-f", "json"]).stdout)
    assert info["description"]
    gender = next(c for c in info["columns"] if c["name"] == "gender")
    assert any(t.startswith("accepted_values") for t in gender["tests"])


def test_lineage_yml_drives_a_bare_scan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    project = tmp_path / "project"
    shutil.copytree(REPO / "examples" / "erp" / "redshift", project / "sql")
    (project / "lineage.yml").write_text(
        "dialect: redshift\nnamespace: redshift://dwh:5439\n"
        "sql:\n  paths: [sql]\n  schema: sql/schema.yml\n"
        f"catalog:\n  url: sqlite:///{tmp_path / 'from-config.db'}\n"
    )
    monkeypatch.delenv("LINEAGE_CATALOG_URL")
    monkeypatch.chdir(project)
    result = runner.invoke(app, ["scan"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["catalog"]["url"].endswith("from-config.db")
    assert {s["dialect"] for s in doc["statements"]} == {"redshift"}
    assert doc["statements"][0]["inputs"][0]["namespace"] == "redshift://dwh:5439"
    assert (tmp_path / "from-config.db").exists()


def test_show_in_table_form_says_what_the_json_says(tmp_path: Path) -> None:
    from lineage.catalog import Catalog
    from lineage.model import Dataset, DatasetId, DataTest, Freshness, LineageBatch

    url = f"sqlite:///{tmp_path / 'c.db'}"
    source = DatasetId("redshift", "bronze.erp_cust_az12")
    with Catalog(url) as catalog:
        catalog.write(LineageBatch(datasets=(Dataset(
            source, owners=("ingest@example.com",), contract_enforced=True,
            freshness=Freshness("_airbyte_extracted_at", "24h", "48h"),
            tests=(DataTest("row_count_min"),), meta='{"sla": "06:00 UTC", "api_key": "k1"}',
            source_file="models/sources.yml",
        ),)))  # fmt: skip
    result = runner.invoke(app, ["show", "erp_cust_az12", "--catalog", url],
                           env={"COLUMNS": "200"})  # fmt: skip
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "contract: enforced" in out
    assert "freshness: _airbyte_extracted_at (warn after 24h, error after 48h)" in out
    assert "tests: row_count_min" in out and "source: models/sources.yml" in out
    assert "sla=06:00 UTC" in out and "k1" not in out  # a secret-named meta key is masked


def test_a_dbt_scan_as_a_table_prints_each_models_lineage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINEAGE_CATALOG_URL", f"sqlite:///{tmp_path / 'catalog.db'}")
    for _ in range(2):  # also when the catalog already holds this exact scan
        result = runner.invoke(app, ["scan", str(DBT_ERP), "-f", "table"],
                               env={"COLUMNS": "200"})  # fmt: skip
        assert result.exit_code == 0, result.output
        out = result.stdout
        assert "-> dev.gold.customer_age_groups" in out
        row = next(line for line in out.splitlines() if line.startswith("│ age_group"))
        assert "dev.silver.erp_customers.birth_date" in row and "DIRECT/TRANSFORMATION" in row


QUERY_IMPORTS = """
import sys
from lineage.cli.app import main
sys.argv = ["lineage", sys.argv[1], sys.argv[2], "--catalog", sys.argv[3], "--format", "json"]
try:
    main()
except SystemExit as done:
    assert not done.code, done.code
heavy = ("networkx", "sqlglot", "parsers.sql", "datahub", "duckdb", "pyarrow", "jinja2")
print(json.dumps(sorted(m for m in heavy if m in sys.modules)), file=sys.stderr)
""".replace("import sys", "import json, sys", 1)


@pytest.mark.parametrize("command", ["impact", "show"])
def test_queries_load_no_graph_library_and_no_parser(erp_catalog: str, command: str) -> None:
    # impact and show walk a slice of the catalog: neither networkx nor sqlglot loads.
    argv = [sys.executable, "-c", QUERY_IMPORTS, command, "erp_customers", erp_catalog]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stderr.strip().splitlines()[-1]) == []


HELP_IMPORTS = """
import json, sys
from lineage.cli.app import main
sys.argv = ["lineage", "--help"]
try:
    main()
except SystemExit as done:
    assert not done.code, done.code
heavy = ("sqlalchemy", "networkx", "sqlglot", "yaml", "jinja2", "datahub", "pyarrow",
         "lineage.drift", "lineage.checks", "lineage.contracts", "lineage.catalog")
print(json.dumps(sorted(m for m in heavy if m in sys.modules)), file=sys.stderr)
"""


def test_help_loads_no_engine() -> None:
    # `lineage --help` is the first thing a user runs: it loads the CLI, not the engines.
    done = subprocess.run([sys.executable, "-c", HELP_IMPORTS], capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stderr.strip().splitlines()[-1]) == []


RESCAN_IMPORTS = """
import json, sys
from lineage.cli.app import main
sys.argv = ["lineage", "scan", sys.argv[1], "--catalog", sys.argv[2]]
try:
    main()
except SystemExit as done:
    assert not done.code, done.code
heavy = ("sqlglot", "jinja2", "networkx", "yaml", "parsers.sql.parse", "parsers.dbt.load")
print(json.dumps(sorted(m for m in heavy if m in sys.modules)), file=sys.stderr)
"""


def test_an_unchanged_rescan_loads_no_parser(tmp_path: Path) -> None:
    # The catalog already holds this exact scan: answered without the SQL or Jinja engines.
    import shutil

    project = tmp_path / "erp"
    shutil.copytree(DBT_ERP, project)
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    argv = [sys.executable, "-c", RESCAN_IMPORTS, str(project), url]
    first = subprocess.run(argv, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "sqlglot" in json.loads(first.stderr.strip().splitlines()[-1])  # it did parse
    again = subprocess.run(argv, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["catalog"]["writes"][0]["jobs_added"] == 0
    assert json.loads(again.stderr.strip().splitlines()[-1]) == []
