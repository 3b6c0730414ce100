"""The seed's ERP pipeline (extract -> transform -> quality check -> load -> metadata) on
embedded parts: bronze Parquet landed by a simulated Airbyte, dbt-style models executed on
DuckDB, every step a run under ``@lineage.job``.

Run it alone with ``python pipeline.py`` (from this folder) or through ``lineage build``,
which runs it first and then scans, introspects, profiles, checks and documents what it
built. Deterministic: the same rows every time (``--drift`` lands the changed bronze the
``lineage demo --simulate-drift`` shows).
"""

from __future__ import annotations

import argparse
import random
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
from jinja2.sandbox import SandboxedEnvironment

import lineage

HERE = Path(__file__).resolve().parent
BRONZE = HERE / "bronze" / "erp"
WAREHOUSE = HERE / ".lineage" / "erp.duckdb"
MODELS = HERE / "dbt" / "models"
# dbt's order by ref(): staging, then silver, then gold.
ORDER = (
    ("staging", "stg_erp_cust_az12", "view"),
    ("staging", "stg_loc_a101", "view"),
    ("silver", "erp_customers", "table"),
    ("silver", "erp_customer_locations", "table"),
    ("gold", "customer_age_groups", "table"),
)
SOURCES = {"erp_cust_az12": BRONZE / "cust_az12", "loc_a101": BRONZE / "loc_a101"}
EXTRACTED = datetime(2026, 11, 30, 2, 0, tzinfo=timezone.utc)
COUNTRIES = (("DE", "Germany"), ("ID", "Indonesia"), ("SG", "Singapore"), ("US", "United States"))


# -- extract: the source system lands bronze Parquet (as Airbyte would) -------------------


def _customers(drift: bool) -> list[tuple[object, ...]]:
    """ERP customer rows with the seed's dirt: unparseable dates, unknown gender codes,
    duplicate ids, nulls."""
    rng = random.Random(20261130)
    rows: list[tuple[object, ...]] = []
    for n in range(1, 1201):
        extracted = EXTRACTED - timedelta(days=rng.randrange(0, 90), minutes=n)
        born = datetime(1935, 1, 1) + timedelta(days=rng.randrange(0, 365 * 70))
        bdate: str | None = born.strftime("%Y-%m-%d")
        if n % 97 == 0:
            bdate = "31/02/1990"  # not a date
        elif n % 89 == 0:
            bdate = "1850-03-01"  # before 1900
        elif n % 83 == 0:
            bdate = None
        gen = rng.choice(("M", "F", "M", "F", None, "X" if n % 7 == 0 else "F"))
        cid = f"CUST{n:04d}" if n % 101 else f"NAS-CUST{n:04d}"  # a few ids off pattern
        rows.append((f"raw-{n:05d}", extracted, cid, gen, bdate))
        if n % 150 == 0:  # a duplicate id from a re-sent record, extracted later
            rows.append((f"raw-{n:05d}-r", extracted + timedelta(hours=1), cid, gen, bdate))
    if drift:  # the source renames bdate, narrows nothing here, adds a column, drops gen
        return [(r[0], r[1], r[2], r[4], "web") for r in rows]
    return rows


def land_bronze(drift: bool = False) -> tuple[Path, Path]:
    """Write the two bronze datasets: customers by year/month, locations by country (one
    country as many tiny files: the small-files problem)."""
    for folder in SOURCES.values():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    con = duckdb.connect()
    try:
        columns = ("_airbyte_raw_id VARCHAR, _airbyte_extracted_at TIMESTAMPTZ, cid VARCHAR, "
                   + ("birth_dt VARCHAR, channel VARCHAR" if drift else
                      "gen VARCHAR, bdate VARCHAR"))  # fmt: skip
        con.execute(f"CREATE TABLE cust ({columns})")
        con.executemany("INSERT INTO cust VALUES (?, ?, ?, ?, ?)", _customers(drift))
        con.execute(
            "COPY (SELECT *, year(_airbyte_extracted_at) AS year, "
            "lpad(month(_airbyte_extracted_at)::VARCHAR, 2, '0') AS month FROM cust "
            "ORDER BY _airbyte_raw_id) TO ? (FORMAT PARQUET, PARTITION_BY (year, month))",
            [str(SOURCES["erp_cust_az12"])],
        )
        for index, (code, name) in enumerate(COUNTRIES):
            ids = [n for n in range(1, 1201) if n % len(COUNTRIES) == index]
            # Indonesia arrives as one small file per load: the compaction finding.
            chunks = [ids[i : i + 12] for i in range(0, len(ids), 12)] if code == "ID" else [ids]
            folder = SOURCES["loc_a101"] / f"country={code}"
            folder.mkdir(parents=True)
            for k, chunk in enumerate(chunks):
                con.execute(
                    "COPY (SELECT 'raw-loc-' || n AS _airbyte_raw_id, ?::TIMESTAMPTZ "
                    "AS _airbyte_extracted_at, 'CUST-' || lpad(n::VARCHAR, 4, '0') AS cid, "
                    "'  ' || ? || ' ' AS cntry FROM unnest(?::INTEGER[]) AS t(n) ORDER BY n) "
                    "TO ? (FORMAT PARQUET)",
                    [EXTRACTED, name, chunk, str(folder / f"part-{k:03d}.parquet")],
                )
    finally:
        con.close()
    return SOURCES["erp_cust_az12"], SOURCES["loc_a101"]


@lineage.job(name="erp.extract", retries=3, retry_delay=1.0,
             outputs=[str(p) for p in SOURCES.values()], owners=["ingest@example.com"])  # fmt: skip
def extract(drift: bool = False) -> None:
    """Land the ERP extracts in bronze (Hive-partitioned Parquet)."""
    land_bronze(drift)


# -- transform: the dbt project's models on DuckDB -----------------------------------------


def _render(layer: str, model: str, incremental: bool) -> str:
    """A model's SQL as dbt compiles it: ref(), source(), var(), config(), is_incremental()."""
    env = SandboxedEnvironment(autoescape=False)
    relation = {name: f"{layer_}.{name}" for layer_, name, _ in ORDER}
    template = env.from_string((MODELS / layer / f"{model}.sql").read_text(encoding="utf-8"))
    return template.render(
        ref=lambda name: relation[name],
        source=lambda _schema, name: f"bronze.{name}",
        var=lambda name, default=None: {"backfill_date": "1900-01-01"}.get(name, default),
        config=lambda **_kw: "",
        is_incremental=lambda: incremental,
        this=f"{layer}.{model}",
    )


def _register_bronze(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS bronze")
    for name, folder in SOURCES.items():
        glob = (folder / "**" / "*.parquet").as_posix()
        con.execute(
            f"CREATE OR REPLACE VIEW bronze.{name} AS SELECT * EXCLUDE (year, month) "
            f"FROM read_parquet('{glob}', hive_partitioning = true)"
            if name == "erp_cust_az12" else
            f"CREATE OR REPLACE VIEW bronze.{name} AS SELECT * "
            f"FROM read_parquet('{glob}', hive_partitioning = true)"
        )  # fmt: skip


@lineage.job(
    name="erp.register_bronze",
    inputs=[str(p) for p in SOURCES.values()],
    outputs=[f"bronze.{name}" for name in SOURCES],
    owners=["ingest@example.com"],
)
def register_bronze() -> None:
    """Expose the bronze folders to the warehouse (the external tables of Spectrum)."""
    with duckdb.connect(str(WAREHOUSE)) as con:
        _register_bronze(con)


def transform() -> None:
    """Build every model in dependency order, each a run of its own (with retries)."""
    for layer, model, materialized in ORDER:
        build_model(layer, model, materialized)


def build_model(layer: str, model: str, materialized: str) -> None:
    sql = _render(layer, model, incremental=False)
    kind = "VIEW" if materialized == "view" else "TABLE"
    statement = f"CREATE OR REPLACE {kind} {layer}.{model} AS\n{sql}"
    for attempt in range(3):  # the seed's retries: 3, with back-off
        try:
            with (
                lineage.run(f"erp.{model}", sql=statement) as active,
                duckdb.connect(str(WAREHOUSE)) as con,
            ):
                con.execute(f"CREATE SCHEMA IF NOT EXISTS {layer}")
                con.execute(statement)
                if kind == "TABLE":
                    [(rows,)] = con.execute(f"SELECT count(*) FROM {layer}.{model}").fetchall()
                    active.add_metric("row_count", rows, f"{layer}.{model}")
            return
        except duckdb.IOException:
            if attempt == 2:
                raise


# -- quality check, load, metadata -----------------------------------------------------------


@lineage.job(name="erp.quality_check", inputs=["staging.stg_erp_cust_az12"],
             owners=["silver-team@example.com"])  # fmt: skip
def quality_check() -> int:
    """Count the bronze rows silver cannot type (they become NULL birth dates)."""
    with duckdb.connect(str(WAREHOUSE), read_only=True) as con:
        [(rejected,)] = con.execute(
            "SELECT count(*) FROM staging.stg_erp_cust_az12 "
            "WHERE bdate IS NOT NULL AND TRY_CAST(bdate AS DATE) IS NULL"
        ).fetchall()
    lineage.current_run().add_metric("unparseable_birth_dates", rejected)
    return int(rejected)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drift", action="store_true", help="Land the drifted bronze.")
    args = parser.parse_args()
    WAREHOUSE.parent.mkdir(parents=True, exist_ok=True)
    extract(args.drift)
    register_bronze()
    if args.drift:
        # The source changed under the pipeline: the transforms would now fail on the
        # missing columns. `lineage build` shows the drift and what it breaks first.
        print("pipeline: drifted bronze landed; transforms not run")
        return
    transform()
    rejected = quality_check()
    print(f"pipeline: bronze landed, {len(ORDER)} models built, "
          f"{rejected} unparseable birth dates")  # fmt: skip


if __name__ == "__main__":
    main()
