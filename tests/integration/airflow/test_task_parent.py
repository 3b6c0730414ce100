"""Our runs inside real Airflow 3 tasks are children of the OpenLineage provider's task runs.

``dags/silverline_orders.py`` runs with ``airflow dags test`` in the venv of conftest.py:
``land`` (``@task`` over ``@lineage.job``) fails on its first try and succeeds on the
retry; ``build`` is ``@lineage.job`` over ``@task``. Every id we assert against comes from
the provider's own event file, never from a value the test computed.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from lineage.catalog import Catalog
from lineage.model import DatasetId
from lineage.views import RunState
from tests.lineage.run.test_support import assert_golden

from .helpers import clean_env, ingest, parent_of, ref_of, root_of, tags_of

DAGS = Path(__file__).resolve().parent / "dags"
DAG_ID = "silverline_orders"


def test_task_runs_parent_ours_in_both_orders_and_retries_are_attempts(
    dag_test: Any, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    run = dag_test(DAG_ID, DAGS, tmp_path, {"SILVERLINE_TEST_DATA": str(data)})
    print(f"airflow dags test {DAG_ID}: {run.seconds:.1f} s")

    # The provider's runs: two tries of land (FAIL, then COMPLETE), one of build, the DAG.
    land_tries = run.provider_runs(f"{DAG_ID}.land")
    assert [e["eventType"] for e in run.events if e["job"]["name"] == f"{DAG_ID}.land"] == [
        "START",
        "FAIL",
        "START",
        "COMPLETE",
    ]
    [build_try] = run.provider_runs(f"{DAG_ID}.build")
    [dag_run] = run.provider_runs(DAG_ID, "COMPLETE")
    assert len({e["run"]["runId"] for e in land_tries}) == 2  # one provider run per try

    with Catalog(run.catalog_url) as catalog:
        # @task over @lineage.job, retried by Airflow: one run of ours per try, each the
        # child of that try's provider run, all under the DAG run, numbered as attempts.
        land = sorted(catalog.runs("orders.land"), key=lambda r: r.first_event_at)
        assert [r.state for r in land] == [RunState.FAIL, RunState.COMPLETE]
        assert [parent_of(r.facets) for r in land] == [ref_of(e) for e in land_tries]
        assert {parent_of(r.facets)[:2] for r in land} == {
            ("silverline-tests", "silverline_orders.land")
        }
        assert {root_of(r.facets) for r in land} == {ref_of(dag_run)}
        assert [tags_of(r.facets) for r in land] == [
            {"attempt": "1", "max_attempts": "3"},
            {"attempt": "2", "max_attempts": "3"},
        ]
        assert "the source was not ready" in (land[0].error or "")

        # @lineage.job over @task: the same parentage.
        [build] = catalog.runs("orders.build")
        assert build.state is RunState.COMPLETE
        assert parent_of(build.facets) == ref_of(build_try)
        assert root_of(build.facets) == ref_of(dag_run)

    # Our events, as golden files pin them: the parent and root facets naming the
    # provider's runs, the attempt tags, the error of the first try.
    ours = [
        json.loads(line)
        for path in sorted((run.work / ".lineage" / "events").glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
    ours = [e for e in ours if e["job"]["name"].startswith("orders.")]
    ours.sort(key=lambda e: e["job"]["name"])  # stable: each job's events in emitted order
    masked = json.loads(json.dumps(ours).replace(str(tmp_path), "<tmp>"))
    assert_golden("airflow_task_runs", masked)

    # The provider's events in the same catalog name the bronze folder as we do.
    ingest(run.events_file, run.catalog_url)
    with Catalog(run.catalog_url) as catalog:
        bronze = DatasetId("file", str(data / "bronze" / "orders"))
        jobs = {job.name: job for job in catalog.jobs()}
        assert bronze in jobs["orders.land"].outputs  # ours
        assert bronze in jobs[f"{DAG_ID}.land"].outputs  # the provider's
        assert bronze in jobs["orders.build"].inputs
        assert bronze in jobs[f"{DAG_ID}.build"].inputs
        assert [d.id for d in catalog.datasets()].count(bronze) == 1
        provider_runs = {r.run_id for r in catalog.runs(f"{DAG_ID}.land")}
        assert provider_runs == {parent_of(r.facets)[2] for r in catalog.runs("orders.land")}


SCRIPT = """
import json, sys
{preamble}
import lineage

@lineage.job(name="plain.job")
def job():
    return None

job()
lineage.run.flush()
print(json.dumps(["airflow" in sys.modules, "lineage.run.airflow" in sys.modules]))
"""


def test_outside_a_task_no_parent_and_airflow_is_never_imported_by_us(
    airflow_venv: Any, tmp_path: Path
) -> None:
    for preamble, loaded in (("", [False, False]), ("import airflow.sdk", [True, True])):
        work = tmp_path / ("with-airflow" if preamble else "plain")
        work.mkdir()
        env = clean_env({"LINEAGE_CATALOG_URL": f"sqlite:///{work / 'catalog.db'}"})
        done = subprocess.run(
            [str(airflow_venv.bin / "python"), "-c", SCRIPT.format(preamble=preamble)],
            capture_output=True,
            text=True,
            env=env,
            cwd=work,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        # Airflow installed but not imported: we never load it (nor our Airflow module).
        assert json.loads(done.stdout.splitlines()[-1]) == loaded
        events = [
            json.loads(line)
            for path in (work / ".lineage" / "events").glob("*.jsonl")
            for line in path.read_text(encoding="utf-8").splitlines()
        ]
        assert [e["eventType"] for e in events] == ["START", "COMPLETE"]
        assert all("parent" not in e["run"]["facets"] for e in events)  # no task, no parent
