"""``lineage build`` on a copy of the ERP example, end to end, as a user runs it: the
pipeline's runs, bronze -> silver -> gold column lineage, the dirty rows failing the right
contract rules, DataHub Lite, the site in Chromium, a second build that changes nothing,
and ``lineage demo --simulate-drift``."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lineage.catalog import Catalog
from lineage.graph import LineageGraph
from lineage.model import ColumnId, DatasetId
from tests.docs_site.browser import Watch, browser, require_browser

REPO = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.slow


def _lineage(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "LINEAGE_CATALOG_URL"}
    env["COLUMNS"] = "250"  # tables as a wide terminal shows them
    return subprocess.run([sys.executable, "-m", "lineage.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip


def _site_digest(site: Path) -> dict[str, str]:
    return {str(p.relative_to(site)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(site.rglob("*")) if p.is_file()}  # fmt: skip


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    project = tmp_path_factory.mktemp("build") / "erp"
    generated = shutil.ignore_patterns(".lineage", "bronze", "site", "target")
    shutil.copytree(REPO / "examples" / "erp", project, ignore=generated)
    done = _lineage("build", "--format", "json", cwd=project)
    assert done.returncode == 1, done.stderr  # the example's dirty rows fail its contract
    yield project, json.loads(done.stdout)


def test_every_step_runs_and_the_dirty_rows_fail_the_contract(
    built: tuple[Path, dict[str, Any]],
) -> None:
    project, report = built
    status = {s["step"]: s["status"] for s in report["steps"]}
    assert status == {
        "pipeline": "ok", "scan": "ok", "introspect": "ok", "profile": "ok",
        "check": "failed", "push": "ok", "docs": "ok", "drift": "skipped",
    }  # fmt: skip
    namespace = f"duckdb://{project / '.lineage' / 'erp.duckdb'}"
    silver = DatasetId(namespace, "erp.silver.erp_customers")
    with Catalog(f"sqlite:///{project / '.lineage' / 'catalog.db'}") as catalog:
        runs = catalog.runs("erp.erp_customers")
        assert runs and runs[0].state.value == "COMPLETE"
        assert catalog.run_outcomes(runs)[runs[0].run_id][0] == 1200  # one row per customer
        results = {r.check: r.status.value for r in catalog.check_results(silver)}
        graph = LineageGraph.from_catalog(catalog)
    # Off-pattern ids (NAS-CUST0101) and a birth date in 1850 are the seed's dirt.
    assert results["pattern(customer_id)"] == "failed"
    assert results["min(birth_date)"] == "failed"
    assert results["not_null(customer_id)"] == "passed"
    assert results["unique(customer_id)"] == "passed"  # the re-sent duplicates are folded
    assert results["row_count_vs_average(7d)"] == "insufficient_history"
    bdate = ColumnId(DatasetId(namespace, "erp.bronze.erp_cust_az12"), "bdate")
    reached = {(str(e.node.dataset.name), e.node.name, e.direct)
               for e in graph.impact(bdate).columns if isinstance(e.node, ColumnId)}  # fmt: skip
    assert ("erp.silver.erp_customers", "birth_date", True) in reached
    assert ("erp.gold.customer_age_groups", "age_group", True) in reached


def test_datahub_lite_holds_the_lineage_and_the_assertions(
    built: tuple[Path, dict[str, Any]],
) -> None:
    project, _ = built
    with sqlite3.connect(project / ".lineage" / "datahub-lite.db") as conn:
        rows = conn.execute(
            "SELECT urn, aspect_name, metadata FROM metadata_aspect_v2 WHERE version = 0"
        ).fetchall()
    lineage = [json.loads(m) for u, a, m in rows
               if a == "upstreamLineage" and "erp.silver.erp_customers" in u]  # fmt: skip
    assert lineage and any(
        "bdate" in json.dumps(f) and "birth_date" in json.dumps(f)
        for f in lineage[0].get("fineGrainedLineages", [])
    )
    assert any(a == "assertionInfo" for _, a, _ in rows)
    # The results too: one run event per check of the silver contract, failures as such.
    with sqlite3.connect(project / ".lineage" / "datahub-lite.db") as conn:
        events = [json.loads(m) for (m,) in conn.execute(
            "SELECT metadata FROM metadata_aspect_v2 WHERE aspect_name = 'assertionRunEvent'"
        )]  # fmt: skip
    silver = [e for e in events if "erp.silver.erp_customers" in e["asserteeUrn"]]
    outcomes = {e["result"]["nativeResults"]["message"].split(" ")[0]: e["result"]["type"]
                for e in silver}  # fmt: skip
    assert outcomes["not_null(customer_id)"] == "SUCCESS"
    failed = {e["result"]["nativeResults"]["message"] for e in silver
              if e["result"]["type"] == "FAILURE"}  # fmt: skip
    assert len(failed) == 2, failed  # the off-pattern ids and the birth date in 1850
    assert any("do not match" in m and "cid" in m for m in failed), failed
    assert any("below 1900-01-01" in m and "bdate" in m for m in failed), failed
    assert all(e["status"] == "COMPLETE" and e["runId"] for e in silver)
    assert (project / ".lineage" / "datahub-mcps.json").stat().st_size > 0


def test_the_site_opens_and_shows_birth_date_from_bdate(
    built: tuple[Path, dict[str, Any]],
) -> None:
    require_browser()
    project, _ = built
    index = project / "site" / "index.html"
    with browser() as chromium:
        page = chromium.new_page()
        watch = Watch(page, "file://")
        page.goto(index.as_uri())
        page.get_by_role("link", name="erp.silver.erp_customers").first.click()
        page.wait_for_selector("table.schema[data-ready]")  # hops drawn from the shard
        # The lineage arrow in birth_date's own row of the schema table.
        row = page.locator("tr#col-birth_date").inner_text()
        assert row.startswith("birth_date"), row
        assert re.search(r"← \S*stg_erp_cust_az12\.bdate\b", row), row
        watch.assert_clean()


def _catalog_counts(project: Path) -> dict[str, int]:
    with sqlite3.connect(project / ".lineage" / "catalog.db") as conn:
        return {table: conn.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
                for table in ("schema_versions", "check_results", "runs", "metrics")}  # fmt: skip


def _lite_versions(project: Path) -> list[tuple[str, str, int]]:
    with sqlite3.connect(project / ".lineage" / "datahub-lite.db") as conn:
        return sorted(conn.execute("SELECT urn, aspect_name, version FROM metadata_aspect_v2"))


def test_a_second_build_changes_nothing_and_still_fails_the_contract(
    built: tuple[Path, dict[str, Any]],
) -> None:
    project, first = built
    before = _site_digest(project / "site")
    counts, lite = _catalog_counts(project), _lite_versions(project)
    done = _lineage("build", "--format", "json", cwd=project)
    document = json.loads(done.stdout)
    report = {s["step"]: s for s in document["steps"]}
    assert report["pipeline"]["status"] == "skipped"
    assert report["introspect"]["summary"].split(", ")[1] == "0 new schema versions"
    assert report["profile"]["status"] == "skipped"
    # Nothing was re-judged, but the contract still fails: its last results stand.
    check = report["check"]
    assert check["status"] == "failed" and check["details"]["carried_forward"] is True
    first_check = next(s for s in first["steps"] if s["step"] == "check")
    assert check["details"]["results"] == first_check["details"]["results"] > 0
    assert check["summary"].startswith(first_check["summary"])  # the same counts
    assert report["push"]["details"]["sent"] == 0
    assert report["drift"]["status"] == "ok"  # compared with the first site: no breaking drift
    assert done.returncode == 1, done.stdout
    assert document["failed_steps"] == ["check"]
    assert _site_digest(project / "site") == before
    assert _catalog_counts(project) == counts  # no schema version, result, run or metric
    assert _lite_versions(project) == lite  # no new DataHub aspect versions


def test_a_table_build_says_where_everything_is(built: tuple[Path, dict[str, Any]]) -> None:
    project, _ = built
    done = _lineage("build", "--skip", "pipeline", cwd=project)
    assert done.returncode == 1  # the contract still fails
    lines = done.stdout.splitlines()
    assert any(line.strip().startswith("│ check") and "failed" in line for line in lines)
    assert "failed: check" in done.stdout
    for label, path in (("site", project / "site" / "index.html"),
                        ("DataHub Lite", project / ".lineage" / "datahub-lite.db"),
                        ("MCP file", project / ".lineage" / "datahub-mcps.json")):  # fmt: skip
        assert f"{label}: {path}" in lines, (label, done.stdout[-1500:])


_SIMULATED = {  # (kind, column) -> what the bronze files now say
    ("column_renamed", "bdate"): ("bdate", "birth_dt"),
    ("column_removed", "gen"): ("string", None),
    ("type_narrowed", "cid"): ("large_string", "string"),  # 64- to 32-bit offsets
    ("column_added", "channel"): (None, "string"),
}


def test_demo_simulates_drift_and_reports_its_impact(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    done = _lineage("demo", str(folder), "--simulate-drift", "--fail-on", "breaking",
                    "--format", "json", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 1, done.stderr[-2000:]
    document = json.loads(done.stdout)
    first, second = document["builds"]
    assert first["failed_steps"] == ["check"]  # the dirty rows, before any drift
    assert second["failed_steps"] == ["check", "drift"]
    drift = next(s for s in second["steps"] if s["step"] == "drift")
    assert drift["status"] == "failed"
    assert drift["details"]["fail_on"] == "breaking" and drift["details"]["failing"] >= 3
    files = [f for f in drift["details"]["findings"] if f["namespace"] == "file"]
    found = {(f["kind"], f["column"]): f for f in files}
    for key, (old, new) in _SIMULATED.items():
        assert key in found, (key, sorted(found))
        assert (found[key]["old"], found[key]["new"]) == (old, new), found[key]
        # Who reads the files: the jobs registering them (their columns go by glob).
        assert "erp.register_bronze" in json.dumps(found[key]["impact"]), found[key]
    # Each breaking change names what it reaches downstream, through the warehouse view.
    warehouse = {(f["kind"], f["column"]): f for f in drift["details"]["findings"]
                 if f["dataset"] == "erp.bronze.erp_cust_az12"}  # fmt: skip
    reached = json.dumps(warehouse[("column_removed", "bdate")]["impact"])
    assert "erp.silver.erp_customers" in reached and "birth_date" in reached
    assert "erp.gold.customer_age_groups" in reached
    assert "silver-team@example.com" in reached
    # The terminal shows the same, and so does the site.
    assert "simulating drift" in done.stderr
    assert re.search(r"failed drift +\d+ breaking.*at --fail-on breaking", done.stderr)
    drift_page = (folder / "site" / "drift.html").read_text(encoding="utf-8")
    for kind, column in _SIMULATED:
        assert kind in drift_page and column in drift_page, (kind, column)
    with Catalog(f"sqlite:///{folder / '.lineage' / 'catalog.db'}") as catalog:
        kinds = {(f.kind, f.column) for f in catalog.drift_findings()}
    assert set(_SIMULATED) <= kinds
    assert ("column_removed", "bdate") in kinds and ("column_removed", "gen") in kinds


def _walkthrough() -> list[tuple[list[str], int, list[str]]]:
    """The ``$ lineage ...`` blocks of docs/cli.md: arguments, exit code, first lines."""
    import re
    import shlex

    text = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    found = []
    for block in re.findall(r"```console\n(.*?)```", text, flags=re.DOTALL):
        command, *shown = block.rstrip("\n").split("\n")
        line, _, comment = command.removeprefix("$ ").partition("  # ")
        code = int(comment.split()[-1]) if comment.startswith("exit") else 0
        found.append((shlex.split(line)[1:], code, [s for s in shown if s != "..."]))
    return found


def test_the_cli_walkthrough(built: tuple[Path, dict[str, Any]]) -> None:
    project, _ = built
    steps = _walkthrough()
    assert len(steps) >= 6
    for args, code, shown in steps:
        done = _lineage(*args, cwd=project)
        assert done.returncode == code, (args, done.stdout[-2000:], done.stderr[-2000:])
        lines = [line.rstrip() for line in done.stdout.splitlines()]
        for expected, actual in zip(shown, lines, strict=False):
            assert actual.startswith(expected.rstrip()), (args, expected, actual)
        assert "Traceback" not in done.stderr
