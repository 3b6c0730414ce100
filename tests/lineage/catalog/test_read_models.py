"""The typed read models the catalog returns (``lineage.views``): status enums and their
mapping, frozen records, and the dataset view ``lineage show`` prints."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from lineage.catalog import Catalog
from lineage.errors import CatalogError
from lineage.graph import LineageGraph
from lineage.model import (
    ColumnEdge,
    ColumnId,
    Dataset,
    DatasetId,
    DatasetKind,
    DataTest,
    Field,
    Freshness,
    Job,
    Schema,
    Transformation,
    TransformationSubtype,
)
from lineage.views import (
    CheckResult,
    CheckStatus,
    ColumnView,
    DatasetView,
    MetricPoint,
    RunRecord,
    RunState,
    describe_dataset,
)

NS = "redshift"
T0 = datetime(2026, 11, 1, 6, 0, tzinfo=timezone.utc)
BRONZE = DatasetId(NS, "bronze.erp_cust_az12")
SILVER = DatasetId(NS, "silver.erp_customers")
GOLD = DatasetId(NS, "gold.customer_age_groups")


@pytest.fixture
def catalog(catalog_url: str) -> Iterator[Catalog]:
    with Catalog(catalog_url) as opened:
        yield opened


# -- the enums ----------------------------------------------------------------------------


def test_check_status_has_exactly_its_outcomes() -> None:
    assert [s.value for s in CheckStatus] == [
        "passed", "warning", "failed", "error", "insufficient_history"
    ]


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("pass", CheckStatus.PASSED), ("passed", CheckStatus.PASSED),
        ("success", CheckStatus.PASSED), ("OK", CheckStatus.PASSED),
        ("warn", CheckStatus.WARNING), (" Warning ", CheckStatus.WARNING),
        ("fail", CheckStatus.FAILED), ("FAILED", CheckStatus.FAILED),
        ("failure", CheckStatus.FAILED), ("error", CheckStatus.ERROR),
        ("skipped", CheckStatus.ERROR), ("", CheckStatus.ERROR),
    ],
)  # fmt: skip
def test_check_status_parse_maps_every_tools_word(text: str, status: CheckStatus) -> None:
    assert CheckStatus.parse(text) is status


def test_run_state_names_openlineage_event_types_and_which_end_a_run() -> None:
    assert [s.value for s in RunState] == ["START", "RUNNING", "OTHER", "COMPLETE", "FAIL", "ABORT"]
    assert {s for s in RunState if s.ended} == {RunState.COMPLETE, RunState.FAIL, RunState.ABORT}
    assert RunState.parse(" complete ") is RunState.COMPLETE
    with pytest.raises(ValueError):
        RunState.parse("EXPLODED")


# -- what the catalog returns -------------------------------------------------------------


def test_runs_are_frozen_records_with_a_run_state(catalog: Catalog) -> None:
    catalog.record_run("r1", "load", RunState.START, T0, {"nominalTime": {"t": 1}})
    catalog.record_run("r1", "load", "abort", T0 + timedelta(minutes=1))
    catalog.record_run("r2", "load", "RUNNING", T0 + timedelta(hours=1))

    assert catalog.runs() == [
        RunRecord(run_id="r2", job_name="load", state=RunState.RUNNING,
                  first_event_at=T0 + timedelta(hours=1), last_event_at=T0 + timedelta(hours=1)),
        RunRecord(run_id="r1", job_name="load", state=RunState.ABORT, first_event_at=T0,
                  last_event_at=T0 + timedelta(minutes=1), started_at=T0,
                  ended_at=T0 + timedelta(minutes=1), facets={"nominalTime": {"t": 1}}),
    ]  # fmt: skip
    r1 = catalog.runs()[1]
    assert type(r1.state) is RunState
    with pytest.raises(dataclasses.FrozenInstanceError):
        r1.state = RunState.COMPLETE  # type: ignore[misc]
    assert len({r1, catalog.runs()[1]}) == 1  # hashable although facets is a mapping
    with pytest.raises(CatalogError, match="unknown run state 'EXPLODED'"):
        catalog.record_run("r3", "load", "exploded", T0)


def test_check_results_carry_the_outcome_and_the_tools_own_word(catalog: Catalog) -> None:
    catalog.record_check_result(SILVER, "not_null", "pass", T0, column="customer_id")
    catalog.record_check_result(SILVER, "unique", " WARN ", T0, run_id="r1", details={"n": 2})
    catalog.record_check_result(SILVER, "freshness", CheckStatus.FAILED, T0)
    catalog.record_check_result(SILVER, "custom", "skipped", T0)

    results = catalog.check_results(SILVER)
    assert [(r.check, r.status, r.native_status) for r in results] == [
        ("not_null", CheckStatus.PASSED, "pass"),
        ("unique", CheckStatus.WARNING, " WARN "),
        ("freshness", CheckStatus.FAILED, "failed"),  # an enum is stored as its value
        ("custom", CheckStatus.ERROR, "skipped"),  # unknown words are errors, kept as said
    ]
    assert all(type(r.status) is CheckStatus for r in results)
    assert results[1] == CheckResult(SILVER, "unique", CheckStatus.WARNING, T0, run_id="r1",
                                     details={"n": 2}, native_status=" WARN ")  # fmt: skip
    with pytest.raises(dataclasses.FrozenInstanceError):
        results[0].status = CheckStatus.FAILED  # type: ignore[misc]


def test_a_check_result_built_by_hand_defaults_its_native_status() -> None:
    assert CheckResult(SILVER, "c", CheckStatus.WARNING, T0).native_status == "warning"


def test_metrics_are_frozen_points(catalog: Catalog) -> None:
    catalog.record_metric(SILVER, "row_count", 12, T0, run_id="r1")
    [point] = catalog.metrics(SILVER)
    assert point == MetricPoint(SILVER, "row_count", 12.0, T0, column=None, run_id="r1")
    assert isinstance(point.value, float)
    with pytest.raises(dataclasses.FrozenInstanceError):
        point.value = 3.0  # type: ignore[misc]


# -- the dataset view ---------------------------------------------------------------------


def _graph() -> tuple[Dataset, LineageGraph]:
    silver = Dataset(
        SILVER,
        schema=Schema((Field("customer_id", "varchar(50)", "The key"), Field("birth_date"))),
        description="One row per customer",
        owners=("ana@example.com",),
        tags=("pii",),
        meta='{"tier": 1}',
        tests=(DataTest("not_null", "customer_id"), DataTest("row_count", None, '{"min": 1}')),
        contract_enforced=True,
        freshness=Freshness("loaded_at", "24h", None),
        source_file="models/silver/erp_customers.sql",
    )
    identity = (Transformation.direct(TransformationSubtype.IDENTITY),)
    jobs = [
        Job(NS, "silver.sql", inputs=(BRONZE,), outputs=(SILVER,)),
        Job(NS, "gold.sql", inputs=(SILVER,), outputs=(GOLD,)),
    ]
    edges = [
        ColumnEdge(ColumnId(BRONZE, "cid"), SILVER, "customer_id", identity, "silver.sql"),
        ColumnEdge(ColumnId(BRONZE, "cst_id"), SILVER, "legacy_id", identity, "silver.sql"),
        ColumnEdge(ColumnId(SILVER, "birth_date"), GOLD, "age_group", identity, "gold.sql"),
    ]
    return silver, LineageGraph.build([silver], jobs, edges)


def test_the_dataset_view_is_typed_and_its_json_is_unchanged() -> None:
    silver, graph = _graph()

    class Reader:
        def dataset(self, dataset: DatasetId) -> Dataset | None:
            return silver if dataset == SILVER else None

    view = describe_dataset(Reader(), graph, SILVER)
    assert isinstance(view, DatasetView) and view.kind is DatasetKind.TABLE
    assert view.columns[0] == ColumnView(
        "customer_id", "varchar(50)", "The key", ("not_null",), ("bronze.erp_cust_az12.cid",)
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        view.description = "changed"  # type: ignore[misc]
    expected = {
        "namespace": NS, "name": "silver.erp_customers", "kind": "table",
        "description": "One row per customer", "owners": ["ana@example.com"], "tags": ["pii"],
        "meta": {"tier": 1}, "contract_enforced": True,
        "freshness": {"loaded_at_field": "loaded_at", "warn_after": "24h", "error_after": None},
        "tests": ['row_count {"min": 1}'], "source_file": "models/silver/erp_customers.sql",
        "columns": [
            {"name": "customer_id", "type": "varchar(50)", "description": "The key",
             "tests": ["not_null"], "upstream": ["bronze.erp_cust_az12.cid"]},
            {"name": "birth_date", "type": None, "description": None, "tests": [],
             "upstream": []},
            {"name": "legacy_id", "type": None, "description": None, "tests": [],
             "upstream": ["bronze.erp_cust_az12.cst_id"]},
        ],
        "upstream": [{"namespace": NS, "name": "bronze.erp_cust_az12"}],
        "downstream": [{"namespace": NS, "name": "gold.customer_age_groups"}],
        "jobs": ["silver.sql"],
    }  # fmt: skip
    # The same keys in the same order: `lineage show --format json` prints it as is.
    assert json.dumps(view.to_dict(), indent=2) == json.dumps(expected, indent=2)


def test_the_view_of_a_dataset_only_the_lineage_knows() -> None:
    _, graph = _graph()

    class Empty:
        def dataset(self, dataset: DatasetId) -> Dataset | None:
            return None

    view = describe_dataset(Empty(), graph, GOLD).to_dict()
    assert (view["kind"], view["meta"], view["freshness"], view["owners"]) == (
        "table", {}, None, []
    )
    assert view["upstream"] == [{"namespace": NS, "name": "silver.erp_customers"}]
    assert [c["name"] for c in view["columns"]] == ["age_group"]
