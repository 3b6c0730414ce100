"""connectors.prometheus: the catalog's latest figures as Prometheus gauges (freshness,
rows, null ratios, check states, last finished runs, open drift), the textfile output, and
the Grafana dashboard of examples/erp querying only metrics the exporter produces."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from connectors.prometheus import METRICS, exposition_text, write_textfile
from lineage.catalog import Catalog
from lineage.drift import Change, ChangeKind, DriftFinding
from lineage.model import DatasetId, DatasetProfile, Job, LineageBatch, ProfileMetric

NOW = datetime(2026, 12, 1, 6, 0, tzinfo=timezone.utc)
NS = "duckdb:///erp.duckdb"
SILVER = DatasetId(NS, "erp.silver.erp_customers")
LOCATIONS = DatasetId(NS, "erp.silver.erp_locations")
DASHBOARD = Path(__file__).parents[2] / "examples" / "erp" / "grafana" / "dashboard.json"

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _clock() -> datetime:
    return NOW


def _ago(**delta: float) -> datetime:
    return NOW - timedelta(**delta)


def _samples(text: str, prefix: str = "") -> Samples:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name.startswith(prefix)
    }


def _finding(kind: ChangeKind, column: str) -> DriftFinding:
    change = Change(kind, SILVER, f"{column}: {kind.value}", column=column)
    return DriftFinding(change, change.severity)


def _run(catalog: Catalog, run_id: str, job: str, start: datetime, end: datetime | None,
         state: str = "COMPLETE") -> None:  # fmt: skip
    catalog.record_run(run_id, job, "START", start)
    if end is not None:
        facets = {"errorMessage": {"message": "bronze is empty"}} if state == "FAIL" else None
        catalog.record_run(run_id, job, state, end, facets)


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[Catalog]:
    """The ERP example's catalog after two loads of customers and a failed locations load."""
    catalog = Catalog(f"sqlite:///{tmp_path / 'catalog.db'}")
    catalog.write(LineageBatch(jobs=(
        Job("warehouse", "erp.load_customers", kind="python", outputs=(SILVER,)),
        Job("warehouse", "erp.load_locations", kind="python", outputs=(LOCATIONS,)),
    )))  # fmt: skip
    _run(catalog, "run-1", "erp.load_customers", _ago(hours=2), _ago(hours=2, seconds=-30))
    catalog.record_metric(SILVER, "row_count", 120, _ago(hours=2, seconds=-30), "run-1")
    _run(catalog, "run-2", "erp.load_customers", _ago(hours=1), _ago(hours=1, seconds=-45))
    catalog.record_metric(SILVER, "row_count", 80, _ago(hours=1, seconds=-45), "run-2")
    _run(catalog, "run-3", "erp.load_customers", _ago(minutes=5), None)  # still running
    _run(catalog, "run-4", "erp.load_locations", _ago(minutes=30), _ago(minutes=29), "FAIL")
    catalog.record_profile(DatasetProfile(SILVER, _ago(hours=2), (
        ProfileMetric("row_count", 120), ProfileMetric("null_rate", 0.5, "gen"),
        ProfileMetric("last_loaded_at", _ago(hours=2).timestamp(), "dwh_loaded_at"),
    )))  # fmt: skip
    catalog.record_profile(DatasetProfile(SILVER, _ago(minutes=50), (
        ProfileMetric("row_count", 81),
        ProfileMetric("null_rate", 0.25, "birth_date"), ProfileMetric("null_rate", 0.0, "gender"),
        ProfileMetric("last_loaded_at", _ago(hours=3).timestamp(), "_airbyte_extracted_at"),
        ProfileMetric("last_loaded_at", _ago(hours=1, seconds=-45).timestamp(), "dwh_loaded_at"),
    )))  # fmt: skip
    catalog.record_check_result(SILVER, "not_null(customer_id)", "fail", _ago(hours=2),
                                "customer_id", "run-1")  # fmt: skip
    catalog.record_check_result(SILVER, "not_null(customer_id)", "pass", _ago(hours=1),
                                "customer_id", "run-2")  # fmt: skip
    catalog.record_check_result(SILVER, "accepted_values(gender)", "fail", _ago(hours=1),
                                "gender", "run-2")  # fmt: skip
    catalog.record_check_result(SILVER, "row_count_vs_average", "insufficient_history",
                                _ago(hours=1))  # fmt: skip
    catalog.record_drift([_finding(ChangeKind.COLUMN_REMOVED, "gen"),
                          _finding(ChangeKind.TYPE_NARROWED, "cid"),
                          _finding(ChangeKind.COLUMN_ADDED, "email")],
                         baseline="site/schema.json", observed_by="warehouse",
                         observed_at=_ago(minutes=40))  # fmt: skip
    yield catalog
    catalog.close()


def _ds(**more: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted({"namespace": NS, "dataset": SILVER.name, **more}.items()))


def test_dataset_figures_are_the_newest_measurements(catalog: Catalog) -> None:
    text = exposition_text(catalog, _clock)
    assert _samples(text, "silverline_dataset") | _samples(text, "silverline_column") == {
        # the newest load of the newest profile's load-time columns: 1 h - 45 s ago
        ("silverline_dataset_freshness_seconds", _ds()): 3555.0,
        ("silverline_dataset_last_loaded_timestamp_seconds", _ds()):
            _ago(hours=1, seconds=-45).timestamp(),
        ("silverline_dataset_rows", _ds()): 81.0,  # the profile 10 min after run-2's 80
        # only the newest profile's columns: the dropped `gen` is gone
        ("silverline_column_null_ratio", _ds(column="birth_date")): 0.25,
        ("silverline_column_null_ratio", _ds(column="gender")): 0.0,
    }  # fmt: skip
    assert ('silverline_dataset_rows{dataset="erp.silver.erp_customers",'
            'namespace="duckdb:///erp.duckdb"} 81.0\n') in text  # fmt: skip
    assert "# TYPE silverline_dataset_freshness_seconds gauge" in text


def test_each_check_is_a_state_set_of_its_latest_status(catalog: Catalog) -> None:
    found = _samples(exposition_text(catalog, _clock), "silverline_check_status")
    ones = sorted(dict(k[1])["check"] + "=" + dict(k[1])["status"]
                  for k, v in found.items() if v == 1.0)  # fmt: skip
    assert ones == ["accepted_values(gender)=failed", "not_null(customer_id)=passed",
                    "row_count_vs_average=insufficient_history"]  # fmt: skip
    assert len(found) == 3 * 5  # every status of every check, the others at 0
    key = ("silverline_check_status", _ds(check="row_count_vs_average", column="",
                                          status="insufficient_history"))  # fmt: skip
    assert found[key] == 1.0  # a dataset-level check: empty column label


def test_jobs_show_their_last_finished_run(catalog: Catalog) -> None:
    found = _samples(exposition_text(catalog, _clock), "silverline_job")
    customers, locations = (("job_name", "erp.load_customers"),), (("job_name",
                                                                      "erp.load_locations"),)
    assert found == {
        # run-3 is still running: run-2 is the last finished one
        ("silverline_job_last_run_success", customers): 1.0,
        ("silverline_job_last_run_duration_seconds", customers): 45.0,
        ("silverline_job_last_run_rows", customers): 80.0,
        ("silverline_job_last_run_timestamp_seconds", customers):
            _ago(hours=1, seconds=-45).timestamp(),
        ("silverline_job_last_run_success", locations): 0.0,
        ("silverline_job_last_run_duration_seconds", locations): 60.0,
        ("silverline_job_last_run_timestamp_seconds", locations): _ago(minutes=29).timestamp(),
    }  # fmt: skip  (locations reported no rows: no series, not a 0)


def test_open_drift_findings_are_counted_by_severity(catalog: Catalog) -> None:
    def drift() -> Samples:
        return _samples(exposition_text(catalog, _clock), "silverline_drift")

    key = "silverline_drift_findings_open"
    assert drift() == {(key, (("severity", "breaking"),)): 2.0,
                       (key, (("severity", "warning"),)): 0.0,
                       (key, (("severity", "info"),)): 1.0}  # fmt: skip
    gen = next(f for f in catalog.drift_findings() if f.column == "gen")
    assert catalog.acknowledge_drift(gen.id, by="oncall")
    assert drift()[(key, (("severity", "breaking"),))] == 1.0


def test_an_empty_catalog_exposes_every_family_and_no_figures(tmp_path: Path) -> None:
    with Catalog(f"sqlite:///{tmp_path / 'empty.db'}") as empty:
        families = list(text_string_to_metric_families(exposition_text(empty, _clock)))
    assert [f.name for f in families] == list(METRICS)
    assert all(f.type == "gauge" for f in families)
    assert [s.value for f in families for s in f.samples] == [0.0, 0.0, 0.0]  # drift


def test_textfile_holds_the_same_figures_and_no_temporary_file(
    catalog: Catalog, tmp_path: Path
) -> None:
    out = tmp_path / "textfile" / "silverline.prom"
    write_textfile(catalog, out, _clock)
    assert _samples(out.read_text()) == _samples(exposition_text(catalog, _clock))
    assert [p.name for p in out.parent.iterdir()] == ["silverline.prom"]


def test_every_dashboard_query_names_metrics_the_exporter_produces(catalog: Catalog) -> None:
    produced = {f.name for f in text_string_to_metric_families(exposition_text(catalog))}
    dashboard = json.loads(DASHBOARD.read_text())
    panels = [p for row in dashboard["panels"] for p in (row, *row.get("panels", ()))]
    queries = [(p["title"], t["expr"]) for p in panels for t in p.get("targets", ())]
    queries += [(v["name"], v["definition"]) for v in dashboard["templating"]["list"]]
    titles = {title for title, _ in queries}
    assert {"Data latency", "Daily volume", "Null rate", "Failing checks"} <= titles
    for title, expr in queries:
        names = set(re.findall(r"silverline_[a-z_]+", expr))
        assert names, (title, expr)
        assert names <= produced, (title, names - produced)
    assert {"${DS_PROMETHEUS}"} == {
        p["datasource"]["uid"] for p in panels if "targets" in p
    }
    assert [i["name"] for i in dashboard["__inputs"]] == ["DS_PROMETHEUS"]


def test_importing_the_exporter_and_its_command_loads_no_heavy_library() -> None:
    probe = ("import sys, connectors.prometheus, lineage.cli.metrics; print(sorted({m.split('.')[0]"
             " for m in sys.modules} & {'prometheus_client', 'sqlalchemy', 'sqlglot'}))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True)  # fmt: skip
    assert out.stdout.strip() == "[]"
