"""``lineage impact`` and ``lineage show``: questions answered from the catalog's graph."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from lineage.cli.live import live_facts, print_live_facts
from lineage.cli.options import CatalogOption, GraphFormat, OutputFormat, write_json
from lineage.cli.tables import print_rows
from lineage.model import ColumnId, redact_mapping
from lineage.views import DatasetView, describe_dataset

if TYPE_CHECKING:
    from lineage.graph import Impact

__all__ = ["impact", "register", "show"]


def register(app: typer.Typer) -> None:
    """Add ``lineage impact`` and ``lineage show`` to ``app``."""
    app.command(epilog="Example: lineage impact bronze.erp_cust_az12.cid --format mermaid")(impact)
    app.command(epilog="Example: lineage show silver.erp_customers")(show)


NamespaceOption = Annotated[
    str | None,
    typer.Option("--namespace", "-n", help="Only datasets of this namespace (e.g. redshift)."),
]


def impact(
    target: Annotated[str, typer.Argument(help="DATASET or DATASET.COLUMN (a name suffix works).")],
    upstream: Annotated[
        bool, typer.Option("--upstream", help="What it comes from instead of what it feeds.")
    ] = False,
    depth: Annotated[int | None, typer.Option("--depth", min=1, help="Hops to follow.")] = None,
    output_format: Annotated[
        GraphFormat, typer.Option("--format", "-f", help="table, json or mermaid.")
    ] = GraphFormat.table,
    namespace: NamespaceOption = None,
    catalog: CatalogOption = None,
) -> None:
    """What breaks if a column or dataset changes: every downstream column, dataset, job
    and owner, with the path and whether each hop is DIRECT or INDIRECT."""
    from lineage.workspace import Workspace

    workspace = Workspace.open(catalog_url=catalog)
    try:
        node = workspace.resolve(target, namespace)
        graph = workspace.graph_around(
            node, upstream=upstream, downstream=not upstream, depth=depth
        )
        result = graph.impact(node, depth=depth, upstream=upstream)
    finally:
        workspace.close()
    if output_format is GraphFormat.json:
        sys.stdout.write(result.to_json() + "\n")
    elif output_format is GraphFormat.mermaid:
        sys.stdout.write(result.to_mermaid())
    else:
        _print_impact(result)


def show(
    target: Annotated[str, typer.Argument(help="A dataset name (a suffix works).")],
    output_format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="table or json.")
    ] = OutputFormat.table,
    namespace: NamespaceOption = None,
    catalog: CatalogOption = None,
) -> None:
    """A dataset's schema, descriptions, owners, tests, and its upstream and downstream."""
    from lineage.workspace import Workspace

    workspace = Workspace.open(catalog_url=catalog)
    try:
        node = workspace.resolve(target, namespace)
        dataset_id = node.dataset if isinstance(node, ColumnId) else node
        # One hop each way is all a dataset's view shows.
        graph = workspace.graph_around(dataset_id, upstream=True, downstream=True, depth=1)
        view = describe_dataset(workspace.catalog, graph, dataset_id)
        facts = live_facts(workspace.catalog, dataset_id)
    finally:
        workspace.close()
    if output_format is OutputFormat.json:
        write_json({**view.to_dict(), **facts.to_dict()})
    else:
        _print_dataset(view)
        print_live_facts(Console(), view, facts)


def _print_impact(result: Impact) -> None:
    console = Console()
    direction = "upstream of" if result.upstream else "downstream of"
    rows = [
        (
            entry.to_dict()["node"] + ("" if isinstance(entry.node, ColumnId) else " (dataset)"),
            str(entry.distance),
            "DIRECT" if entry.direct else "INDIRECT",
            ", ".join(entry.jobs),
            ", ".join(entry.owners),
        )
        for entry in (*result.columns, *result.datasets)
    ]
    print_rows(
        console,
        f"{direction} {_node_label(result.root)}",
        ("column / dataset", "hops", "type", "via jobs", "owners"),
        rows,
    )
    if not result.columns and not result.datasets:
        console.print("nothing found", style="dim")
    elif result.owners:
        console.print(f"owners to tell: {', '.join(result.owners)}", highlight=False)


def _node_label(node: object) -> str:
    if isinstance(node, ColumnId):
        return f"{node.dataset.name}.{node.name}"
    return str(getattr(node, "name", node))


def _print_dataset(view: DatasetView) -> None:
    console = Console()
    console.print(
        f"[bold]{view.id.name}[/] ({view.kind.value}) in {view.id.namespace}", highlight=False
    )
    if view.description:
        console.print(view.description, highlight=False)
    for label, values in (("owners", view.owners), ("tags", view.tags), ("tests", view.tests)):
        if values:
            console.print(f"{label}: {', '.join(values)}", highlight=False)
    if view.contract_enforced:
        console.print("contract: enforced (columns and types as documented)", highlight=False)
    if view.freshness is not None:
        fresh = view.freshness
        limits = ", ".join(f"{word} after {value}" for word, value in
                           (("warn", fresh.warn_after), ("error", fresh.error_after)) if value)
        console.print(f"freshness: {fresh.loaded_at_field or 'loaded-at column unknown'}"
                      + (f" ({limits})" if limits else ""), highlight=False)  # fmt: skip
    # Column marks (dbt column meta and tags) belong to the columns, not the meta line.
    from lineage.contracts import DBT_COLUMNS_KEY

    meta = redact_mapping({k: v for k, v in view.meta.items() if k != DBT_COLUMNS_KEY})
    if meta:  # a meta key may name a secret: masked above
        shown = ", ".join(f"{k}={v}" for k, v in sorted(meta.items()))
        console.print(f"meta: {shown}", highlight=False, soft_wrap=True)
    if view.source_file:
        console.print(f"source: {view.source_file}", highlight=False)
    table = Table(title="columns", title_justify="left")
    for heading in ("column", "type", "description", "tests", "comes from"):
        table.add_column(heading)
    for column in view.columns:
        table.add_row(
            column.name,
            column.type or "",
            column.description or "",
            ", ".join(column.tests),
            ", ".join(column.upstream),
        )
    console.print(table)
    for label, datasets in (("upstream", view.upstream), ("downstream", view.downstream)):
        names = [d.name for d in datasets]
        console.print(f"{label}: {', '.join(names) if names else '-'}", highlight=False)
    if view.jobs:
        console.print(f"written by: {', '.join(view.jobs)}", highlight=False)
