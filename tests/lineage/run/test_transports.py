"""Where events go: with no OpenLineage configuration, into the Silverline catalog and a
JSON-lines file per day; with one (``openlineage.yml``, ``OPENLINEAGE__TRANSPORT__*``),
through the openlineage-python client and its transports."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connectors.openlineage import ingest_events
from connectors.openlineage.sinks import CatalogSink, ClientSink, JsonLinesSink
from lineage.catalog import Catalog
from lineage.config import ProjectConfig
from lineage.model import DatasetId, TransformationSubtype
from lineage.run import configure, current_run, flush, job, reset, run, runtime
from lineage.views import RunState
from tests.lineage.run.test_support import validate_all, validate_event


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for key in list(os.environ):
        if key.startswith("OPENLINEAGE"):
            monkeypatch.delenv(key)
    monkeypatch.delenv("LINEAGE_CATALOG_URL", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no ~/.openlineage/openlineage.yml
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lineage.yml").write_text("namespace: duckdb\ndialect: duckdb\n")
    yield tmp_path
    reset()


def _lines(folder: Path) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for f in sorted(folder.glob("*.jsonl"))
        for line in f.read_text().splitlines()
    ]


def test_default_records_into_the_catalog_and_daily_files(project: Path) -> None:
    pyarrow = pytest.importorskip("pyarrow")
    found = runtime()
    assert [type(s) for s in found.sinks] == [JsonLinesSink, CatalogSink]

    @job(
        name="erp.silver_customers",
        sql="INSERT INTO silver.customers SELECT cid AS customer_id FROM bronze.cust "
        "WHERE cid > ''",
        owners=["data-eng"],
    )
    def build() -> Any:
        """Silver customers."""
        current_run().add_metric("duplicates", 2, dataset="silver.customers")  # type: ignore[union-attr]
        return pyarrow.table({"customer_id": ["C1", None, "C3"]})

    build()
    assert flush(30)
    events = _lines(project / ".lineage" / "events")
    assert [e["eventType"] for e in events] == ["START", "COMPLETE"]
    for event in events:
        validate_event(event)
    reset()  # closes the catalog the sink opened
    with Catalog(f"sqlite:///{project / '.lineage' / 'catalog.db'}") as catalog:
        (recorded,) = catalog.runs()
        assert recorded.job_name == "erp.silver_customers" and recorded.state is RunState.COMPLETE
        stored = catalog.job("default", "erp.silver_customers")
        assert stored is not None and stored.kind == "python" and stored.owners == ("data-eng",)
        assert stored.description == "Silver customers."
        assert stored.outputs == (DatasetId("duckdb", "silver.customers"),)
        edge, filter_edge = sorted(
            catalog.edges_of_job("erp.silver_customers"), key=lambda e: e.target_field or "~"
        )
        assert edge.transformations[0].subtype is TransformationSubtype.IDENTITY
        assert filter_edge.target_field is None  # WHERE cid > '': shapes every row
        assert filter_edge.transformations[0].subtype is TransformationSubtype.FILTER
        customers = catalog.dataset(DatasetId("duckdb", "silver.customers"))
        assert customers is not None and customers.schema is not None
        assert customers.schema.names == ("customer_id",)
        metrics = {(m.name, m.column): m.value for m in catalog.metrics(customers.id)}
        assert metrics == {
            ("row_count", None): 3.0,
            ("null_count", "customer_id"): 1.0,
            ("duplicates", None): 2.0,
        }
        # The daily files hold the same events: ingesting them again changes nothing.
        before = (catalog.runs(), catalog.jobs(), catalog.metrics(customers.id))
        report = ingest_events(project / ".lineage" / "events", catalog)
        assert report.events == 2 and report.metrics == 0
        assert before == (catalog.runs(), catalog.jobs(), catalog.metrics(customers.id))


def test_catalog_url_from_the_environment(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{project / 'shared.db'}"
    monkeypatch.setenv("LINEAGE_CATALOG_URL", url)
    with run("erp.backfill"):
        pass
    assert flush(30)
    reset()
    validate_all(_lines(project / ".lineage" / "events"))
    with Catalog(url) as catalog:
        assert [r.job_name for r in catalog.runs()] == ["erp.backfill"]


def test_openlineage_yml_selects_the_client(project: Path) -> None:
    out = project / "ol-events.jsonl"
    (project / "openlineage.yml").write_text(
        f"transport:\n  type: file\n  log_file_path: {out}\n  append: true\n"
    )
    assert [type(s) for s in runtime().sinks] == [ClientSink]

    @job(name="erp.via_client", inputs=["bronze.cust"])
    def work() -> int:
        return 1

    assert work() == 1
    assert flush(30)
    events = [json.loads(line) for line in out.read_text().splitlines()]
    assert [e["eventType"] for e in events] == ["START", "COMPLETE"]
    for event in events:
        validate_event(event)
        assert event["run"]["facets"]["tags"]["tags"][0]["key"] == "openlineage_client_version"
    assert not (project / ".lineage" / "catalog.db").exists()


def test_environment_variables_select_the_client(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = project / "env-events.jsonl"
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__TYPE", "file")
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__LOG_FILE_PATH", str(out))
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__APPEND", "true")
    monkeypatch.setenv("OPENLINEAGE_NAMESPACE", "erp-jobs")
    with run("erp.env_configured"):
        pass
    assert flush(30)
    events = [json.loads(line) for line in out.read_text().splitlines()]
    assert [e["job"]["namespace"] for e in events] == ["erp-jobs", "erp-jobs"]
    validate_all(events)


def test_a_transport_object(project: Path) -> None:
    from openlineage.client.serde import Serde
    from openlineage.client.transport import Transport

    class MemoryTransport(Transport):
        kind = "memory"

        def __init__(self) -> None:
            self.events: list[Any] = []

        def emit(self, event: Any) -> None:
            self.events.append(Serde.to_dict(event))

    transport = MemoryTransport()
    configure(transport=transport, config=ProjectConfig(root=project), register_atexit=False)
    with run("erp.memory") as r:
        r.add_output("silver.x")
    assert flush(10)
    assert [e["eventType"] for e in transport.events] == ["START", "COMPLETE"]
    for event in transport.events:
        validate_event(event)


def test_child_processes_write_next_to_our_events(project: Path) -> None:
    with run("erp.spawner") as r:
        env = r.child_env({})
    assert env["OPENLINEAGE__TRANSPORT__TYPE"] == "file"
    assert env["OPENLINEAGE__TRANSPORT__APPEND"] == "true"
    path = Path(env["OPENLINEAGE__TRANSPORT__LOG_FILE_PATH"])
    assert path.parent == project / ".lineage" / "events" / "external"
    configured = r.child_env({"OPENLINEAGE_URL": "http://marquez:5000"})
    assert "OPENLINEAGE__TRANSPORT__TYPE" not in configured  # the child's own config wins
