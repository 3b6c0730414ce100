"""Names people type resolve: the namespace/name forms that errors offer are accepted
back, --namespace narrows a match, and a bare column name lists its candidates."""

from __future__ import annotations

from pathlib import Path

import pytest

from lineage.config import ProjectConfig
from lineage.errors import InputError
from lineage.model import ColumnId, Dataset, DatasetId, Field, LineageBatch, Schema
from lineage.workspace import Workspace

REDSHIFT = DatasetId("redshift", "silver.erp_customers")
SQL = DatasetId("sql", "silver.erp_customers")
GOLD = DatasetId("postgres://db:5432", "dwh.gold.customer_age")
FILES = DatasetId("s3://lake", "bronze/erp/cust_az12")


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    ws = Workspace(ProjectConfig(root=tmp_path), f"sqlite:///{tmp_path / 'c.db'}")
    schema = Schema((Field("customer_id"), Field("birth_date")))
    ws.catalog.write(
        LineageBatch(
            datasets=(
                Dataset(REDSHIFT, schema=schema),
                Dataset(SQL, schema=schema),
                Dataset(GOLD, schema=Schema((Field("customer_id"), Field("age_group")))),
                Dataset(FILES, schema=Schema((Field("cid"),))),
            )
        )
    )
    return ws


def test_the_names_an_ambiguity_error_offers_are_accepted_back(workspace: Workspace) -> None:
    with pytest.raises(InputError) as error:
        workspace.resolve("silver.erp_customers")
    assert "redshift/silver.erp_customers" in str(error.value)
    assert "sql/silver.erp_customers" in str(error.value)
    assert workspace.resolve("sql/silver.erp_customers") == SQL
    assert workspace.resolve("redshift/silver.erp_customers.birth_date") == ColumnId(
        REDSHIFT, "birth_date"
    )
    # Namespaces and file dataset names hold slashes too.
    assert workspace.resolve("postgres://db:5432/dwh.gold.customer_age") == GOLD
    assert workspace.resolve("s3://lake/bronze/erp/cust_az12.cid") == ColumnId(FILES, "cid")


def test_namespace_narrows_a_match(workspace: Workspace) -> None:
    assert workspace.resolve("erp_customers", namespace="redshift") == REDSHIFT
    assert workspace.resolve("erp_customers.birth_date", "sql") == ColumnId(SQL, "birth_date")
    with pytest.raises(InputError, match="in namespace nowhere"):
        workspace.resolve("erp_customers", namespace="nowhere")


def test_a_bare_column_name_lists_its_candidates(workspace: Workspace) -> None:
    with pytest.raises(InputError) as error:
        workspace.resolve("customer_id")
    message = str(error.value)
    assert "is a column of several datasets" in message
    for candidate in ("silver.erp_customers.customer_id", "dwh.gold.customer_age.customer_id"):
        assert candidate in message
    assert workspace.resolve("age_group") == ColumnId(GOLD, "age_group")  # only one has it
    assert workspace.resolve("AGE_GROUP") == ColumnId(GOLD, "age_group")
    assert workspace.resolve("customer_id", namespace="postgres://db:5432") == ColumnId(
        GOLD, "customer_id"
    )


def test_a_nested_field_resolves_and_its_struct_column_reaches_what_the_field_feeds(
    tmp_path: Path,
) -> None:
    # The parser names a struct path read by a query by its whole path; asking for the
    # struct column (or the path) must reach what the path feeds.
    (tmp_path / "events.sql").write_text(
        "CREATE TABLE silver.widgets AS\n"
        "SELECT e.widget.asset.id AS asset_id, UPPER(e.widget.name) AS widget_name\n"
        "FROM bronze.events AS e\n"
    )
    ws = Workspace(ProjectConfig(root=tmp_path), f"sqlite:///{tmp_path / 'c.db'}")
    ws.scan([str(tmp_path / "events.sql")], ws.scan_options(dialect="bigquery"))
    events = DatasetId("bigquery", "bronze.events")
    assert ws.resolve("bronze.events.widget.asset.id") == ColumnId(events, "widget.asset.id")
    assert ws.resolve("bigquery/bronze.events.widget.asset.id") == ColumnId(
        events, "widget.asset.id"
    )
    widget = ws.resolve("bronze.events.widget")
    assert widget == ColumnId(events, "widget")
    graph = ws.graph_around(widget, upstream=False, downstream=True)
    reached = {(e.node.name, e.direct) for e in graph.impact(widget).columns}
    assert reached == {("asset_id", True), ("widget_name", True)}
    only_asset = graph.impact(ColumnId(events, "widget.asset")).columns
    assert [e.node.name for e in only_asset] == ["asset_id"]
