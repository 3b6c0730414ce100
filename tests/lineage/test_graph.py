"""LineageGraph queries on a small ERP graph: impact, upstream, paths, depth, cycles."""

from __future__ import annotations

from lineage.graph import LineageGraph
from lineage.model import (
    ColumnEdge,
    ColumnId,
    Dataset,
    DatasetId,
    Field,
    Job,
    Schema,
    Transformation,
    TransformationSubtype,
)

NS = "redshift"
BRONZE = DatasetId(NS, "bronze.erp_cust_az12")
STG = DatasetId(NS, "staging.stg_erp_cust_az12")
SILVER = DatasetId(NS, "silver.erp_customers")
GOLD = DatasetId(NS, "gold.customer_age_groups")
IDENTITY = Transformation.direct(TransformationSubtype.IDENTITY)
CAST = Transformation.direct(TransformationSubtype.TRANSFORMATION)
FILTER = Transformation.indirect(TransformationSubtype.FILTER)
WINDOW = Transformation.indirect(TransformationSubtype.WINDOW)


def col(dataset: DatasetId, name: str) -> ColumnId:
    return ColumnId(dataset, name)


def edge(
    src: ColumnId, dst: DatasetId, field: str | None, t: Transformation, job: str
) -> ColumnEdge:
    return ColumnEdge(src, dst, field, (t,), job)


def erp_graph() -> LineageGraph:
    datasets = [
        Dataset(
            BRONZE,
            schema=Schema(
                (Field("cid"), Field("bdate"), Field("gen"), Field("_airbyte_extracted_at"))
            ),
        ),
        Dataset(SILVER, owners=("data-eng",)),
        Dataset(GOLD, owners=("analytics",)),
    ]
    jobs = [
        Job(NS, "erp.stg_erp_cust_az12", inputs=(BRONZE,), outputs=(STG,), owners=("ingest",)),
        Job(NS, "erp.erp_customers", inputs=(STG,), outputs=(SILVER,)),
        Job(NS, "erp.customer_age_groups", inputs=(SILVER,), outputs=(GOLD,)),
    ]
    edges = [
        edge(col(BRONZE, "cid"), STG, "cid", IDENTITY, "erp.stg_erp_cust_az12"),
        edge(col(BRONZE, "bdate"), STG, "bdate", IDENTITY, "erp.stg_erp_cust_az12"),
        edge(col(BRONZE, "gen"), STG, "gen", IDENTITY, "erp.stg_erp_cust_az12"),
        edge(col(BRONZE, "_airbyte_extracted_at"), STG, None, FILTER, "erp.stg_erp_cust_az12"),
        edge(col(STG, "cid"), SILVER, "customer_id", CAST, "erp.erp_customers"),
        edge(col(STG, "bdate"), SILVER, "birth_date", CAST, "erp.erp_customers"),
        edge(
            col(STG, "gen"),
            SILVER,
            "gender",
            Transformation.indirect(TransformationSubtype.CONDITIONAL),
            "erp.erp_customers",
        ),
        edge(col(SILVER, "birth_date"), GOLD, "age_group", CAST, "erp.customer_age_groups"),
        edge(col(SILVER, "gender"), GOLD, "gender", IDENTITY, "erp.customer_age_groups"),
        edge(col(SILVER, "gender"), GOLD, "gender_groups", WINDOW, "erp.customer_age_groups"),
    ]
    return LineageGraph.build(datasets, jobs, edges)


def labels(entries) -> set[str]:  # type: ignore[no-untyped-def]
    return {e.to_dict()["node"] for e in entries}


def test_impact_of_a_bronze_column_reaches_gold_with_path_jobs_and_owners() -> None:
    impact = erp_graph().impact(col(BRONZE, "bdate"))
    assert labels(impact.columns) == {
        "staging.stg_erp_cust_az12.bdate",
        "silver.erp_customers.birth_date",
        "gold.customer_age_groups.age_group",
    }
    gold = next(e for e in impact.columns if e.node == col(GOLD, "age_group"))
    assert gold.distance == 3 and gold.direct
    assert [h.job for h in gold.path] == [
        "erp.stg_erp_cust_az12",
        "erp.erp_customers",
        "erp.customer_age_groups",
    ]
    assert [d.node for d in impact.datasets] == [STG, SILVER, GOLD]
    assert set(impact.owners) == {"ingest", "data-eng", "analytics"}
    assert impact.jobs[0] == "erp.stg_erp_cust_az12"


def test_indirect_hops_mark_the_entry_indirect() -> None:
    impact = erp_graph().impact(col(BRONZE, "gen"))
    by_node = {e.node: e for e in impact.columns}
    assert not by_node[col(SILVER, "gender")].direct  # CASE gen WHEN ...: CONDITIONAL
    assert not by_node[col(GOLD, "gender_groups")].direct


def test_a_filter_column_affects_every_column_of_the_filtered_dataset() -> None:
    impact = erp_graph().impact(col(BRONZE, "_airbyte_extracted_at"))
    reached = labels(impact.columns)
    assert "staging.stg_erp_cust_az12.cid" in reached
    assert "gold.customer_age_groups.age_group" in reached
    assert all(not e.direct for e in impact.columns)


def test_depth_limits_the_walk() -> None:
    impact = erp_graph().impact(col(BRONZE, "bdate"), depth=1)
    assert labels(impact.columns) == {"staging.stg_erp_cust_az12.bdate"}


def test_upstream_of_a_gold_column() -> None:
    impact = erp_graph().upstream(col(GOLD, "age_group"))
    assert labels(impact.columns) >= {
        "silver.erp_customers.birth_date",
        "staging.stg_erp_cust_az12.bdate",
        "bronze.erp_cust_az12.bdate",
    }
    # The staging filter shapes the rows every downstream column is computed from.
    assert "bronze.erp_cust_az12._airbyte_extracted_at" in labels(impact.columns)


def test_dataset_impact_and_path_and_mermaid() -> None:
    graph = erp_graph()
    impact = graph.impact(SILVER)
    assert {d.node for d in impact.datasets} == {GOLD}
    path = graph.path(col(BRONZE, "cid"), col(SILVER, "customer_id"))
    assert path is not None and [h.job for h in path] == [
        "erp.stg_erp_cust_az12",
        "erp.erp_customers",
    ]
    assert graph.path(col(GOLD, "gender"), col(BRONZE, "gen")) is None
    mermaid = graph.impact(col(BRONZE, "gen")).to_mermaid()
    assert mermaid.startswith("flowchart LR")
    assert "-.->" in mermaid and "-->" in mermaid


def test_cycles_are_reported() -> None:
    graph = erp_graph()
    assert graph.cycles() == []
    looped = LineageGraph.build(
        [], [], [*graph_edges(), edge(col(GOLD, "gender"), BRONZE, "gen", IDENTITY, "backfill")]
    )
    (cycle,) = looped.cycles()
    assert set(cycle) == {BRONZE, STG, SILVER, GOLD}


def graph_edges() -> list[ColumnEdge]:
    return [
        edge(col(BRONZE, "gen"), STG, "gen", IDENTITY, "a"),
        edge(col(STG, "gen"), SILVER, "gender", IDENTITY, "b"),
        edge(col(SILVER, "gender"), GOLD, "gender", IDENTITY, "c"),
    ]


def test_unknown_node_has_no_impact() -> None:
    impact = erp_graph().impact(col(BRONZE, "nope"))
    assert impact.columns == () and impact.datasets == ()


def _by_label(impact):  # type: ignore[no-untyped-def]
    return {e.to_dict()["node"]: (e.distance, e.direct) for e in impact.columns}


def test_a_depth_keeps_everything_the_unbounded_walk_has_at_that_hop() -> None:
    graph = erp_graph()
    for root in (col(BRONZE, "_airbyte_extracted_at"), col(BRONZE, "bdate"), BRONZE, SILVER):
        for upstream in (False, True):
            whole = _by_label(graph.impact(root, upstream=upstream))
            for depth in (1, 2, 3):
                bounded = _by_label(graph.impact(root, depth=depth, upstream=upstream))
                assert bounded == {k: v for k, v in whole.items() if v[0] <= depth}, (
                    root, upstream, depth,
                )  # fmt: skip
    # The staging filter reaches every staging column at hop 1 (through the dataset).
    filtered = _by_label(graph.impact(col(BRONZE, "_airbyte_extracted_at"), depth=1))
    staged = ("cid", "bdate", "gen")
    assert filtered == {f"staging.stg_erp_cust_az12.{c}": (1, False) for c in staged}


def test_a_dataset_impact_starts_from_its_columns_not_at_hop_0() -> None:
    impact = erp_graph().impact(SILVER)
    found = _by_label(impact)
    assert not [name for name in found if name.startswith("silver.")]  # not its own columns
    assert found["gold.customer_age_groups.age_group"] == (1, True)  # birth_date -> CAST
    assert found["gold.customer_age_groups.gender_groups"] == (1, False)  # WINDOW
    upstream = _by_label(erp_graph().upstream(SILVER))
    assert upstream["staging.stg_erp_cust_az12.cid"] == (1, True)
    assert upstream["bronze.erp_cust_az12.cid"] == (2, True)


def test_table_level_lineage_counts_where_no_column_lineage_is_known() -> None:
    s3 = DatasetId("s3://company-datalake", "bronze/erp/cust_az12")
    spectrum = DatasetId(NS, "spectrum.erp_cust_az12")
    graph = LineageGraph.build(
        [Dataset(spectrum, schema=Schema((Field("cid"), Field("bdate"))))],
        [Job(NS, "glue.crawl", inputs=(s3,), outputs=(spectrum,)),
         Job(NS, "erp.load", inputs=(spectrum,), outputs=(BRONZE,))],
        [edge(col(spectrum, "cid"), BRONZE, "cid", IDENTITY, "erp.load")],
    )  # fmt: skip
    upstream = graph.upstream(spectrum)
    assert [(d.node, d.distance, d.direct) for d in upstream.datasets] == [(s3, 1, False)]
    downstream = graph.impact(s3)
    assert {d.node for d in downstream.datasets} == {spectrum, BRONZE}
    assert _by_label(downstream)["spectrum.erp_cust_az12.bdate"] == (1, False)
    # Where column lineage exists for the pair, no table-level edge adds noise.
    assert "bronze.erp_cust_az12.bdate" not in _by_label(graph.impact(spectrum))
    assert graph.upstream(BRONZE).datasets[0].node == spectrum
