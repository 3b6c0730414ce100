"""Throughput of Silverline's ``parse_sql`` against DataHub's SQL parser and the parse floor.

Run from the repository root::

    .venv/bin/python -m benchmarks.bench_sql                # 3000 redshift statements
    .venv/bin/python -m benchmarks.bench_sql --quick        # 300 statements, smoke run
    .venv/bin/python -m benchmarks.bench_sql --json         # numbers as JSON on stdout
    .venv/bin/python -m benchmarks.bench_sql --datahub-sample 500 --dialect snowflake

At the default size a run takes about 6 minutes on 2 cores, two thirds of it DataHub
(~12 statements/s); ``--datahub-sample 1000`` brings it to about 3.

Every measurement runs in its own fresh interpreter (``--worker``, an internal flag),
because importing ``datahub.sql_parsing`` patches sqlglot process-wide. Each worker
regenerates the same corpus from the same seed (``benchmarks.corpus``), runs a short
warm-up on statements that are not in the corpus, empties the caches and then times the
parse loop only: no corpus generation, no imports, no result inspection.

Rows:

* ``sqlglot.parse_one``: parsing alone, the floor any lineage tool pays;
* ``parse_sql (no schema, cold)`` / ``parse_sql (schema, cold)``: result cache emptied first;
* ``parse_sql (schema, warm cache)``: the same corpus again without emptying the cache;
* ``DataHub sqlglot_lineage``: ``datahub.sql_parsing.sqlglot_lineage`` with a
  ``SchemaResolver`` holding the same schema (caches emptied first), optionally on the
  first ``--datahub-sample`` statements only (ratios compare throughput, so that is fair).

"vs DataHub" and "vs parse floor" are throughput ratios (statements/s over the reference's
statements/s): above 1 is faster than the reference.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks.corpus import (  # noqa: E402
    DEFAULT_DIALECT,
    DEFAULT_SEED,
    STATEMENT_KINDS,
    SUPPORTED_DIALECTS,
    Corpus,
    generate_corpus,
)

RESULT_PREFIX = "BENCH_RESULT "
TARGET_VS_DATAHUB = 3.0
QUICK_STATEMENTS = 300

# worker name -> rows it produces (label keys, in display order)
WORKERS: dict[str, tuple[str, ...]] = {
    "floor": ("floor",),
    "silverline_noschema": ("noschema_cold",),
    "silverline_schema": ("schema_cold", "schema_warm"),
    "silverline_registry": ("registry_cold", "registry_warm"),
    "datahub": ("datahub",),
}
OPTIONAL_WORKERS = ("silverline_registry",)
LABELS: dict[str, str] = {
    "floor": "sqlglot.parse_one (floor)",
    "noschema_cold": "parse_sql (no schema, cold)",
    "schema_cold": "parse_sql (schema, cold)",
    "schema_warm": "parse_sql (schema, warm cache)",
    "registry_cold": "parse_sql (prebuilt SchemaRegistry, cold)",
    "registry_warm": "parse_sql (prebuilt SchemaRegistry, warm)",
    "datahub": "DataHub sqlglot_lineage (schema)",
}


# --------------------------------------------------------------------------------------
# Worker side
# --------------------------------------------------------------------------------------


class Unavailable(Exception):
    """The tool a worker measures cannot be imported."""


Summary = tuple[bool, int, bool]  # (has column lineage, output columns with inputs, errors)


def _timed(
    fn: Callable[[str], Any], sqls: Sequence[str], summarize: Callable[[Any], Summary]
) -> tuple[float, list[Summary]]:
    """Total seconds spent inside ``fn`` over ``sqls``, and a summary of each result.

    Each call is timed on its own and its result summarised (untimed) and dropped, so
    the loop does not keep thousands of result trees alive for the collector to walk.
    """
    gc.collect()
    clock = time.perf_counter
    total = 0.0
    summaries: list[Summary] = []
    for sql in sqls:
        start = clock()
        result = fn(sql)
        total += clock() - start
        summaries.append(summarize(result))
    return total, summaries


def _row(
    seconds: float,
    sqls: Sequence[str],
    kinds: Sequence[str],
    lineage: Iterable[Summary],
) -> dict[str, Any]:
    """Summarise one timed pass; ``lineage`` yields (has lineage, columns, had errors)."""
    by_kind: dict[str, list[int]] = {k: [0, 0] for k in STATEMENT_KINDS}
    with_lineage = columns = with_errors = 0
    for kind, (has, cols, err) in zip(kinds, lineage, strict=True):
        by_kind[kind][1] += 1
        if has:
            with_lineage += 1
            by_kind[kind][0] += 1
        columns += cols
        with_errors += err
    return {
        "statements": len(sqls),
        "seconds": seconds,
        "per_second": len(sqls) / seconds if seconds > 0 else float("inf"),
        "with_lineage": with_lineage,
        "lineage_columns": columns,
        "with_errors": with_errors,
        "lineage_by_kind": by_kind,
    }


def _silverline_lineage(script: Any) -> Summary:
    if isinstance(script, BaseException):
        return False, 0, True
    cols = 0
    errors = False
    for st in script.statements:
        errors = errors or bool(st.errors)
        for cl in st.column_lineage:
            cols += sum(1 for _, inputs in cl.fields if inputs)
    return cols > 0, cols, errors


def _datahub_lineage(result: Any) -> Summary:
    if isinstance(result, BaseException):
        return False, 0, True
    cols = sum(1 for c in (result.column_lineage or []) if c.upstreams)
    debug = result.debug_info
    return cols > 0, cols, bool(debug.table_error or debug.column_error)


def _safe(fn: Callable[[str], Any]) -> Callable[[str], Any]:
    def call(sql: str) -> Any:
        try:
            return fn(sql)
        except Exception as exc:  # a crash counts as an error, the loop goes on
            return exc

    return call


def _worker_floor(
    corpus: Corpus, sqls: list[str], args: argparse.Namespace
) -> list[dict[str, Any]]:
    import sqlglot

    dialect = corpus.dialect

    def parse(sql: str) -> Any:
        return sqlglot.parse_one(sql, dialect=dialect)

    fn = _safe(parse)
    for s in corpus.warmup:
        fn(s.sql)
    seconds, summaries = _timed(fn, sqls, lambda r: (False, 0, isinstance(r, BaseException)))
    kinds = [s.kind for s in corpus.statements[: len(sqls)]]
    return [_row(seconds, sqls, kinds, summaries)]


def _import_parse_sql() -> tuple[Callable[..., Any], Callable[[], None]]:
    try:
        from parsers.sql import clear_cache, parse_sql
    except Exception as exc:
        raise Unavailable(f"parsers.sql not importable: {type(exc).__name__}: {exc}") from exc
    return parse_sql, clear_cache


def _worker_silverline(
    corpus: Corpus, sqls: list[str], args: argparse.Namespace, schema_mode: str
) -> list[dict[str, Any]]:
    """``schema_mode``: "none", "dict" (the public API) or "registry" (prebuilt once)."""
    parse_sql, clear_cache = _import_parse_sql()
    dialect = corpus.dialect
    schema: Any = None
    if schema_mode == "dict":
        schema = corpus.schema
    elif schema_mode == "registry":
        try:
            from parsers.sql.schema import SchemaRegistry
        except Exception as exc:
            raise Unavailable(f"parsers.sql.schema.SchemaRegistry not importable: {exc}") from exc
        schema = SchemaRegistry(corpus.schema)
    db, sch = corpus.default_database, corpus.default_schema

    def parse(sql: str) -> Any:
        return parse_sql(
            sql, dialect=dialect, schema=schema, default_database=db, default_schema=sch
        )

    fn = _safe(parse)
    for s in corpus.warmup:
        fn(s.sql)
    clear_cache()
    kinds = [s.kind for s in corpus.statements[: len(sqls)]]
    seconds, summaries = _timed(fn, sqls, _silverline_lineage)
    rows = [_row(seconds, sqls, kinds, summaries)]
    if schema_mode != "none":
        seconds, summaries = _timed(fn, sqls, _silverline_lineage)  # warm: cache kept
        rows.append(_row(seconds, sqls, kinds, summaries))
    return rows


def _clear_datahub_caches() -> None:
    import importlib

    for name in (
        "datahub.sql_parsing.sqlglot_lineage",
        "datahub.sql_parsing.sqlglot_utils",
        "datahub.sql_parsing.schema_resolver",
    ):
        module = importlib.import_module(name)
        for value in vars(module).values():
            clear = getattr(value, "cache_clear", None)
            if callable(clear) and getattr(value, "__module__", "").startswith("datahub."):
                clear()


def _worker_datahub(
    corpus: Corpus, sqls: list[str], args: argparse.Namespace
) -> list[dict[str, Any]]:
    try:
        from datahub.emitter.mce_builder import make_dataset_urn_with_platform_instance
        from datahub.sql_parsing.schema_resolver import SchemaResolver
        from datahub.sql_parsing.sqlglot_lineage import sqlglot_lineage
    except ImportError as exc:
        raise Unavailable(f"DataHub parser not installed ({exc})") from exc

    platform = corpus.dialect
    resolver = SchemaResolver(platform=platform, env="PROD")
    for name, columns in corpus.schema.items():
        urn = make_dataset_urn_with_platform_instance(
            platform=platform, name=name, platform_instance=None, env="PROD"
        )
        resolver.add_raw_schema_info(urn, dict(columns))
    db, sch = corpus.default_database, corpus.default_schema

    def parse(sql: str) -> Any:
        return sqlglot_lineage(sql, schema_resolver=resolver, default_db=db, default_schema=sch)

    fn = _safe(parse)
    for s in corpus.warmup:
        fn(s.sql)
    _clear_datahub_caches()
    if args.datahub_sample:
        sqls = sqls[: args.datahub_sample]
    kinds = [s.kind for s in corpus.statements[: len(sqls)]]
    seconds, summaries = _timed(fn, sqls, _datahub_lineage)
    return [_row(seconds, sqls, kinds, summaries)]


def run_worker(args: argparse.Namespace) -> int:
    name: str = args.worker
    payload: dict[str, Any]
    try:
        corpus = generate_corpus(args.statements, args.dialect, args.seed)
        sqls = corpus.sqls
        if name == "floor":
            rows = _worker_floor(corpus, sqls, args)
        elif name == "silverline_noschema":
            rows = _worker_silverline(corpus, sqls, args, schema_mode="none")
        elif name == "silverline_schema":
            rows = _worker_silverline(corpus, sqls, args, schema_mode="dict")
        elif name == "silverline_registry":
            rows = _worker_silverline(corpus, sqls, args, schema_mode="registry")
        elif name == "datahub":
            rows = _worker_datahub(corpus, sqls, args)
        else:
            raise ValueError(f"unknown worker {name!r}")
        payload = {"status": "ok", "rows": dict(zip(WORKERS[name], rows, strict=True))}
    except Unavailable as exc:
        payload = {"status": "unavailable", "reason": str(exc)}
    except Exception as exc:
        payload = {
            "status": "error",
            "reason": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(),
        }
    sys.stdout.write(RESULT_PREFIX + json.dumps(payload) + "\n")
    sys.stdout.flush()
    return 0


# --------------------------------------------------------------------------------------
# Driver side
# --------------------------------------------------------------------------------------


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def spawn(name: str, args: argparse.Namespace) -> dict[str, Any]:
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.bench_sql",
        "--worker",
        name,
        "--statements",
        str(args.statements),
        "--dialect",
        args.dialect,
        "--seed",
        str(args.seed),
    ]
    if args.datahub_sample:
        cmd += ["--datahub-sample", str(args.datahub_sample)]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    env.setdefault("PYTHONHASHSEED", "0")
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            cmd,
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=args.timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"status": "error", "reason": f"worker timed out after {args.timeout}s"}
    wall = time.perf_counter() - start
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            result: dict[str, Any] = json.loads(line[len(RESULT_PREFIX) :])
            result["wall_seconds"] = wall
            return result
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-15:]
    return {
        "status": "error",
        "reason": f"worker exited with {proc.returncode} and no result",
        "traceback": "\n".join(tail),
    }


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b


def _fmt_ratio(r: float | None) -> str:
    return "-" if r is None else f"{r:.2f}x"


def build_report(args: argparse.Namespace, corpus: Corpus) -> dict[str, Any]:
    rows: dict[str, dict[str, Any]] = {}
    notes: list[str] = []
    workers: dict[str, dict[str, Any]] = {}
    for name, labels in WORKERS.items():
        if name in OPTIONAL_WORKERS and not args.prebuilt_schema:
            continue
        _log(f"[bench] running {name} ...")
        res = spawn(name, args)
        workers[name] = {k: v for k, v in res.items() if k != "rows"}
        if res["status"] == "ok":
            rows.update(res["rows"])
            for label in labels:
                r = res["rows"][label]
                _log(
                    f"[bench]   {LABELS[label]}: {r['statements']} statements in "
                    f"{r['seconds']:.2f}s ({r['per_second']:.1f}/s)"
                )
        elif res["status"] == "unavailable":
            msg = res["reason"]
            notes.append(f"{', '.join(LABELS[x] for x in labels)}: skipped ({msg})")
            _log(f"[bench]   skipped: {msg}")
        else:
            notes.append(f"{', '.join(LABELS[x] for x in labels)}: FAILED ({res['reason']})")
            _log(f"[bench]   FAILED: {res['reason']}\n{res.get('traceback', '')}")

    dh = rows.get("datahub", {}).get("per_second")
    floor = rows.get("floor", {}).get("per_second")
    for row in rows.values():
        row["vs_datahub"] = _ratio(row["per_second"], dh)
        row["vs_floor"] = _ratio(row["per_second"], floor)

    if "datahub" in rows and rows["datahub"]["statements"] < len(corpus.statements):
        notes.append(
            f"DataHub timed on a sample: the first {rows['datahub']['statements']} of "
            f"{len(corpus.statements)} statements (ratios compare throughput)."
        )
    cold = rows.get("schema_cold", {}).get("per_second")
    warm = rows.get("schema_warm", {}).get("per_second")
    return {
        "config": {
            "statements": args.statements,
            "dialect": args.dialect,
            "seed": args.seed,
            "datahub_sample": args.datahub_sample,
            "python": sys.version.split()[0],
            "cpu_count": os.cpu_count(),
        },
        "corpus": {
            "statements": len(corpus.statements),
            "unique_statements": corpus.unique_count,
            "tables_in_schema": len(corpus.schema),
            "columns_in_schema": sum(len(c) for c in corpus.schema.values()),
            "kinds": corpus.kind_counts(),
            "avg_chars": round(sum(len(s) for s in corpus.sqls) / max(1, len(corpus.sqls))),
        },
        "results": {label: rows[label] for label in LABELS if label in rows},
        "ratios": {
            "schema_cold_vs_datahub": _ratio(cold, dh),
            "noschema_cold_vs_datahub": _ratio(rows.get("noschema_cold", {}).get("per_second"), dh),
            "schema_warm_vs_datahub": _ratio(warm, dh),
            "schema_warm_vs_schema_cold": _ratio(warm, cold),
            "schema_cold_vs_floor": _ratio(cold, floor),
            "registry_cold_vs_datahub": _ratio(rows.get("registry_cold", {}).get("per_second"), dh),
            "registry_warm_vs_datahub": _ratio(rows.get("registry_warm", {}).get("per_second"), dh),
            "target_schema_cold_vs_datahub": TARGET_VS_DATAHUB,
        },
        "workers": workers,
        "notes": notes,
    }


def _table_rows(report: dict[str, Any]) -> list[list[str]]:
    out: list[list[str]] = []
    for label, r in report["results"].items():
        lineage = "-" if label == "floor" else f"{r['with_lineage']}/{r['statements']}"
        out.append(
            [
                LABELS[label],
                str(r["statements"]),
                f"{r['seconds']:.2f}",
                f"{r['per_second']:.1f}",
                _fmt_ratio(r.get("vs_datahub")),
                _fmt_ratio(r.get("vs_floor")),
                lineage,
                "-" if label == "floor" else f"{r['lineage_columns']:,}",
                str(r["with_errors"]),
            ]
        )
    return out


HEADERS = [
    "tool",
    "statements",
    "seconds",
    "statements/s",
    "vs DataHub",
    "vs parse floor",
    "stmts with CLL",
    "CLL columns",
    "errors",
]


def _summary_lines(report: dict[str, Any]) -> list[str]:
    res, ratios = report["results"], report["ratios"]
    lines: list[str] = []
    target = ratios["target_schema_cold_vs_datahub"]
    r = ratios["schema_cold_vs_datahub"]
    if r is not None:
        verdict = "OK" if r >= target else "BELOW TARGET"
        lines.append(
            f"parse_sql (schema, cold) vs DataHub: {r:.1f}x (target >= {target:g}x) {verdict}"
        )
    elif "datahub" not in res:
        why = report["workers"].get("datahub", {}).get("reason", "DataHub row missing")
        lines.append(f"parse_sql (schema, cold) vs DataHub: n/a ({why})")
    if ratios["noschema_cold_vs_datahub"] is not None:
        lines.append(
            f"parse_sql (no schema, cold) vs DataHub: {ratios['noschema_cold_vs_datahub']:.1f}x"
        )
    if ratios["schema_warm_vs_datahub"] is not None:
        lines.append(
            f"parse_sql (schema, warm cache) vs DataHub: {ratios['schema_warm_vs_datahub']:.1f}x"
        )
    if ratios["schema_warm_vs_schema_cold"] is not None:
        lines.append(
            f"parse_sql warm cache vs cold (schema): {ratios['schema_warm_vs_schema_cold']:.1f}x"
        )
    for key in ("registry_cold", "registry_warm"):
        rk = ratios[f"{key}_vs_datahub"]
        if rk is not None:
            lines.append(f"{LABELS[key]} vs DataHub: {rk:.1f}x")
    f = ratios["schema_cold_vs_floor"]
    if f is not None:
        lines.append(
            f"parse_sql (schema, cold) vs sqlglot.parse_one floor: {f:.2f}x throughput "
            f"({1 / f:.2f}x the parse-only time)"
        )
    for label in ("schema_cold", "noschema_cold", "datahub"):
        if label in res:
            r2 = res[label]
            lines.append(
                f"column lineage, {LABELS[label]}: {r2['with_lineage']}/{r2['statements']} "
                f"statements non-empty, {r2['lineage_columns']:,} output columns with inputs, "
                f"{r2['with_errors']} with errors"
            )
    return lines


def _kind_rows(report: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    res = report["results"]
    labels = [x for x in ("noschema_cold", "schema_cold", "datahub") if x in res]
    headers = ["kind"] + [LABELS[x] for x in labels]
    rows: list[list[str]] = []
    for kind in STATEMENT_KINDS:
        row = [kind]
        for label in labels:
            has, total = res[label]["lineage_by_kind"][kind]
            row.append(f"{has}/{total}")
        rows.append(row)
    return headers, rows


def print_report(report: dict[str, Any]) -> None:
    cfg, corpus = report["config"], report["corpus"]
    header = (
        f"Silverline SQL benchmark: {corpus['statements']} {cfg['dialect']} statements "
        f"({corpus['unique_statements']} unique, avg {corpus['avg_chars']} chars), seed "
        f"{cfg['seed']}, schema of {corpus['tables_in_schema']} tables / "
        f"{corpus['columns_in_schema']} columns, Python {cfg['python']}, "
        f"{cfg['cpu_count']} CPUs"
    )
    kind_headers, kind_rows = _kind_rows(report)
    if not _print_rich(header, report, kind_headers, kind_rows):
        print(header)
        _plain_table(HEADERS, _table_rows(report))
        if kind_headers[1:]:
            print()
            _plain_table(kind_headers, kind_rows)
    print()
    for line in _summary_lines(report):
        print(line)
    for note in report["notes"]:
        print(f"note: {note}")


def _print_rich(
    header: str, report: dict[str, Any], kind_headers: list[str], kind_rows: list[list[str]]
) -> bool:
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        return False
    console = Console() if sys.stdout.isatty() else Console(width=170)
    console.print(header)
    table = Table(title="Throughput (each row in a fresh process; parse loop only)")
    for i, h in enumerate(HEADERS):
        table.add_column(h, justify="left" if i == 0 else "right")
    for row in _table_rows(report):
        table.add_row(*row)
    console.print(table)
    if kind_headers[1:]:
        kt = Table(title="Statements with non-empty column lineage, by kind")
        for i, h in enumerate(kind_headers):
            kt.add_column(h, justify="left" if i == 0 else "right")
        for row in kind_rows:
            kt.add_row(*row)
        console.print(kt)
    return True


def _plain_table(headers: list[str], rows: list[list[str]]) -> None:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(
            "  ".join(
                (c.ljust(w) if i == 0 else c.rjust(w))
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_sql",
        description="Statements/s of parse_sql vs DataHub's sqlglot_lineage vs sqlglot.parse_one.",
    )
    p.add_argument("--statements", type=int, default=3000, help="corpus size (default 3000)")
    p.add_argument("--quick", action="store_true", help=f"smoke run: {QUICK_STATEMENTS} statements")
    p.add_argument("--dialect", default=DEFAULT_DIALECT, choices=SUPPORTED_DIALECTS)
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument(
        "--datahub-sample",
        type=int,
        default=0,
        metavar="N",
        help="time DataHub on the first N statements only (default: all)",
    )
    p.add_argument("--json", action="store_true", help="print the numbers as JSON on stdout")
    p.add_argument(
        "--prebuilt-schema",
        action="store_true",
        help="also time parse_sql with a SchemaRegistry built once (diagnostic rows)",
    )
    p.add_argument(
        "--timeout", type=float, default=1800.0, help="seconds allowed per worker (default 1800)"
    )
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick:
        args.statements = QUICK_STATEMENTS
    if args.statements < 1:
        p.error("--statements must be >= 1")
    if args.datahub_sample < 0:
        p.error("--datahub-sample must be >= 0")
    if args.datahub_sample >= args.statements:
        args.datahub_sample = 0
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        return run_worker(args)
    corpus = generate_corpus(args.statements, args.dialect, args.seed)
    report = build_report(args, corpus)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report)
    failed = any(w.get("status") == "error" for w in report["workers"].values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
