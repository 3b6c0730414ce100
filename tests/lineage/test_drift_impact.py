"""Impact of schema changes through the lineage graph: downstream columns (DIRECT vs
INDIRECT, depth), datasets, jobs, owners, downstream contracts; SELECT * and positional
INSERT consumers; jobs without SQL said to be unknown; the order of findings; the
Markdown and GitHub renderings."""

from __future__ import annotations

from lineage.contracts import Constraint, ConstraintKind, Contract, ContractField, Source
from lineage.drift import (
    Change,
    ChangeKind,
    DatasetSchema,
    DriftReport,
    DriftSeverity,
    assess,
    diff_schemas,
    to_github,
    to_markdown,
)
from lineage.graph import LineageGraph
from lineage.model import (
    ColumnEdge,
    ColumnId,
    Dataset,
    DatasetId,
    Field,
    Job,
    LiveColumn,
    Schema,
    Transformation,
    TransformationSubtype,
)

NS = "postgres://db:5432"
BRONZE = DatasetId(NS, "dwh.bronze.erp_cust_az12")
SILVER = DatasetId(NS, "dwh.silver.erp_customers")
GOLD = DatasetId(NS, "dwh.gold.customer_age_groups")
COPY = DatasetId(NS, "dwh.audit.cust_copy")
DIRECT = (Transformation.direct(TransformationSubtype.TRANSFORMATION),)
GROUP = (Transformation.indirect(TransformationSubtype.GROUP_BY),)


def _graph(*, python_reader: bool = False) -> LineageGraph:
    datasets = [
        Dataset(BRONZE, schema=Schema((Field("cid"), Field("gen"), Field("bdate")))),
        Dataset(SILVER, schema=Schema((Field("customer_id"), Field("birth_date"),
                                       Field("gender"))), owners=("data-eng",)),
        Dataset(GOLD, schema=Schema((Field("age_group"), Field("customers"))),
                owners=("analytics",)),
    ]
    jobs = [
        Job("sql", "silver.sql", sql="CREATE TABLE silver.erp_customers AS SELECT cid AS "
            "customer_id, bdate AS birth_date, gen AS gender FROM bronze.erp_cust_az12",
            inputs=(BRONZE,), outputs=(SILVER,), owners=("etl-team",)),
        Job("sql", "gold.sql", sql="CREATE TABLE gold.customer_age_groups AS SELECT "
            "age(birth_date) AS age_group, count(*) AS customers FROM silver.erp_customers "
            "GROUP BY 1", inputs=(SILVER,), outputs=(GOLD,)),
        Job("sql", "copy.sql", sql="INSERT INTO audit.cust_copy SELECT * FROM "
            "bronze.erp_cust_az12", inputs=(BRONZE,), outputs=(COPY,)),
    ]  # fmt: skip
    if python_reader:
        jobs.append(Job("python", "erp.export", kind="python", inputs=(BRONZE,)))
    edges = [
        ColumnEdge(ColumnId(BRONZE, "cid"), SILVER, "customer_id", DIRECT, "silver.sql"),
        ColumnEdge(ColumnId(BRONZE, "bdate"), SILVER, "birth_date", DIRECT, "silver.sql"),
        ColumnEdge(ColumnId(BRONZE, "gen"), SILVER, "gender", DIRECT, "silver.sql"),
        ColumnEdge(ColumnId(SILVER, "birth_date"), GOLD, "age_group", DIRECT, "gold.sql"),
        ColumnEdge(ColumnId(SILVER, "birth_date"), GOLD, None, GROUP, "gold.sql"),
    ]
    return LineageGraph.build(datasets, jobs, edges)


def _change(
    kind: ChangeKind, column: str | None, old: str | None = None, new: str | None = None
) -> Change:
    return Change(kind, BRONZE, f"{kind.value} {column}", column=column, old=old, new=new)


def test_a_removed_column_reaches_silver_and_gold_with_depth_and_owners() -> None:
    [finding] = assess([_change(ChangeKind.COLUMN_REMOVED, "bdate")], _graph())
    columns = {r.label: (r.distance, r.direct) for r in finding.impact.columns}
    assert columns["dwh.silver.erp_customers.birth_date"] == (1, True)
    assert columns["dwh.gold.customer_age_groups.age_group"] == (2, True)
    # the GROUP BY key shapes every gold row: INDIRECT from hop 2 on
    assert columns["dwh.gold.customer_age_groups.customers"] == (2, False)
    assert {r.label for r in finding.impact.datasets} >= {SILVER.name, GOLD.name}
    assert set(finding.impact.owners) >= {"data-eng", "analytics", "etl-team"}
    assert set(finding.impact.jobs) >= {"silver.sql", "gold.sql", "copy.sql"}
    assert finding.impact.star_consumers == ("copy.sql",)  # SELECT * loses the column
    assert finding.severity is DriftSeverity.BREAKING


def test_column_order_is_breaking_only_with_a_positional_insert() -> None:
    order = _change(ChangeKind.COLUMN_ORDER_CHANGED, None, old="cid, gen", new="gen, cid")
    [with_copy] = assess([order], _graph())
    assert with_copy.severity is DriftSeverity.BREAKING
    assert with_copy.impact.positional_consumers == ("copy.sql",)
    no_copy = LineageGraph.build(
        [Dataset(BRONZE, schema=Schema((Field("cid"),)))],
        [Job("py", "erp.export", kind="python", inputs=(BRONZE,))], [],
    )  # fmt: skip
    [unknown] = assess([order], no_copy)
    assert unknown.severity is DriftSeverity.WARNING  # cannot tell: not escalated
    assert unknown.impact.unknown_consumers == ("erp.export",)
    assert "unknown consumers: erp.export" in unknown.message


def test_an_added_column_reaches_star_consumers_only() -> None:
    [finding] = assess([_change(ChangeKind.COLUMN_ADDED, "email")], _graph(python_reader=True))
    assert finding.impact.columns == ()
    assert finding.impact.positional_consumers == ("copy.sql",)
    assert finding.severity is DriftSeverity.BREAKING  # one more value than copy inserts
    assert finding.impact.unknown_consumers == ("erp.export",)


def test_contracts_downstream_of_a_reached_column_are_named() -> None:
    contract = Contract(Source("contracts/erp_customers.yml", 3), "seed", "erp_customers",
                        fields=(ContractField("birth_date", constraints=(
                            Constraint(ConstraintKind.NOT_NULL, "birth_date"),)),))  # fmt: skip
    [finding] = assess([_change(ChangeKind.COLUMN_REMOVED, "bdate")], _graph(),
                       {SILVER: [contract]})  # fmt: skip
    assert finding.impact.contracts == ("contracts/erp_customers.yml: not_null(birth_date)",)


def test_findings_sort_by_severity_then_blast_radius() -> None:
    changes = [
        _change(ChangeKind.DESCRIPTION_CHANGED, "cid", old="a", new="b"),
        _change(ChangeKind.TYPE_NARROWED, "cid", old="varchar(50)", new="varchar(20)"),
        _change(ChangeKind.COLUMN_REMOVED, "bdate"),  # reaches silver and gold
        _change(ChangeKind.NULLABILITY_RELAXED, "gen"),
    ]
    ordered = [(f.kind, f.column) for f in assess(changes, _graph())]
    assert ordered == [("column_removed", "bdate"), ("type_narrowed", "cid"),
                       ("nullability_relaxed", "gen"), ("description_changed", "cid")]  # fmt: skip


def test_a_rename_is_traced_from_its_old_name() -> None:
    old = DatasetSchema(BRONZE, (LiveColumn("cid", "text"), LiveColumn("bdate", "date")))
    new = DatasetSchema(BRONZE, (LiveColumn("cid", "text"), LiveColumn("birth_dt", "date")))
    [finding] = assess(diff_schemas(old, new), _graph())
    assert finding.kind == "column_renamed"
    assert "dwh.silver.erp_customers.birth_date" in {r.label for r in finding.impact.columns}


def test_markdown_and_github_renderings() -> None:
    findings = assess([_change(ChangeKind.COLUMN_REMOVED, "bdate"),
                       _change(ChangeKind.NULLABILITY_RELAXED, "gen")], _graph())  # fmt: skip
    report = DriftReport("site/schema.json", "warehouse", tuple(findings), ("one: skipped",))
    markdown = to_markdown(report)
    assert "**1 breaking**, 1 warning, 0 info" in markdown
    assert "| 🔴 breaking | column_removed | `dwh.bronze.erp_cust_az12` | `bdate` |" in markdown
    assert "<summary>Not compared</summary>" in markdown
    github = to_github(report, {BRONZE: "models/bronze,cust.sql"}).splitlines()
    assert github[0].startswith("::error file=models/bronze%2Ccust.sql,title=column_removed%3A "
                                "dwh.bronze.erp_cust_az12.bdate::column_removed bdate")  # fmt: skip
    assert github[1].startswith("::warning ")
    assert report.fails(DriftSeverity.BREAKING) and not DriftReport("a", "b").fails(
        DriftSeverity.INFO)  # fmt: skip
    assert report.to_dict()["counts"] == {"breaking": 1, "warning": 1, "info": 0}
