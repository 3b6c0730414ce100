"""``examples/erp/pipeline.py`` on its own: the seed's shape (extract -> transform ->
quality check -> load -> update metadata), and its second pass merging the next day's
extract into silver incrementally (dbt's ``is_incremental()``), not rebuilding it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

# Another process holds the warehouse's write lock for 1.2 s while a model builds.
_LOCKED = (
    "import subprocess, sys, time, pipeline\n"
    "hold = 'import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print(1, flush=True); "
    "time.sleep(1.2)'\n"
    "holder = subprocess.Popen([sys.executable, '-c', hold, str(pipeline.WAREHOUSE)],\n"
    "                          stdout=subprocess.PIPE, text=True)\n"
    "holder.stdout.readline()\n"
    "start = time.monotonic()\n"
    "pipeline.build_model('silver', 'erp_customer_locations', 'table')\n"
    "print(time.monotonic() - start)\n"
    "holder.wait()\n"
)
_GATE = (
    "import duckdb, pipeline\n"
    "with duckdb.connect(str(pipeline.WAREHOUSE)) as con:\n"
    "    con.execute(\"INSERT INTO silver.erp_customers (customer_id) VALUES ('CUST0001')\")\n"
    "try:\n"
    "    pipeline.quality_check()\n"
    "except pipeline.QualityGateError as exc:\n"
    "    print(exc)\n"
)


def _python(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "LINEAGE_CATALOG_URL"}
    done = subprocess.run([sys.executable, *args], cwd=project, env=env, capture_output=True,
                          text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def _query(project: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    import duckdb

    with duckdb.connect(str(project / ".lineage" / "erp.duckdb"), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the example after one ``python pipeline.py``."""
    folder = tmp_path_factory.mktemp("pipeline") / "erp"
    generated = shutil.ignore_patterns(".lineage", "bronze", "site", "target", "__pycache__")
    shutil.copytree(REPO / "examples" / "erp", folder, ignore=generated)
    _python(folder, "pipeline.py")
    return folder


def test_the_second_pass_merges_the_next_day_incrementally(project: Path) -> None:
    from lineage.catalog import Catalog

    [(rows, first_load)] = _query(project, "SELECT count(*), max(dwh_loaded_at) "
                                           "FROM silver.erp_customers")  # fmt: skip
    assert rows == 1200

    _python(project, "pipeline.py", "--increment")
    # 30 customers re-sent with corrected values, 10 new ones: merged on customer_id.
    [(rows, ids)] = _query(project, "SELECT count(*), count(DISTINCT customer_id) "
                                    "FROM silver.erp_customers")  # fmt: skip
    assert rows == ids == 1210
    merged = dict(_query(project, "SELECT customer_id, gender FROM silver.erp_customers "
                                  "WHERE dwh_loaded_at > ?", first_load))  # fmt: skip
    assert len(merged) == 40
    assert merged["CUST0040"] == "Female" and merged["CUST1210"] == "Male"
    # Untouched rows keep their first load: the table was not rebuilt.
    [(kept,)] = _query(project, "SELECT count(*) FROM silver.erp_customers "
                                "WHERE dwh_loaded_at = ?", first_load)  # fmt: skip
    assert kept == 1170
    # Gold was loaded from the merged silver; the control table logged both loads.
    [(customers,)] = _query(project, "SELECT sum(customers) FROM gold.customer_age_groups")
    [(with_birth_date,)] = _query(project, "SELECT count(birth_date) FROM silver.erp_customers")
    assert customers == with_birth_date
    log = _query(project, "SELECT row_count FROM meta.load_log "
                          "WHERE model = 'silver.erp_customers' ORDER BY loaded_at")  # fmt: skip
    assert log == [(1200,), (1210,)]

    with Catalog(f"sqlite:///{project / '.lineage' / 'catalog.db'}") as catalog:
        runs = catalog.runs("erp.erp_customers")
        outcomes = catalog.run_outcomes(runs)
        assert sorted(outcomes[r.run_id][0] for r in runs) == [1200, 1210]
        shape = {job: catalog.runs(job) for job in ("erp.extract", "erp.quality_check",
                                                    "erp.load", "erp.update_metadata")}  # fmt: skip
    assert all(r and r[0].state.value == "COMPLETE" for r in shape.values()), shape

    # The quality gate: a duplicate id in silver stops the load.
    gate = _python(project, "-c", _GATE)
    assert "1 duplicate ids" in gate.stdout


def test_a_locked_warehouse_is_retried_with_back_off(project: Path) -> None:
    from lineage.catalog import Catalog

    with Catalog(f"sqlite:///{project / '.lineage' / 'catalog.db'}") as catalog:
        before = len(catalog.runs("erp.erp_customer_locations"))
    waited = float(_python(project, "-c", _LOCKED).stdout.split()[-1])
    # Attempts at 0, 0.5 and 1.5 s: the third gets the lock (released at 1.2 s).
    assert 1.4 < waited < 5, waited
    with Catalog(f"sqlite:///{project / '.lineage' / 'catalog.db'}") as catalog:
        runs = catalog.runs("erp.erp_customer_locations")  # newest first
    attempts = runs[: len(runs) - before]
    assert sorted(r.state.value for r in attempts) == ["COMPLETE", "FAIL", "FAIL"], attempts
