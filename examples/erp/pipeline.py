"""The seed's ERP pipeline (extract -> transform -> quality check -> load -> update metadata)
on embedded parts: bronze Parquet landed by a simulated Airbyte, dbt-style models executed
on DuckDB, every step a run under ``@lineage.job``.

Run it alone with ``python pipeline.py`` (from this folder) or through ``lineage build``,
which runs it first and then scans, introspects, profiles, checks and documents what it
built. Deterministic: the same rows every time. ``--increment`` then lands the next day's
extract (changed and new customers) and merges it into silver incrementally (dbt's
``is_incremental()``); ``--drift`` lands the changed bronze ``lineage demo
--simulate-drift`` shows.
"""

from __future__ import annotations

import argparse
import random
import shutil
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.dataset as pads
import sqlglot
from jinja2.sandbox import SandboxedEnvironment
from sqlglot import exp

import lineage

HERE = Path(__file__).resolve().parent
BRONZE = HERE / "bronze" / "erp"
WAREHOUSE = HERE / ".lineage" / "erp.duckdb"
MODELS = HERE / "dbt" / "models"
# dbt's order by ref(): staging, then silver, then gold.
ORDER = (
    ("staging", "stg_erp_cust_az12", "view"),
    ("staging", "stg_loc_a101", "view"),
    ("silver", "erp_customers", "incremental"),
    ("silver", "erp_customer_locations", "table"),
    ("gold", "customer_age_groups", "table"),
)
UNIQUE_KEYS = {"erp_customers": "customer_id"}  # config(unique_key=...) of incremental models
SOURCES = {"erp_cust_az12": BRONZE / "cust_az12", "loc_a101": BRONZE / "loc_a101"}
EXTRACTED = datetime(2026, 11, 30, 2, 0, tzinfo=timezone.utc)
COUNTRIES = (("DE", "Germany"), ("ID", "Indonesia"), ("SG", "Singapore"), ("US", "United States"))
RETRIES, RETRY_DELAY = 3, 0.5  # the seed's 3 retries, with exponential back-off (seconds)
LOAD_LOG = ("meta", "load_log")  # the pipeline's control table: one row per model and load
DIALECT = "duckdb"


class QualityGateError(RuntimeError):
    """Silver is not fit to load: gold is not rebuilt from it."""


def _table(layer: str, name: str) -> exp.Table:
    """``layer.name`` as a quoted table: names go into SQL through sqlglot, never by hand."""
    return exp.table_(exp.to_identifier(name, quoted=True),
                      db=exp.to_identifier(layer, quoted=True))  # fmt: skip


def _sql(expression: exp.Expr) -> str:
    return expression.sql(dialect=DIALECT)


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
    if drift:  # the source renames bdate, drops gen, adds a column (cid: see _write_customers)
        return [(r[0], r[1], r[2], r[4], "web") for r in rows]
    return rows


def _next_day() -> list[tuple[object, ...]]:
    """The next day's extract: every 40th customer re-sent with a corrected gender code,
    and ten new customers."""
    when = EXTRACTED + timedelta(days=1)
    rows: list[tuple[object, ...]] = []
    for n in [*range(40, 1201, 40), *range(1201, 1211)]:
        fixed = ("F", "1980-01-01") if n <= 1200 else ("M", "1990-06-15")
        rows.append((f"raw-inc-{n:05d}", when, f"CUST{n:04d}", *fixed))
    return rows


def _write_customers(
    rows: list[tuple[object, ...]], drift: bool, folder: Path, basename: str = "data_{i}.parquet"
) -> None:
    """Customers as Parquet by year/month of extraction. The old extractor wrote ``cid`` as
    Arrow's ``large_string`` (64-bit offsets, as Polars writes text); the drifted one
    writes ``string`` (32-bit offsets: at most 2 GiB of ids per batch) - the narrowing of a
    text column Parquet can show (it keeps no VARCHAR lengths)."""
    names = ["_airbyte_raw_id", "_airbyte_extracted_at", "cid",
             *(["birth_dt", "channel"] if drift else ["gen", "bdate"])]  # fmt: skip
    columns = list(zip(*rows, strict=True))
    text = pa.string() if drift else pa.large_string()
    table = pa.table({
        names[0]: pa.array(columns[0], pa.string()),
        names[1]: pa.array(columns[1], pa.timestamp("us", tz="UTC")),
        names[2]: pa.array(columns[2], text),
        names[3]: pa.array(columns[3], pa.string()),
        names[4]: pa.array(columns[4], pa.string()),
    }).sort_by("_airbyte_raw_id")  # fmt: skip
    moments = table["_airbyte_extracted_at"].to_pylist()
    table = table.append_column("year", pa.array([m.year for m in moments], pa.int32()))
    table = table.append_column("month", pa.array([f"{m.month:02d}" for m in moments]))
    pads.write_dataset(
        table, folder, format="parquet", partitioning=["year", "month"],
        partitioning_flavor="hive", basename_template=basename,
        existing_data_behavior="overwrite_or_ignore",
    )  # fmt: skip


def land_bronze(drift: bool = False) -> tuple[Path, Path]:
    """Write the two bronze datasets: customers by year/month, locations by country (one
    country as many tiny files: the small-files problem)."""
    for folder in SOURCES.values():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    _write_customers(_customers(drift), drift, SOURCES["erp_cust_az12"])
    con = duckdb.connect()
    try:
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


@lineage.job(name="erp.extract", retries=RETRIES, retry_delay=1.0,
             outputs=[str(p) for p in SOURCES.values()], owners=["ingest@example.com"])  # fmt: skip
def extract(drift: bool = False) -> None:
    """Land the ERP extracts in bronze (Hive-partitioned Parquet)."""
    land_bronze(drift)


@lineage.job(name="erp.extract_increment", retries=RETRIES, retry_delay=1.0,
             outputs=[str(SOURCES["erp_cust_az12"])], owners=["ingest@example.com"])  # fmt: skip
def extract_increment() -> None:
    """Land the next day's customer extract next to the earlier ones (a new partition)."""
    _write_customers(_next_day(), False, SOURCES["erp_cust_az12"], "increment_{i}.parquet")


# -- transform: the dbt project's models on DuckDB -----------------------------------------


def _render(layer: str, model: str, incremental: bool) -> str:
    """A model's SQL as dbt compiles it: ref(), source(), var(), config(), is_incremental()."""
    env = SandboxedEnvironment(autoescape=False)
    relation = {name: _sql(_table(layer_, name)) for layer_, name, _ in ORDER}
    template = env.from_string((MODELS / layer / f"{model}.sql").read_text(encoding="utf-8"))
    return template.render(
        ref=lambda name: relation[name],
        source=lambda _schema, name: _sql(_table("bronze", name)),
        var=lambda name, default=None: {"backfill_date": "1900-01-01"}.get(name, default),
        config=lambda **_kw: "",
        is_incremental=lambda: incremental,
        this=_sql(_table(layer, model)),
    )


def _register_bronze(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(_sql(exp.Create(this=exp.to_identifier("bronze", quoted=True), kind="SCHEMA",
                                exists=True)))  # fmt: skip
    for name, folder in SOURCES.items():
        # Hive partitions of the customers are where files sit, not columns of the feed.
        star = "* EXCLUDE (year, month)" if name == "erp_cust_az12" else "*"
        select = sqlglot.parse_one(
            f"SELECT {star} FROM read_parquet('GLOB', hive_partitioning = TRUE)", dialect=DIALECT
        )
        glob = (folder / "**" / "*.parquet").as_posix()
        placeholder = select.find(exp.Literal)
        assert placeholder is not None
        placeholder.replace(exp.Literal.string(glob))  # quoted by sqlglot
        view = exp.Create(this=_table("bronze", name), kind="VIEW", replace=True,
                          expression=select)  # fmt: skip
        con.execute(_sql(view))


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


def transform(layers: tuple[str, ...] = ("staging", "silver", "gold"), *,
              full_refresh: bool = False) -> None:  # fmt: skip
    """Build the models of ``layers`` in dependency order, each a run of its own."""
    for layer, model, materialized in ORDER:
        if layer in layers:
            build_model(layer, model, materialized, full_refresh=full_refresh)


def _columns(con: duckdb.DuckDBPyConnection, table: exp.Table) -> list[str] | None:
    """The columns of ``table``, None when it does not exist."""
    found = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND "
        "table_name = ? ORDER BY ordinal_position", [table.db, table.name],
    ).fetchall()  # fmt: skip
    return [c for (c,) in found] or None


def _statements(con: duckdb.DuckDBPyConnection, layer: str, model: str, materialized: str,
                full_refresh: bool) -> tuple[list[str], str]:  # fmt: skip
    """What dbt runs for a model, and the statement its lineage is read from: CREATE OR
    REPLACE, or for an incremental model whose table exists (``is_incremental()``) its new
    rows merged on the unique key (dbt-duckdb's delete+insert)."""
    target = _table(layer, model)
    existing = None if full_refresh or materialized != "incremental" else _columns(con, target)
    if existing is not None:
        select = sqlglot.parse_one(_render(layer, model, incremental=True), dialect=DIALECT)
        if con.sql(_sql(select)).columns == existing:
            batch = exp.table_(exp.to_identifier(f"{model}__dbt_new", quoted=True))
            key = exp.column(exp.to_identifier(UNIQUE_KEYS[model], quoted=True))
            temporary = exp.Properties(expressions=[exp.TemporaryProperty()])
            merge = [
                _sql(exp.Create(this=batch, kind="TABLE", replace=True, expression=select,
                                properties=temporary)),
                _sql(exp.delete(target, where=key.isin(query=exp.select(key).from_(batch)))),
                _sql(exp.insert(exp.select("*").from_(batch), target)),
            ]  # fmt: skip
            # Lineage: the new rows go from staging into silver (the batch table is ours).
            return merge, _sql(exp.insert(select, target))
        # The model's columns changed: rebuild it whole (dbt would need --full-refresh).
    select = sqlglot.parse_one(_render(layer, model, incremental=False), dialect=DIALECT)
    kind = "VIEW" if materialized == "view" else "TABLE"
    create = _sql(exp.Create(this=target, kind=kind, replace=True, expression=select))
    return [create], create


def build_model(layer: str, model: str, materialized: str, *, full_refresh: bool = False) -> None:
    """One model as one run; a locked or unreadable warehouse file is retried with
    exponential back-off (RETRY_DELAY, then twice that, ...)."""
    target = _table(layer, model)
    for attempt in range(RETRIES + 1):  # each attempt a run of its own (FAIL, then COMPLETE)
        try:
            with lineage.run(f"erp.{model}") as active, duckdb.connect(str(WAREHOUSE)) as con:
                con.execute(_sql(exp.Create(this=exp.to_identifier(layer, quoted=True),
                                            kind="SCHEMA", exists=True)))  # fmt: skip
                statements, traced = _statements(con, layer, model, materialized, full_refresh)
                active.add_sql(traced)
                for statement in statements:
                    con.execute(statement)
                if materialized != "view":
                    count = exp.select("count(*)").from_(target)
                    [(rows,)] = con.execute(_sql(count)).fetchall()
                    active.add_metric("row_count", rows, f"{layer}.{model}")
            return
        except duckdb.IOException:  # the warehouse file locked by another writer
            if attempt == RETRIES:
                raise
            time.sleep(RETRY_DELAY * 2**attempt)


# -- quality check, load, update metadata -----------------------------------------------------


@lineage.job(name="erp.quality_check",
             inputs=["staging.stg_erp_cust_az12", "silver.erp_customers"],
             owners=["silver-team@example.com"])  # fmt: skip
def quality_check() -> int:
    """The gate before gold: silver needs rows and one non-null id each (else
    QualityGateError). Counts the bronze rows silver cannot type (NULL birth dates); those
    are the contract's to report, not a reason to stop the load."""
    customers = _table("silver", "erp_customers")
    key = exp.column("customer_id")
    with duckdb.connect(str(WAREHOUSE), read_only=True) as con:
        [(rejected,)] = con.execute(
            "SELECT count(*) FROM staging.stg_erp_cust_az12 "
            "WHERE bdate IS NOT NULL AND TRY_CAST(bdate AS DATE) IS NULL"
        ).fetchall()
        [(rows, ids, distinct)] = con.execute(_sql(
            exp.select("count(*)", exp.func("count", key), exp.func("count", exp.Distinct(
                expressions=[key]))).from_(customers)
        )).fetchall()  # fmt: skip
    active = lineage.current_run()
    if active is not None:  # None only when called outside its job, as a plain function
        active.add_metric("unparseable_birth_dates", rejected)
    problems = [text for bad, text in ((rows == 0, "no customers"),
                                       (ids != rows, f"{rows - ids} customers without an id"),
                                       (distinct != ids, f"{ids - distinct} duplicate ids"))
                if bad]  # fmt: skip
    if problems:
        raise QualityGateError("silver.erp_customers: " + ", ".join(problems))
    return int(rejected)


@lineage.job(name="erp.load", owners=["analytics@example.com"])
def load() -> None:
    """Publish gold from silver, once the quality gate passed."""
    transform(("gold",))


@lineage.job(name="erp.update_metadata", outputs=[".".join(LOAD_LOG)],
             owners=["data-platform@example.com"])  # fmt: skip
def update_metadata(loaded_at: datetime | None = None) -> int:
    """Append this load to the control table: each table's rows and its newest extract."""
    log = _table(*LOAD_LOG)
    moment = loaded_at or datetime.now(timezone.utc)
    with duckdb.connect(str(WAREHOUSE)) as con:
        con.execute(_sql(exp.Create(this=exp.to_identifier(LOAD_LOG[0], quoted=True),
                                    kind="SCHEMA", exists=True)))  # fmt: skip
        schema = exp.Schema(this=log, expressions=[
            exp.ColumnDef(this=exp.to_identifier(name, quoted=True), kind=exp.DataType.build(kind))
            for name, kind in (("model", "VARCHAR"), ("row_count", "BIGINT"),
                               ("watermark", "TIMESTAMPTZ"), ("loaded_at", "TIMESTAMPTZ"))
        ])  # fmt: skip
        con.execute(_sql(exp.Create(this=schema, kind="TABLE", exists=True)))
        logged = 0
        for layer, model, materialized in ORDER:
            if materialized == "view":
                continue
            table = _table(layer, model)
            columns = _columns(con, table) or []
            watermark: Any = exp.column("extracted_at") if "extracted_at" in columns else exp.null()
            query = exp.select(exp.Literal.string(f"{layer}.{model}"), "count(*)",
                               exp.func("max", watermark),
                               exp.cast(exp.Literal.string(moment.isoformat()), "TIMESTAMPTZ"),
                               ).from_(table)  # fmt: skip
            con.execute(_sql(exp.insert(query, log)))
            logged += 1
    return logged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drift", action="store_true", help="Land the drifted bronze.")
    parser.add_argument(
        "--increment",
        action="store_true",
        help="Land the next day's extract and merge it incrementally.",
    )
    parser.add_argument(
        "--full-refresh",
        action="store_true",
        help="Rebuild incremental models whole (dbt's --full-refresh).",
    )
    args = parser.parse_args()
    WAREHOUSE.parent.mkdir(parents=True, exist_ok=True)
    if args.increment:
        extract_increment()
    else:
        extract(args.drift)
    register_bronze()
    if args.drift:
        # The source changed under the pipeline: the transforms would now fail on the
        # missing columns. `lineage build` shows the drift and what it breaks first.
        print("pipeline: drifted bronze landed; transforms not run")
        return
    transform(("staging", "silver"), full_refresh=args.full_refresh)
    rejected = quality_check()  # raises QualityGateError: gold keeps yesterday's rows
    load()
    update_metadata()
    print(f"pipeline: bronze landed, {len(ORDER)} models built, "
          f"{rejected} unparseable birth dates")  # fmt: skip


if __name__ == "__main__":
    main()
