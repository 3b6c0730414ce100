"""Run-time schema drift of decorated jobs: a job's output (a pandas frame, a DuckDB
relation) against the documented schema the catalog holds, with the three policies.

Real pieces only: the SQLite catalog (written by a scan-like batch, read by the catalog
sink in the emitter's worker), pandas and DuckDB frames, events validated against the
OpenLineage spec by the ``ValidatingSink``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connectors.openlineage.sinks import CatalogSink
from lineage.catalog import Catalog
from lineage.config import ProjectConfig
from lineage.errors import ConfigError, SchemaDriftError
from lineage.model import Dataset, DatasetId, Field, LineageBatch, Schema
from lineage.run import configure, flush, job, reset, run
from lineage.run.drift import run_catalog
from tests.lineage.run.test_support import ValidatingSink

pd = pytest.importorskip("pandas")

NAMESPACE = "duckdb"
CUSTOMERS = DatasetId(NAMESPACE, "silver.erp_customers")
DOCUMENTED = Schema((
    Field("cid", "VARCHAR(50)", "customer id"),
    Field("birth_date", "DATE"),
    Field("gen", "VARCHAR(10)"),
))  # fmt: skip


class Project:
    """A runtime delivering to the catalog (``url``) and a validating in-memory sink."""

    def __init__(self, root: Path, sink: ValidatingSink) -> None:
        self.root = root
        self.url = f"sqlite:///{root / 'catalog.db'}"
        self.sink = sink

    def document(self, dataset: DatasetId = CUSTOMERS, schema: Schema = DOCUMENTED) -> None:
        """What ``lineage scan`` of the SQL / dbt project would have recorded."""
        with Catalog(self.url) as catalog:
            catalog.write(LineageBatch(datasets=(Dataset(dataset, schema=schema),),
                                       observed_by="parser"))  # fmt: skip

    def findings(self, open_only: bool = True) -> list[Any]:
        assert flush(20)
        with Catalog(self.url) as catalog:
            return catalog.drift_findings(open_only=open_only)

    def final(self, name: str) -> dict[str, Any]:
        assert flush(20)
        (last,) = [e for e in self.sink.of_job(name) if e["eventType"] != "START"]
        return dict(last)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    for key in list(os.environ):
        if key.startswith("OPENLINEAGE"):
            monkeypatch.delenv(key)
    monkeypatch.delenv("LINEAGE_CATALOG_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    sink = ValidatingSink()
    found = Project(tmp_path, sink)
    Catalog(found.url).close()
    configure(
        sinks=[sink, CatalogSink(found.url)],
        config=ProjectConfig(root=tmp_path),
        spool_dir=tmp_path / "spool",
        namespace=NAMESPACE,
        register_atexit=False,
    )
    yield found
    assert flush(20)
    reset()
    assert not sink.errors, sink.errors[:3]


def _frame(**columns: list[Any]) -> Any:
    return pd.DataFrame(columns)


def _drift_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "lineage.run" and "drift:" in r.getMessage()]  # fmt: skip


def test_warn_records_a_breaking_finding_with_the_run_id_and_logs_one_line(
    project: Project, caplog: pytest.LogCaptureFixture
) -> None:
    project.document()

    @job(name="erp.silver_customers", outputs=["silver.erp_customers"])
    def build() -> Any:
        # gen dropped, cid now a number, email added; birth_date as pandas keeps dates
        return _frame(cid=[1, 2], birth_date=pd.to_datetime(["2001-02-03", "1999-01-01"]),
                      email=["a@x", "b@y"])  # fmt: skip

    caplog.set_level(logging.INFO, logger="lineage.run")
    result = build()
    assert list(result.columns) == ["cid", "birth_date", "email"]  # returned unchanged
    findings = project.findings()
    complete = project.final("erp.silver_customers")
    assert complete["eventType"] == "COMPLETE"
    by_kind = {(f.kind, f.column): f for f in findings}
    assert set(by_kind) == {("column_removed", "gen"), ("type_changed", "cid"),
                            ("column_added", "email")}  # fmt: skip
    removed = by_kind[("column_removed", "gen")]
    assert removed.severity == "breaking" and removed.dataset == CUSTOMERS
    assert removed.run_id == complete["run"]["runId"]
    assert removed.observed_by == "run:erp.silver_customers"
    assert by_kind[("type_changed", "cid")].severity == "breaking"
    assert "string becomes number" in by_kind[("type_changed", "cid")].message
    assert by_kind[("column_added", "email")].severity == "info"
    # DATE documented, datetime64 observed: same family, no finding (dtypes represent).
    assert ("type_changed", "birth_date") not in by_kind
    lines = _drift_lines(caplog)
    assert len(lines) == 1, lines
    assert lines[0].startswith("job erp.silver_customers: drift: silver.erp_customers: column ")
    assert "(breaking), 2 more; lineage drift for the impact" in lines[0]


def test_warn_run_that_matches_again_resolves_its_findings(project: Project) -> None:
    project.document()
    frames = iter([_frame(cid=["C1"]), _frame(cid=["C1"], birth_date=["x"], gen=["m"])])

    @job(name="erp.flaky", outputs=["silver.erp_customers"])
    def build() -> Any:
        return next(frames)

    build()
    assert {f.column for f in project.findings()} == {"birth_date", "gen"}
    build()  # the documented columns are back (object dtypes: types not compared)
    assert project.findings() == []
    assert {f.column for f in project.findings(open_only=False)} == {"birth_date", "gen"}


def test_fail_ends_the_run_fail_and_raises_without_retrying(project: Project) -> None:
    project.document()
    calls = []

    @job(name="erp.strict", outputs=["silver.erp_customers"], on_drift="fail", retries=2,
         sleep=lambda _: None)  # fmt: skip
    def build() -> Any:
        calls.append(1)
        return _frame(cid=["C1"], birth_date=["2001-02-03"])

    with pytest.raises(SchemaDriftError) as raised:
        build()
    assert calls == [1]  # drift is not retried: the same code writes the same schema
    error = raised.value
    assert error.datasets == ("silver.erp_customers",)
    assert error.changes == ("silver.erp_customers: column gen removed",)
    assert "column gen removed" in str(error) and "silver.erp_customers" in str(error)
    assert flush(20)
    events = project.sink.of_job("erp.strict")
    assert [e["eventType"] for e in events] == ["START", "FAIL"]
    fail = events[-1]
    assert "SchemaDriftError" in fail["run"]["facets"]["errorMessage"]["message"]
    assert "column gen removed" in fail["run"]["facets"]["errorMessage"]["message"]
    (output,) = fail["outputs"]  # the observed schema goes with the FAIL event
    assert [f["name"] for f in output["facets"]["schema"]["fields"]] == ["cid", "birth_date"]
    tags = fail["job"]["facets"]["tags"]["tags"]
    assert {"key": "silverline.on_drift", "value": "fail", "source": "SILVERLINE"} in tags
    (finding,) = project.findings()
    assert (finding.kind, finding.column, finding.run_id) == (
        "column_removed", "gen", fail["run"]["runId"])  # recorded once, by the job itself
    with Catalog(project.url) as catalog:
        (recorded,) = catalog.runs("erp.strict")
        assert recorded.state.value == "FAIL" and "column gen removed" in (recorded.error or "")


def test_fail_lets_non_breaking_drift_complete(project: Project) -> None:
    project.document()

    @job(name="erp.additive", outputs=["silver.erp_customers"], on_drift="fail")
    def build() -> Any:
        return _frame(cid=["C1"], birth_date=["2001-02-03"], gen=["f"], email=["a@x"])

    result = build()
    assert list(result.columns) == ["cid", "birth_date", "gen", "email"]
    assert project.final("erp.additive")["eventType"] == "COMPLETE"
    assert [(f.kind, f.severity) for f in project.findings()] == [("column_added", "info")]


def test_warn_returns_the_result_unchanged_and_completes(project: Project) -> None:
    project.document()
    frame = _frame(cid=["C1"])

    @job(name="erp.lenient", outputs=["silver.erp_customers"])
    def build() -> Any:
        return frame

    assert build() is frame
    assert project.final("erp.lenient")["eventType"] == "COMPLETE"
    assert {f.kind for f in project.findings()} == {"column_removed"}


def test_ignore_records_nothing(project: Project, caplog: pytest.LogCaptureFixture) -> None:
    project.document()

    @job(name="erp.quiet", outputs=["silver.erp_customers"], on_drift="ignore")
    def build() -> Any:
        return _frame(other=[1])

    caplog.set_level(logging.INFO, logger="lineage.run")
    build()
    complete = project.final("erp.quiet")
    assert complete["eventType"] == "COMPLETE"
    assert complete["job"]["facets"]["tags"]["tags"][0]["value"] == "ignore"
    assert project.findings(open_only=False) == []
    assert _drift_lines(caplog) == []


def test_no_documented_schema_no_finding(project: Project) -> None:
    # Only an observed (introspected) schema and the job's own events: nothing documented.
    with Catalog(project.url) as catalog:
        catalog.write(LineageBatch(datasets=(Dataset(CUSTOMERS, schema=DOCUMENTED),),
                                   observed_by="introspection"))  # fmt: skip

    @job(name="erp.undocumented", outputs=["silver.erp_customers"], on_drift="fail")
    def build() -> Any:
        return _frame(x=[1])

    build()
    build()  # the first run's own schema (observer openlineage) is no baseline either
    assert project.findings(open_only=False) == []


def test_duckdb_relation_output_of_a_run_block(project: Project) -> None:
    duckdb = pytest.importorskip("duckdb")
    project.document()
    con = duckdb.connect()
    relation = con.sql("SELECT 'C1' AS cid, DATE '2001-02-03' AS birth_date, 1 AS gen")
    block = run("erp.block", outputs=["silver.erp_customers"], on_drift="fail")
    with pytest.raises(SchemaDriftError, match="column gen type changed"), block as r:
        r.add_output(relation)
    assert project.final("erp.block")["eventType"] == "FAIL"
    (finding,) = project.findings()
    assert (finding.kind, finding.column) == ("type_changed", "gen")


def test_on_drift_is_checked_when_declared() -> None:
    with pytest.raises(ConfigError, match="on_drift must be one of warn, fail, ignore"):
        job(name="x", on_drift="explode")


def test_a_catalog_that_cannot_be_read_costs_the_check_not_the_job(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "not-a-db").write_text("this is no SQLite file")
    sink = ValidatingSink()
    runtime = configure(sinks=[sink, CatalogSink(f"sqlite:///{tmp_path / 'not-a-db'}")],
                        config=ProjectConfig(root=tmp_path), spool_dir=tmp_path / "spool",
                        register_atexit=False)  # fmt: skip
    try:
        with pytest.raises(Exception):  # noqa: B017 - whatever the catalog raises
            run_catalog(runtime)

        @job(name="erp.unreachable", outputs=["silver.erp_customers"], on_drift="fail")
        def build() -> int:
            current = _frame(cid=["C1"])
            from lineage.run import current_run

            current_run().add_output(current)  # type: ignore[union-attr]
            return 7

        caplog.set_level(logging.WARNING, logger="lineage.run")
        assert build() == 7
        assert flush(20)
        assert [e["eventType"] for e in sink.events] == ["START", "COMPLETE"]
        assert any("schema drift not checked" in r.getMessage() for r in caplog.records)
    finally:
        reset()


def test_fail_in_a_coroutine_raises_after_it_returns(project: Project) -> None:
    import asyncio

    project.document()

    @job(name="erp.async_strict", outputs=["silver.erp_customers"], on_drift="fail")
    async def build() -> Any:
        await asyncio.sleep(0)
        return _frame(cid=["C1"], birth_date=["2001-02-03"], sex=["f"])

    with pytest.raises(SchemaDriftError, match="column gen removed"):
        asyncio.run(build())
    assert project.final("erp.async_strict")["eventType"] == "FAIL"
