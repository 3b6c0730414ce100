"""Side by side with datacontract-cli: one ODCS contract, one DuckDB file, pass/fail per rule.

Run from the repository root (datacontract-cli lives in its own venv: its typer and
pydantic pins cannot share ours)::

    .venv/bin/python -m benchmarks.compare_datacontract --datacontract /tmp/dcvenv/bin/datacontract
    .venv/bin/python -m benchmarks.compare_datacontract --datacontract ... --json
    .venv/bin/python -m benchmarks.compare_datacontract --datacontract ... --keep /tmp/cmp

In a temporary folder the script writes, deterministically (nothing is committed):

* ``wh.duckdb`` with the seed-shaped table ``silver.erp_customers``: 400 customers with
  NULL, duplicate, too long and off-pattern ids; birth dates before 1900 and in the
  future; gender codes outside the accepted set; a ``crm_key`` whose only repeats are
  NULLs and whose values hold the pattern ``[0-9]{6}`` inside a longer text;
* ``contracts/erp_customers.odcs.yaml``, one ODCS v3.0.2 contract with a ``duckdb``
  server pointing at the file: required, unique, maxLength, pattern, date minimum and
  maximum, invalidValues with validValues, nullValues in percent, duplicateValues,
  rowCount and SQL rules;
* ``lineage.yml`` naming the same file as Silverline's warehouse.

It then runs ``datacontract test <contract> --server local --output-format json`` and
``lineage introspect``, ``lineage profile`` and ``lineage check --format json`` in that
folder, pairs each rule's results and prints ``rule | datacontract-cli | Silverline |
same?`` with both tools' observed values. The exit status is 1 when a paired rule
differs. Checks only one tool has (datacontract-cli's ``field_is_present`` /
``field_type``) are listed after the table.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
SERVER = "local"
ROWS = 400
SEED = 13
VALID_GENDERS = ("Male", "Female", "Unknown")


@dataclass(frozen=True)
class Rule:
    """One contract rule: how each tool names its result."""

    label: str  # shown in the table
    datacontract_key: str  # the check's ``key`` in datacontract-cli's JSON
    silverline_check: str  # the result's ``check`` in ``lineage check --format json``


RULES = (
    Rule("required customer_id", "erp_customers__customer_id__field_required",
         "not_null(customer_id)"),
    Rule("unique customer_id", "erp_customers__customer_id__field_unique",
         "unique(customer_id)"),
    Rule("maxLength 50 customer_id", "erp_customers__customer_id__field_max_length",
         "max_length(customer_id)"),
    Rule("pattern ^CUST[0-9]{4}$ customer_id", "erp_customers__customer_id__field_regex",
         "pattern(customer_id)"),
    Rule("unique crm_key (repeats only NULL)", "erp_customers__crm_key__field_unique",
         "unique(crm_key)"),
    Rule("pattern [0-9]{6} crm_key (unanchored)", "erp_customers__crm_key__field_regex",
         "pattern(crm_key)"),
    Rule("minimum 1900-01-01 birth_date", "erp_customers__birth_date__field_minimum",
         "min(birth_date)"),
    Rule("maximum <today> birth_date", "erp_customers__birth_date__field_maximum",
         "max(birth_date)"),
    Rule("invalidValues validValues gender", "erp_customers__gender__field_invalid_values",
         "gender_in_set"),
    Rule("nullValues < 1 % gender", "erp_customers__gender__field_null_values",
         "gender_nulls_below_1pct"),
    Rule("nullValues < 0.1 % birth_date", "erp_customers__birth_date__field_null_values",
         "birth_date_nulls_below_0_1pct"),
    Rule("duplicateValues = 0 gender", "erp_customers__gender__field_duplicate_values",
         "gender_no_duplicates"),
    Rule("rowCount > 100", "erp_customers__row_count", "enough_rows"),
    Rule("sql: no future birth dates = 0", "erp_customers__quality_sql_1",
         "no_future_birth_dates"),
)  # fmt: skip


def make_rows(today: date) -> list[tuple[Any, ...]]:
    """The table's rows, the same on every run for the same ``today``."""
    rng = random.Random(SEED)
    rows: list[list[Any]] = []
    for n in range(1, ROWS + 1):
        born = date(1940, 1, 1) + timedelta(days=rng.randrange(0, 60 * 365))
        crm = f"CRM-{rng.randrange(10**5, 10**6)}" if n % 3 else None  # NULL thrice a row
        rows.append([f"CUST{n:04d}", born, rng.choice(VALID_GENDERS), crm])
    # Dirty rows, at fixed places; each rule has its own offenders.
    for index in (7, 58, 190):
        rows[index][0] = None  # NULL ids
    for index, copy_of in ((20, 21), (22, 21), (101, 102), (250, 251)):
        rows[index][0] = rows[copy_of][0]  # duplicate ids (CUST0022 three times)
    rows[33][0] = "CUST" + "0" * 56 + "33"  # 62 characters: too long and off the pattern
    rows[44][0] = "cust0044"  # lower case
    rows[55][0] = "XCUST0055"  # the pattern occurs inside, but is not the whole value
    rows[66][0] = "CUST00066"  # five digits: CUST0006 inside
    rows[77][1] = date(1850, 3, 1)  # before 1900
    rows[88][1] = date(1899, 12, 31)
    rows[99][1] = date(1900, 1, 1)  # the bound itself: inclusive, passes
    rows[111][1] = today + timedelta(days=30)  # in the future
    rows[122][1] = date(2999, 1, 1)
    rows[133][1] = None
    rows[144][2] = "x"  # unknown gender codes
    rows[155][2] = "M"
    rows[166][2] = "male"
    rows[177][2] = None  # NULL gender: no value, not an invalid one
    return [tuple(r) for r in rows]


def write_warehouse(path: Path, today: date) -> None:
    import duckdb

    # datacontract-cli's venv pins an older DuckDB (1.5): write a file it can open.
    con = duckdb.connect(str(path), config={"storage_compatibility_version": "v1.5.0"})
    try:
        con.execute("CREATE SCHEMA silver")
        con.execute(
            "CREATE TABLE silver.erp_customers (customer_id VARCHAR, birth_date DATE, "
            "gender VARCHAR, crm_key VARCHAR)"
        )
        con.executemany("INSERT INTO silver.erp_customers VALUES (?, ?, ?, ?)", make_rows(today))
    finally:
        con.close()


def contract_yaml(database: Path, today: date) -> str:
    """The ODCS v3.0.2 contract both tools read."""
    return f"""\
apiVersion: v3.0.2
kind: DataContract
id: erp-customers
name: erp customers
version: 1.0.0
status: active
servers:
  - server: {SERVER}
    type: duckdb
    database: {database}
    schema: silver
schema:
  - name: erp_customers
    physicalName: erp_customers
    physicalType: table
    properties:
      - name: customer_id
        logicalType: string
        physicalType: VARCHAR
        required: true
        unique: true
        logicalTypeOptions:
          maxLength: 50
          pattern: '^CUST[0-9]{{4}}$'
      - name: crm_key
        logicalType: string
        unique: true
        logicalTypeOptions:
          pattern: '[0-9]{{6}}'
      - name: birth_date
        logicalType: date
        physicalType: DATE
        logicalTypeOptions:
          minimum: '1900-01-01'
          maximum: '{today.isoformat()}'
        quality:
          - type: library
            name: birth_date_nulls_below_0_1pct
            metric: nullValues
            unit: percent
            mustBeLessThan: 0.1
      - name: gender
        logicalType: string
        quality:
          - type: library
            name: gender_nulls_below_1pct
            metric: nullValues
            unit: percent
            mustBeLessThan: 1
          - type: library
            name: gender_no_duplicates
            metric: duplicateValues
            mustBe: 0
          - type: library
            name: gender_in_set
            metric: invalidValues
            arguments:
              validValues: [{", ".join(VALID_GENDERS)}]
            mustBe: 0
    quality:
      - type: library
        name: enough_rows
        metric: rowCount
        mustBeGreaterThan: 100
      - type: sql
        name: no_future_birth_dates
        query: SELECT COUNT(*) FROM ${{table}} WHERE birth_date > CURRENT_DATE
        mustBe: 0
"""


def run_datacontract(executable: str, contract: Path, folder: Path) -> dict[str, dict[str, Any]]:
    """datacontract-cli's checks by key (``result``, observed ``value``, ``reason``)."""
    output = folder / "datacontract-results.json"
    done = subprocess.run(
        [executable, "test", str(contract), "--server", SERVER, "--output-format", "json",
         "--output", str(output)],
        cwd=folder, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if not output.exists():
        raise SystemExit(f"datacontract test wrote no results:\n{done.stdout}\n{done.stderr}")
    checks = json.loads(output.read_text(encoding="utf-8"))["checks"]
    return {str(c["key"]): c for c in checks}


def run_silverline(folder: Path) -> dict[str, dict[str, Any]]:
    """Silverline's results by check name (``status``, ``details``), plus the issues."""
    lineage = [sys.executable, "-m", "lineage.cli"]
    # The project's own settings only: no catalog or OpenLineage endpoint from the caller.
    env = {k: v for k, v in os.environ.items()
           if k not in ("LINEAGE_CATALOG_URL", "OPENLINEAGE_URL", "OPENLINEAGE_CONFIG")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(REPO_ROOT), env.get("PYTHONPATH"))))
    env_free: dict[str, Any] = {
        "cwd": folder, "capture_output": True, "text": True, "check": False, "env": env}
    introspected = subprocess.run([*lineage, "introspect", "--format", "json"], **env_free)
    if introspected.returncode != 0:
        raise SystemExit(f"lineage introspect failed:\n{introspected.stderr}")
    # The row-count rule reads the row count profiling recorded in the catalog.
    profiled = subprocess.run([*lineage, "profile", "--format", "json"], **env_free)
    if profiled.returncode != 0:
        raise SystemExit(f"lineage profile failed:\n{profiled.stderr}")
    done = subprocess.run([*lineage, "check", "--format", "json"], **env_free)
    try:
        doc = json.loads(done.stdout)
    except json.JSONDecodeError:
        raise SystemExit(f"lineage check gave no JSON:\n{done.stdout}\n{done.stderr}") from None
    found = {str(r["check"]): r for r in doc["results"]}
    found["(issues)"] = {"issues": doc.get("issues", [])}
    return found


def _dc_cell(check: dict[str, Any] | None) -> tuple[str, str]:
    if check is None:
        return "(no check)", ""
    diagnostics = check.get("diagnostics") or {}
    value = diagnostics.get("value")
    if value is None and check["type"] == "field_unique":
        value = diagnostics.get("duplicate_count", diagnostics.get("value"))
    status = str(check["result"])
    return status, "" if value is None else str(value)


def _sl_cell(result: dict[str, Any] | None) -> tuple[str, str]:
    if result is None:
        return "(no check)", ""
    details = result["details"]
    observed = details.get("observed")
    sample = details.get("sample") or [{}]
    if "observed_value" in sample[0]:  # a thresholded SQL rule: the row holds the value
        return str(result["status"]), f"{observed} row, value {sample[0]['observed_value']}"
    return str(result["status"]), "" if observed is None else str(observed)


def compare(datacontract: str, folder: Path, today: date) -> dict[str, Any]:
    """Write the data and the contract into ``folder``, run both tools, pair the rules."""
    database = folder / "wh.duckdb"
    write_warehouse(database, today)
    (folder / "contracts").mkdir()
    contract = folder / "contracts" / "erp_customers.odcs.yaml"
    contract.write_text(contract_yaml(database, today), encoding="utf-8")
    (folder / "lineage.yml").write_text(f"warehouse:\n  url: duckdb:///{database}\n")
    dc = run_datacontract(datacontract, contract, folder)
    sl = run_silverline(folder)
    rows = []
    for rule in RULES:
        dc_status, dc_value = _dc_cell(dc.get(rule.datacontract_key))
        sl_status, sl_value = _sl_cell(sl.get(rule.silverline_check))
        rows.append({
            "rule": rule.label, "datacontract": dc_status, "datacontract_observed": dc_value,
            "silverline": sl_status, "silverline_observed": sl_value,
            "same": dc_status == sl_status,
            "datacontract_reason": (dc.get(rule.datacontract_key) or {}).get("reason"),
            "silverline_message": (sl.get(rule.silverline_check) or {}).get(
                "details", {}).get("message"),
        })  # fmt: skip
    paired_dc = {r.datacontract_key for r in RULES}
    paired_sl = {r.silverline_check for r in RULES} | {"(issues)"}
    return {
        "today": today.isoformat(),
        "rows": rows,
        "datacontract_only": sorted(
            f"{c['key']}: {c['result']}" for k, c in dc.items() if k not in paired_dc),
        "silverline_only": sorted(
            f"{k}: {r['status']}" for k, r in sl.items() if k not in paired_sl),
        "silverline_issues": sl["(issues)"]["issues"],
    }  # fmt: skip


def print_table(report: dict[str, Any]) -> None:
    header = ("rule", "datacontract-cli", "Silverline", "same?")
    cells = [
        (r["rule"], f"{r['datacontract']} ({r['datacontract_observed'] or '-'})",
         f"{r['silverline']} ({r['silverline_observed'] or '-'})", "yes" if r["same"] else "NO")
        for r in report["rows"]
    ]  # fmt: skip
    widths = [max(len(row[i]) for row in (header, *cells)) for i in range(4)]
    print(f"datacontract-cli vs Silverline, {ROWS} rows, checked on {report['today']}")
    print("(observed values in brackets: the offending count each tool reports)")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in cells:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    for r in report["rows"]:
        if not r["same"]:
            print(f"\n{r['rule']}:\n  datacontract-cli: {r['datacontract_reason']}"
                  f"\n  Silverline: {r['silverline_message']}")  # fmt: skip
    if report["datacontract_only"]:
        print("\nonly datacontract-cli: " + ", ".join(report["datacontract_only"]))
    if report["silverline_only"]:
        print("only Silverline: " + ", ".join(report["silverline_only"]))
    for issue in report["silverline_issues"]:
        print(f"Silverline issue: {issue}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datacontract", default=shutil.which("datacontract") or "datacontract",
                        help="the datacontract executable (its own venv)")
    parser.add_argument("--json", action="store_true", help="the comparison as JSON on stdout")
    parser.add_argument("--keep", type=Path, help="work in this (new) folder and keep it")
    args = parser.parse_args(argv)
    today = date.today()
    if args.keep:
        args.keep.mkdir(parents=True)
        report = compare(args.datacontract, args.keep.resolve(), today)
    else:
        with tempfile.TemporaryDirectory(prefix="silverline-vs-dc-") as tmp:
            report = compare(args.datacontract, Path(tmp), today)
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        print()
    else:
        print_table(report)
    return 0 if all(r["same"] for r in report["rows"]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
