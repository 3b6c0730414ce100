"""``lineage build`` on a copy of the ERP example, end to end, as a user runs it: the
pipeline's runs, bronze -> silver -> gold column lineage, the dirty rows failing the right
contract rules, DataHub Lite, the site in Chromium, a second build that changes nothing,
and ``lineage demo --simulate-drift``."""

from __future__ import annotations

import hashlib
import json
import os
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
        text = page.inner_text("body")
        assert "birth_date" in text and "bdate" in text
        watch.assert_clean()


def test_a_second_build_changes_nothing(built: tuple[Path, dict[str, Any]]) -> None:
    project, _ = built
    before = _site_digest(project / "site")
    with sqlite3.connect(project / ".lineage" / "datahub-lite.db") as conn:
        [(aspects,)] = conn.execute("SELECT count(*) FROM metadata_aspect_v2").fetchall()
    done = _lineage("build", "--format", "json", cwd=project)
    report = {s["step"]: s for s in json.loads(done.stdout)["steps"]}
    assert report["pipeline"]["status"] == "skipped"
    assert report["profile"]["status"] == "skipped" and report["check"]["status"] == "skipped"
    assert report["push"]["details"]["sent"] == 0
    assert report["drift"]["status"] == "ok"  # compared with the first site: no breaking drift
    assert done.returncode == 0, done.stdout  # nothing failed this time: nothing was judged
    assert _site_digest(project / "site") == before
    with sqlite3.connect(project / ".lineage" / "datahub-lite.db") as conn:
        assert conn.execute("SELECT count(*) FROM metadata_aspect_v2").fetchall() == [(aspects,)]


def test_demo_simulates_drift_and_reports_its_impact(tmp_path: Path) -> None:
    done = _lineage("demo", str(tmp_path / "demo"), "--simulate-drift", cwd=tmp_path)
    assert done.returncode == 1
    out = done.stdout
    assert "column_removed" in out and "bdate" in out and "gen" in out
    assert "erp.silver.erp_customers.birth_date" in out
    with Catalog(f"sqlite:///{tmp_path / 'demo' / '.lineage' / 'catalog.db'}") as catalog:
        kinds = {(f.kind, f.column) for f in catalog.drift_findings()}
    assert ("column_removed", "bdate") in kinds and ("column_removed", "gen") in kinds
    assert ("column_added", "channel") in kinds


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
