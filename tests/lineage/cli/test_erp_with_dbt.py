"""The ERP example's models give the same tables whether our pipeline executes them on
DuckDB (no dbt needed) or real ``dbt run`` with dbt-duckdb does."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
DBT = Path(sys.executable).with_name("dbt")
MODELS = ("staging.stg_erp_cust_az12", "staging.stg_loc_a101", "silver.erp_customers",
          "silver.erp_customer_locations", "gold.customer_age_groups")  # fmt: skip
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not DBT.exists(), reason="dbt-duckdb is not installed (dev extra)"),
]

_LAND_BRONZE = (
    "import lineage, pipeline\n"
    "lineage.run.configure(sinks=[], register_atexit=False, handle_sigterm=False)\n"
    "pipeline.WAREHOUSE.parent.mkdir(parents=True, exist_ok=True)\n"
    "pipeline.extract()\npipeline.register_bronze()\n"
)


def _copy(tmp_path: Path, name: str) -> Path:
    project = tmp_path / name
    generated = shutil.ignore_patterns(".lineage", "bronze", "site", "target", "logs")
    shutil.copytree(REPO / "examples" / "erp", project, ignore=generated)
    return project


def _tables(project: Path) -> dict[str, tuple[list[str], int, int]]:
    """Per model: its columns, its row count and a content checksum (dwh_loaded_at aside)."""
    import duckdb

    found = {}
    with duckdb.connect(str(project / ".lineage" / "erp.duckdb"), read_only=True) as con:
        for model in MODELS:
            columns = [d[0] for d in con.execute(f"SELECT * FROM {model} LIMIT 0").description]
            kept = ", ".join(c for c in columns if c != "dwh_loaded_at")
            [(rows, checksum)] = con.execute(
                f"SELECT count(*), coalesce(sum(hash({kept})), 0) FROM {model}"
            ).fetchall()
            found[model] = (columns, int(rows), int(checksum))
    return found


def test_dbt_run_builds_what_the_pipeline_builds(tmp_path: Path) -> None:
    ours = _copy(tmp_path, "ours")
    done = subprocess.run([sys.executable, "pipeline.py"], cwd=ours, capture_output=True,
                          text=True, timeout=300, env={"LINEAGE_HANDLE_SIGTERM": "false",
                          "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})  # fmt: skip
    assert done.returncode == 0, done.stderr

    theirs = _copy(tmp_path, "dbt")
    landed = subprocess.run([sys.executable, "-c", _LAND_BRONZE], cwd=theirs,
                            capture_output=True, text=True, timeout=300)  # fmt: skip
    assert landed.returncode == 0, landed.stderr
    command = [str(DBT), "run", "--profiles-dir", ".", "--project-dir", "."]
    ran = subprocess.run(command, cwd=theirs / "dbt", capture_output=True, text=True,
                         timeout=300)  # fmt: skip
    assert ran.returncode == 0, ran.stdout[-3000:]

    assert _tables(theirs) == _tables(ours)
