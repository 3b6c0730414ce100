"""``lineage drift`` end to end on a real DuckDB and a real PostgreSQL.

The warehouse holds ``bronze.erp_cust_az12`` (Airbyte columns, cid varchar(50), gen,
bdate), ``silver.erp_customers`` built from it and a gold age-group model; ``lineage
scan`` of their SQL records column lineage, ``lineage introspect`` the live schemas, and
the test publishes ``site/schema.json`` the way the docs site writes it. Then the bronze
table changes (bdate renamed to birth_dt, cid narrowed to varchar(20), email added, gen
dropped), is introspected again, and ``lineage drift --baseline site/`` must report each
change with the silver column, the gold model and their owners as impact.

DuckDB keeps no VARCHAR length (``VARCHAR`` either way), so the narrowing is proven on
PostgreSQL only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
import typer
from typer.testing import CliRunner

from lineage.catalog import Catalog
from lineage.cli import app
from lineage.cli.drift import register
from lineage.config import load_config
from lineage.model import (
    Dataset,
    DatasetId,
    DatasetKind,
    Field,
    LineageBatch,
    LiveColumn,
    LiveTable,
    Observation,
    Schema,
    namespace_of,
)
from lineage.workspace import Workspace
from lineage.workspace.drift import drift_from_text, run_drift

runner = CliRunner()
drift_app = typer.Typer()
register(drift_app)


@drift_app.callback()
def _group() -> None:
    """``lineage.cli.app`` gains ``drift`` from the lead's registration; tests use their own."""


def _lineage(*args: str, code: int = 0) -> Any:
    target = drift_app if args[0] == "drift" else app
    result = runner.invoke(target, list(args))
    assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
    return json.loads(result.stdout) if "json" in args else result.stdout


SILVER_SQL = """
CREATE TABLE silver.erp_customers AS
SELECT cid AS customer_id,
       CAST(bdate AS DATE) AS birth_date,
       CASE gen WHEN 'M' THEN 'Male' WHEN 'F' THEN 'Female' ELSE 'Unknown' END AS gender
FROM bronze.erp_cust_az12
WHERE cid IS NOT NULL;
"""
GOLD_SQL = """
CREATE TABLE gold.customer_age_groups AS
SELECT CASE WHEN birth_date >= DATE '2000-01-01' THEN 'under 27' ELSE '27 and over' END
         AS age_group,
       COUNT(*) AS customers
FROM silver.erp_customers
GROUP BY 1;
"""
# A copy job inserting positionally: it suffers from added columns and order changes.
AUDIT_SQL = "INSERT INTO audit.cust_copy SELECT * FROM bronze.erp_cust_az12;"
OWNERS = {"silver.erp_customers": "data-eng", "gold.customer_age_groups": "analytics"}


def _execute(url: str, *statements: str) -> None:
    """Run DDL on the warehouse: DuckDB through its own driver, PostgreSQL through SQLAlchemy."""
    if url.startswith("duckdb:///"):
        import duckdb

        con = duckdb.connect(url.removeprefix("duckdb:///"))
        try:
            for statement in statements:
                con.execute(statement)
        finally:
            con.close()
        return
    engine = sqlalchemy.create_engine(url)
    with engine.begin() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)
    engine.dispose()


def _seed(url: str, timestamptz: str) -> None:
    _execute(
        url,
        *(f"CREATE SCHEMA {schema}" for schema in ("bronze", "silver", "gold", "audit")),
        (
            "CREATE TABLE bronze.erp_cust_az12 (_airbyte_raw_id varchar(36) NOT NULL, "
            f"_airbyte_extracted_at {timestamptz} NOT NULL, cid varchar(50) NOT NULL, "
            "gen varchar(50), bdate date)"
        ),
        "INSERT INTO bronze.erp_cust_az12 VALUES ('r1', TIMESTAMP '2026-11-30 00:00:00', "
        "'NASAW00011000', 'M', DATE '1971-10-06'), ('r2', TIMESTAMP '2026-11-30 00:00:00', "
        "'NASAW00011001', 'F', DATE '2001-05-03')",
        SILVER_SQL.strip().rstrip(";"),
        GOLD_SQL.strip().rstrip(";"),
        "CREATE TABLE audit.cust_copy AS SELECT * FROM bronze.erp_cust_az12",
    )


def _change(url: str, narrow: str) -> None:
    _execute(
        url,
        "ALTER TABLE bronze.erp_cust_az12 RENAME COLUMN bdate TO birth_dt",
        f"ALTER TABLE bronze.erp_cust_az12 ALTER COLUMN cid TYPE {narrow}",
        "ALTER TABLE bronze.erp_cust_az12 ADD COLUMN email varchar(200)",
        "ALTER TABLE bronze.erp_cust_az12 DROP COLUMN gen",
    )


def _publish(catalog_url: str, site: Path) -> None:
    """``site/schema.json`` as the docs site writes it (its published format): documented
    columns with the live facts merged in by name, live-only datasets with live columns."""
    datasets = []
    with Catalog(catalog_url) as catalog:
        for dataset in catalog.datasets():
            live = catalog.live_schema(dataset.id)
            documented = [v for v in catalog.schema_history(dataset.id)
                          if not v.observed_by.startswith(("warehouse:", "files:"))]  # fmt: skip
            facts = {c.name: c for c in live.table.columns} if live else {}
            if documented and dataset.schema:
                fields = [(f.name, f.type, f.description) for f in dataset.schema.fields]
                source = "documented"
            elif live:
                fields = [(c.name, c.type, c.comment) for c in live.table.columns]
                source = "live"
            else:
                continue
            columns = []
            for name, type_, description in fields:
                fact = facts.get(name)
                columns.append({
                    "name": name, "type": type_ or (fact.type if fact else None),
                    "description": description,
                    "nullable": fact.nullable if fact else None,
                    "default": fact.default if fact else None,
                    "primary_key": bool(fact and fact.primary_key),
                    "partition": bool(fact and fact.partition),
                })  # fmt: skip
            parts = dataset.id.name.split(".")
            layer = next((p for p in parts if p in ("bronze", "silver", "gold")), None)
            datasets.append({
                "namespace": dataset.id.namespace, "name": dataset.id.name,
                "kind": dataset.kind.value, "layer": layer,
                "description": dataset.description, "owners": list(dataset.owners),
                "source": source, "partition_columns": [c["name"] for c in columns
                                                        if c["partition"]],
                "columns": columns,
            })  # fmt: skip
    site.mkdir()
    document = {"format": "silverline-schema/1", "generated_at": "2026-12-01T06:00:00+00:00",
                "generator": "silverline test", "datasets": sorted(
                    datasets, key=lambda d: (d["namespace"], d["name"]))}  # fmt: skip
    (site / "schema.json").write_text(json.dumps(document, sort_keys=True, indent=1))


def _project(tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Seeded lineage.yml, SQL models, introspection, scan, owners and site; the name
    prefix (``<database>.``) of the warehouse's datasets."""
    namespace, database = namespace_of(url)
    dialect = "duckdb" if url.startswith("duckdb") else "postgres"
    (tmp_path / "lineage.yml").write_text(
        f"namespace: '{namespace}'\ndialect: {dialect}\ndefault_database: {database}\n"
        f"warehouse:\n  url: {url}\n"
    )
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "silver_erp_customers.sql").write_text(SILVER_SQL)
    (tmp_path / "models" / "gold_customer_age_groups.sql").write_text(GOLD_SQL)
    (tmp_path / "models" / "audit_copy.sql").write_text(AUDIT_SQL)
    monkeypatch.delenv("LINEAGE_CATALOG_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    catalog_url = f"sqlite:///{tmp_path / '.lineage' / 'catalog.db'}"
    _lineage("introspect", "--format", "json")
    _lineage("scan", "models", "--format", "json")
    with Catalog(catalog_url) as catalog:  # owners, as a dbt project or contract gives them
        owned = [d for d in catalog.datasets()
                 if any(d.id.name.endswith(k) for k in OWNERS)]  # fmt: skip
        catalog.write(LineageBatch(datasets=tuple(
            Dataset(d.id, d.kind, d.schema, owners=(OWNERS[d.id.name.split(".", 1)[1]],),
                    source_file=d.source_file) for d in owned)))  # fmt: skip
    _publish(catalog_url, tmp_path / "site")
    return f"{database}."


def _check_report(report: dict[str, Any], prefix: str, narrowed: bool) -> None:
    bronze = prefix + "bronze.erp_cust_az12"
    mine = [f for f in report["findings"] if f["dataset"] == bronze]
    assert mine == report["findings"]  # silver and gold did not change
    kinds = {(f["kind"], f["column"]) for f in mine}
    expected = {("column_renamed", "bdate"), ("column_removed", "gen"), ("column_added", "email")}
    assert kinds == expected | ({("type_narrowed", "cid")} if narrowed else set())
    rename = next(f for f in mine if f["kind"] == "column_renamed")
    assert (rename["old"], rename["new"], rename["severity"]) == ("bdate", "birth_dt", "breaking")
    assert rename["confidence"] >= 0.5
    reached = {c["node"]: c for c in rename["impact"]["columns"]}
    birth = reached[prefix + "silver.erp_customers.birth_date"]
    assert (birth["distance"], birth["type"]) == (1, "DIRECT")
    assert prefix + "gold.customer_age_groups" in {d["node"] for d in rename["impact"]["datasets"]}
    assert {"data-eng", "analytics"} <= set(rename["impact"]["owners"])
    dropped = next(f for f in mine if f["kind"] == "column_removed")
    # gen feeds silver.gender; the copy job's SELECT * loses it
    dropped_columns = {c["node"] for c in dropped["impact"]["columns"]}
    assert prefix + "silver.erp_customers.gender" in dropped_columns
    assert dropped["impact"]["star_consumers"] == ["models/audit_copy.sql"]
    added = next(f for f in mine if f["kind"] == "column_added")
    # positional INSERT ... SELECT * breaks on one more column: escalated from info
    assert added["severity"] == "breaking" and added["impact"]["positional_consumers"]
    severities = [f["severity"] for f in report["findings"]]
    assert severities == sorted(severities, key=["breaking", "warning", "info"].index)


def _run(tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch, narrow: str,
         narrowed: bool) -> None:  # fmt: skip
    prefix = _project(tmp_path, url, monkeypatch)
    clean = _lineage("drift", "--baseline", "site/", "--format", "json", "--fail-on", "breaking")
    assert clean["findings"] == [], clean  # the published schema is what the warehouse holds
    _change(url, narrow)
    _lineage("introspect", "--format", "json")
    report = _lineage("drift", "--baseline", "site/", "--format", "json", "--fail-on",
                      "breaking", code=1)  # fmt: skip
    _check_report(report, prefix, narrowed)
    _lineage("drift", "--baseline", str(tmp_path / "site" / "schema.json"), "--format", "json",
             "--fail-on", "breaking", code=1)  # the file itself works too  # fmt: skip
    with Catalog(f"sqlite:///{tmp_path / '.lineage' / 'catalog.db'}") as catalog:
        stored = catalog.drift_findings()
    assert {(f.kind, f.column) for f in stored} >= {("column_renamed", "bdate"),
                                                     ("column_removed", "gen")}  # fmt: skip
    assert all(f.observed_by == "warehouse" and f.baseline.endswith("schema.json")
               for f in stored)  # fmt: skip
    github = _lineage("drift", "--baseline", "site/", "--format", "github", "--no-record")
    assert f"::error title=column_removed%3A {prefix}bronze.erp_cust_az12.gen::" in github
    markdown = _lineage("drift", "--baseline", "site/", "--format", "markdown", "--no-record")
    assert markdown.startswith("### Schema drift")
    assert "| 🔴 breaking | column_renamed |" in markdown
    table = _lineage("drift", "--baseline", "site/", "--no-record", "--fail-on", "warning",
                     code=1)  # fmt: skip
    assert "column_renamed" in table and "birth_dt" in table
    # lineage build's drift step: the previous site's schema.json text, not recorded
    workspace = Workspace.open()
    try:
        found = drift_from_text(workspace, (tmp_path / "site" / "schema.json").read_text(),
                                record=False)  # fmt: skip
    finally:
        workspace.close()
    assert found.count_at_least("breaking") == report["counts"]["breaking"]
    assert found.summary().startswith(f"{report['counts']['breaking']} breaking")


def test_drift_end_to_end_on_duckdb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"duckdb:///{tmp_path / 'erp.duckdb'}"
    _seed(url, "TIMESTAMPTZ")
    _run(tmp_path, url, monkeypatch, narrow="VARCHAR", narrowed=False)


def test_drift_end_to_end_on_postgresql(
    postgres_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed(postgres_database, "timestamptz")
    _run(tmp_path, postgres_database, monkeypatch, narrow="varchar(20)", narrowed=True)


def test_an_unknown_schema_format_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "schema.json").write_text('{"format": "silverline-schema/2"}')
    result = runner.invoke(drift_app, ["drift", "--baseline", "site"])
    assert result.exit_code == 1
    assert "unknown schema format 'silverline-schema/2'" in str(result.exception)


def _observed(catalog: Catalog, table: str, *columns: LiveColumn, by: str) -> DatasetId:
    dataset = DatasetId("postgres://db:5432", table)
    live = LiveTable(dataset, DatasetKind.TABLE, columns)
    catalog.record_observation(Observation("pg", (live,)), observed_by=by)
    return dataset


def test_contracts_baseline_and_events_observation(tmp_path: Path) -> None:
    """``--baseline contracts``: the seed's contract YAML against a live table; and
    ``--baseline catalog --against events``: documented schema vs an event's schema."""
    (tmp_path / "lineage.yml").write_text("namespace: 'postgres://db:5432'\n")
    (tmp_path / "contracts").mkdir()
    (tmp_path / "contracts" / "erp_customers.yaml").write_text(
        "dataset: erp.silver.erp_customers\nschema:\n  fields:\n"
        "    - name: customer_id\n      type: string\n      constraints:\n"
        "        - not_null\n        - max_length: 50\n"
        "    - name: birth_date\n      type: date\n"
        "    - name: gender\n      type: string\n"
    )
    config = load_config(tmp_path)
    with Catalog(f"sqlite:///{tmp_path / 'catalog.db'}") as catalog:
        silver = _observed(
            catalog, "erp.silver.erp_customers",
            LiveColumn("customer_id", "character varying(20)", nullable=True),
            LiveColumn("birth_date", "text"), LiveColumn("gender", "text"),
            by="warehouse:postgres://db:5432/erp",
        )  # fmt: skip
        outcome = run_drift(catalog, config, baseline="contracts", record=False)
        kinds = {(f.kind, f.column) for f in outcome.report.findings}
        # a string contract over varchar(20): same family, no type drift ...
        assert ("type_changed", "birth_date") in kinds and ("type_changed", "gender") not in kinds
        # ... but not_null is broken, and max_length 50 no longer fits
        broken = [f.message for f in outcome.report.findings if f.kind == "contract_violated"]
        assert any("now nullable" in m for m in broken)
        assert any("at most 20 characters" in m for m in broken)
        assert outcome.report.baseline.startswith("contracts:")

        documented = Dataset(silver, schema=Schema((Field("customer_id", "varchar(50)"),
                                                    Field("birth_date", "date"))))  # fmt: skip
        catalog.write(LineageBatch(datasets=(documented,), observed_by="parser"))
        event = Dataset(silver, schema=Schema((Field("customer_id", "varchar(50)"),
                                               Field("birth_date", "timestamp"))))  # fmt: skip
        catalog.write(LineageBatch(datasets=(event,), observed_by="openlineage"))
        outcome = run_drift(catalog, config, baseline="catalog", against="events")
        assert [(f.kind, f.column) for f in outcome.report.findings
                if f.kind != "contract_violated"] == [("type_widened", "birth_date")]  # fmt: skip
        assert outcome.recorded is not None and outcome.recorded.added >= 1
        assert {f.observed_by for f in catalog.drift_findings()} == {"events"}


def test_a_baseline_url_is_fetched_and_a_missing_one_is_a_permanent_error(
    tmp_path: Path,
) -> None:
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    from lineage.errors import PermanentConnectorError

    site = tmp_path / "site"
    site.mkdir()
    (site / "schema.json").write_text(json.dumps({
        "format": "silverline-schema/1", "generated_at": "2026-12-01T06:00:00+00:00",
        "generator": "test", "datasets": [{
            "namespace": "postgres://db:5432", "name": "erp.bronze.erp_cust_az12",
            "kind": "table", "layer": "bronze", "description": None, "owners": [],
            "source": "live", "partition_columns": [],
            "columns": [{"name": "cid", "type": "varchar(50)", "description": None,
                         "nullable": False, "default": None, "primary_key": False,
                         "partition": False}]}]}))  # fmt: skip
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        config = load_config(tmp_path)
        with Catalog(f"sqlite:///{tmp_path / 'catalog.db'}") as catalog:
            _observed(catalog, "erp.bronze.erp_cust_az12",
                      LiveColumn("cid", "character varying(20)", nullable=False),
                      by="warehouse:postgres://db:5432/erp")  # fmt: skip
            outcome = run_drift(catalog, config, baseline=f"{base}/schema.json", record=False)
            assert [(f.kind, f.column) for f in outcome.report.findings] == [
                ("type_narrowed", "cid")]
            with pytest.raises(PermanentConnectorError, match="HTTP 404"):
                run_drift(catalog, config, baseline=f"{base}/missing.json", record=False)
    finally:
        server.shutdown()
        server.server_close()
