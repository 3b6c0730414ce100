"""Warehouse introspection and profiling, measured side by side in one run.

Run from the repository root::

    .venv/bin/python -m benchmarks.bench_warehouse                 # 5,000 tables, 10 M rows
    .venv/bin/python -m benchmarks.bench_warehouse --quick         # 200 tables, 1 M rows
    .venv/bin/python -m benchmarks.bench_warehouse --postgres-url postgresql+psycopg://...
    .venv/bin/python -m benchmarks.bench_warehouse --json

Part 1 (PostgreSQL): ``--tables`` tables of 20 columns (a primary key, comments on the
table and one column) in a throwaway server this script starts (initdb into a temporary
folder, as ``.ci/run`` does; or ``--postgres-url``, where it creates and drops a schema
``bench_warehouse``). Timed end to end, connection included:

* ``introspect()``: our bulk catalog queries (a fixed number per schema);
* ``Inspector loop``: SQLAlchemy's Inspector, ``get_columns``, ``get_pk_constraint`` and
  ``get_table_comment`` per table, what a naive connector does.

Each side runs three times, interleaved, and its best run counts.

The goal is a ratio of at least 20x. Part 2 (DuckDB): ``profile_table`` over a table of
10 M rows (1 M with ``--quick``), full and sampled, in rows per second; skipped with a
message when ``connectors.warehouse.profile`` is not available.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from connectors.warehouse import introspect  # noqa: E402

TARGET_RATIO = 20.0
RUNS = 3
SCHEMA = "bench_warehouse"
COLUMNS = 20
PG_USER = "postgres"


# -- a throwaway PostgreSQL server ---------------------------------------------------------


def _pg_bin() -> Path:
    found = sorted(
        (Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if not found:
        raise SystemExit("no PostgreSQL under /usr/lib/postgresql: give --postgres-url")
    return found[-1]


def _as_pg_user(argv: list[str]) -> list[str]:
    # initdb and pg_ctl refuse to run as root.
    return ["runuser", "-u", PG_USER, "--", *argv] if os.geteuid() == 0 else argv


@contextmanager
def postgres_server() -> Iterator[str]:
    """A PostgreSQL on a free port of 127.0.0.1, durability off; its SQLAlchemy URL."""
    bin_dir = _pg_bin()
    base = Path(tempfile.mkdtemp(prefix="bench-pg-"))
    data, log = base / "data", base / "server.log"
    user = PG_USER if os.geteuid() == 0 else None
    if user:
        shutil.chown(base, user, user)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    def run(*argv: str) -> None:
        # cwd "/": the postgres user may not read the current folder; -l below, or
        # pg_ctl keeps the pipes open and run() never returns.
        subprocess.run(_as_pg_user(list(argv)), cwd="/", capture_output=True, check=True,
                       timeout=120)  # fmt: skip

    try:
        run(str(bin_dir / "initdb"), "-A", "trust", "--no-sync", "-U", PG_USER, "-D", str(data))
        options = (
            f"-c listen_addresses=127.0.0.1 -p {port} -k {base} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off"
        )
        run(str(bin_dir / "pg_ctl"), "start", "-w", "-D", str(data), "-l", str(log), "-o", options)
        yield f"postgresql+psycopg://{PG_USER}@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            _as_pg_user([str(bin_dir / "pg_ctl"), "stop", "-m", "immediate", "-D", str(data)]),
            cwd="/", capture_output=True, check=False, timeout=60,
        )
        shutil.rmtree(base, ignore_errors=True)


# -- part 1: introspection -----------------------------------------------------------------


def create_tables(url: str, tables: int) -> None:
    """``tables`` tables of ``COLUMNS`` columns in schema ``bench_warehouse``."""
    import sqlalchemy as sa
    from sqlglot import exp

    schema = exp.to_identifier(SCHEMA).sql("postgres")
    types = ["bigint", "varchar(50)", "numeric(18,2)", "timestamptz", "date", "text", "boolean"]
    drop_tables(url)
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
        for start in range(0, tables, 500):
            statements = []
            for i in range(start, min(start + 500, tables)):
                cols = ", ".join(
                    f"c{j} {types[j % len(types)]}{' NOT NULL' if j % 3 == 0 else ''}"
                    for j in range(1, COLUMNS)
                )
                statements.append(
                    f"CREATE TABLE {schema}.t{i:05d} (id bigint PRIMARY KEY, {cols});"
                    f"COMMENT ON TABLE {schema}.t{i:05d} IS 'table {i}';"
                    f"COMMENT ON COLUMN {schema}.t{i:05d}.c1 IS 'first column';"
                )
            with engine.begin() as conn:
                conn.exec_driver_sql("".join(statements))
    finally:
        engine.dispose()


def drop_tables(url: str) -> None:
    """Drop the schema 500 tables per transaction (one would run out of lock slots)."""
    import sqlalchemy as sa
    from sqlglot import exp

    schema = exp.to_identifier(SCHEMA).sql("postgres")
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            names = [
                exp.table_(name, db=SCHEMA).sql("postgres")
                for (name,) in conn.execute(
                    sa.text("SELECT tablename FROM pg_tables WHERE schemaname = :s"), {"s": SCHEMA}
                )
            ]
        for start in range(0, len(names), 500):
            with engine.begin() as conn:
                conn.exec_driver_sql(f"DROP TABLE {', '.join(names[start:start + 500])}")
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    finally:
        engine.dispose()


def bench_introspect(url: str) -> tuple[float, int, int]:
    started = time.perf_counter()
    observed = introspect(url, schemas=[SCHEMA])
    elapsed = time.perf_counter() - started
    return elapsed, len(observed.tables), sum(len(t.columns) for t in observed.tables)


def bench_inspector(url: str) -> tuple[float, int, int]:
    import sqlalchemy as sa

    started = time.perf_counter()
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            inspector = sa.inspect(conn)
            names = inspector.get_table_names(SCHEMA)
            columns = 0
            for name in names:
                columns += len(inspector.get_columns(name, SCHEMA))
                inspector.get_pk_constraint(name, SCHEMA)
                inspector.get_table_comment(name, SCHEMA)
    finally:
        engine.dispose()
    return time.perf_counter() - started, len(names), columns


def part_introspection(url: str, tables: int) -> dict[str, Any]:
    started = time.perf_counter()
    create_tables(url, tables)
    created_s = time.perf_counter() - started
    try:
        bench_introspect(url)  # warm the server's caches alike for both
        # The best of a few runs each, interleaved: on a shared machine a neighbour's burst
        # lands on one side of the ratio only.
        ours_runs, theirs_runs = [], []
        for _ in range(RUNS):
            ours_runs.append(bench_introspect(url))
            theirs_runs.append(bench_inspector(url))
        ours, theirs = min(ours_runs), min(theirs_runs)
    finally:
        drop_tables(url)
    assert ours[1:] == theirs[1:] == (tables, tables * COLUMNS), (ours, theirs)
    return {
        "tables": tables,
        "columns": tables * COLUMNS,
        "create_s": created_s,
        "introspect_s": ours[0],
        "inspector_s": theirs[0],
        "ratio": theirs[0] / ours[0],
    }


# -- part 2: profiling ---------------------------------------------------------------------


def part_profiling(rows: int) -> dict[str, Any] | None:
    try:
        from connectors.warehouse.profile import profile_table
    except ImportError:
        return None
    import duckdb

    with tempfile.TemporaryDirectory(prefix="bench-duck-") as tmp:
        path = Path(tmp) / "wh.duckdb"
        with duckdb.connect(str(path)) as con:
            con.execute("CREATE SCHEMA bronze")
            con.execute(
                "CREATE TABLE bronze.erp_cust_az12 AS SELECT "
                "md5(i::VARCHAR) AS _airbyte_raw_id, "
                "TIMESTAMPTZ '2026-11-01 00:00:00+00' + to_seconds(i % 86400) "
                "AS _airbyte_extracted_at, "
                "'NASAW' || lpad((i % 30000)::VARCHAR, 8, '0') AS cid, "
                "CASE i % 3 WHEN 0 THEN 'Male' WHEN 1 THEN 'Female' ELSE NULL END AS gen, "
                "DATE '1950-01-01' + (i % 20000)::INTEGER AS bdate "
                f"FROM range({rows:d}) AS r(i)"
            )
        url = f"duckdb:///{path}"
        [table] = introspect(url, schemas=["bronze"]).tables
        result: dict[str, Any] = {"rows": rows}
        for label, sample in (("full", None), ("sampled", max(1, rows // 10))):
            started = time.perf_counter()
            profile = profile_table(url, table, sample_above_rows=sample)
            elapsed = time.perf_counter() - started
            result[f"{label}_s"] = elapsed
            result[f"{label}_rows_per_s"] = rows / elapsed
            result[f"{label}_metrics"] = len(profile.metrics)
        return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="200 tables, 1 M rows")
    parser.add_argument("--tables", type=int, default=None, help="tables (default 5000)")
    parser.add_argument("--rows", type=int, default=None, help="rows to profile (10 M)")
    parser.add_argument("--postgres-url", default=None, help="use this server")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    tables = args.tables or (200 if args.quick else 5_000)
    rows = args.rows or (1_000_000 if args.quick else 10_000_000)

    if args.postgres_url:
        introspection = part_introspection(args.postgres_url, tables)
    else:
        with postgres_server() as url:
            introspection = part_introspection(url, tables)
    profiling = part_profiling(rows)
    report = {
        "introspection": introspection,
        "profiling": profiling,
        "target_ratio": TARGET_RATIO,
        "within_target": introspection["ratio"] >= TARGET_RATIO,
    }
    if args.json:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
        return 0 if report["within_target"] else 1
    i = introspection
    print(f"introspection: {i['tables']:,} tables x {COLUMNS} columns "
          f"({i['columns']:,} columns; created in {i['create_s']:.1f} s)")
    print(f"{'':34} {'seconds':>9} {'tables/s':>10}")
    for label, key in (("introspect() (bulk)", "introspect_s"),
                       ("Inspector loop (3 calls/table)", "inspector_s")):
        print(f"{label:34} {i[key]:9.2f} {i['tables'] / i[key]:10.0f}")
    verdict = "meets" if report["within_target"] else "BELOW"
    print(f"\nbulk is {i['ratio']:.1f}x faster ({verdict} the {TARGET_RATIO:.0f}x goal)\n")
    if profiling is None:
        print("profiling: skipped (connectors.warehouse.profile not available)")
    else:
        p = profiling
        print(f"profiling (DuckDB, {p['rows']:,} rows):")
        for label in ("full", "sampled"):
            print(f"  {label:8} {p[f'{label}_s']:7.2f} s  {p[f'{label}_rows_per_s']:14,.0f} rows/s"
                  f"  ({p[f'{label}_metrics']} metrics)")
    return 0 if report["within_target"] else 1


if __name__ == "__main__":
    sys.exit(main())
