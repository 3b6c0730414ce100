"""The ``lineage`` command: the composition root that wires parsers and connectors.

Each command is a few lines over a facade (``parsers.sql.files``) that the Python API uses
too. ``main()`` turns a ``LineageError`` into one red line and exit code 1; the
traceback only with ``--debug``.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from lineage.cli.events import register as register_event_commands
from lineage.cli.push import register as register_push_commands
from lineage.errors import LineageError
from lineage.graph import Impact
from lineage.model import ColumnId, LineageBatch, ScriptLineage, StatementLineage, Transformation
from lineage.views import describe_dataset
from lineage.workspace import ScanReport, Workspace
from parsers.sql.files import STDIN, collect_sql_files

__all__ = ["app", "main"]

app = typer.Typer(
    name="lineage",
    help="Silverline: column-level lineage, catalog and docs for data pipelines.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
register_event_commands(app)
register_push_commands(app)
_stderr = Console(stderr=True)
_state = {"debug": False}


class OutputFormat(str, Enum):
    json = "json"
    table = "table"


class GraphFormat(str, Enum):
    table = "table"
    json = "json"
    mermaid = "mermaid"


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    _state["debug"] = debug


@app.command(
    epilog="Example: lineage scan models/ --dialect redshift --schema schema.yml --format table"
)
def scan(
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            help="SQL files, folders (every *.sql below), dbt project folders, or - for stdin. "
            "Default: sql.paths and dbt.project from lineage.yml, else stdin."
        ),
    ] = None,
    dialect: Annotated[
        str | None, typer.Option("--dialect", "-d", help="SQL dialect (redshift, snowflake, ...).")
    ] = None,
    schema: Annotated[
        str | None,
        typer.Option("--schema", help='JSON/YAML file: {"db.schema.table": {column: type}}.'),
    ] = None,
    default_database: Annotated[
        str | None, typer.Option("--default-database", help="Database for unqualified names.")
    ] = None,
    default_schema: Annotated[
        str | None, typer.Option("--default-schema", help="Schema for unqualified names.")
    ] = None,
    namespace: Annotated[
        str | None,
        typer.Option("--namespace", help="OpenLineage namespace (default: the dialect)."),
    ] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="json (one document) or table.")
    ] = OutputFormat.json,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 1 if any statement or model failed.")
    ] = False,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, help="Worker processes.")] = 1,
    catalog: Annotated[
        str | None,
        typer.Option(
            "--catalog",
            help="Catalog URL (default: lineage.yml, "
            "$LINEAGE_CATALOG_URL, or .lineage/catalog.db).",
        ),
    ] = None,
    no_catalog: Annotated[
        bool, typer.Option("--no-catalog", help="Only print the lineage; write nothing.")
    ] = False,
) -> None:
    """Parse SQL and dbt projects into column-level lineage and record it in the catalog."""
    workspace = Workspace.open(catalog_url=catalog)
    options = workspace.scan_options(
        dialect=dialect,
        schema_file=schema,
        default_database=default_database,
        default_schema=default_schema,
        namespace=namespace,
    )
    targets = paths or []
    if not targets and not workspace.config.sql_paths and workspace.config.dbt_project is None:
        targets = [STDIN]
    files = collect_sql_files([t for t in targets if not _is_dbt_dir(t)]) if targets else []
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=_stderr,
        transient=True,
        disable=len(files) < 2,
    ) as progress:
        task = progress.add_task("scanning", total=len(files) or None)
        try:
            report = workspace.scan(
                targets,
                options,
                jobs=jobs,
                write=not no_catalog and targets != [STDIN],
                on_file_done=lambda _name: progress.advance(task),
            )
        finally:
            workspace.close()
    if output_format is OutputFormat.json:
        doc = report.scripts.to_dict()
        if report.summaries:
            doc["catalog"] = {
                "url": workspace.catalog_url_display,
                "writes": [asdict(summary) for summary in report.summaries],
            }
        dbt_batches = report.batches[1:] if report.scripts.statements else report.batches
        if dbt_batches:
            doc["dbt"] = [_batch_summary(report, b) for b in dbt_batches]
        sys.stdout.write(json.dumps(doc, indent=2, default=str) + "\n")
    else:
        _print_table(report.scripts)
        _print_summaries(report)
    issues = report.issues
    for issue in issues:
        _stderr.print(f"[yellow]{issue}[/]", highlight=False, soft_wrap=True)
    if strict and issues:
        raise typer.Exit(1)


@app.command(epilog="Example: lineage impact bronze.erp_cust_az12.cid --format mermaid")
def impact(
    target: Annotated[str, typer.Argument(help="DATASET or DATASET.COLUMN (a name suffix works).")],
    upstream: Annotated[
        bool, typer.Option("--upstream", help="What it comes from instead of what it feeds.")
    ] = False,
    depth: Annotated[int | None, typer.Option("--depth", min=1, help="Hops to follow.")] = None,
    output_format: Annotated[
        GraphFormat, typer.Option("--format", "-f", help="table, json or mermaid.")
    ] = GraphFormat.table,
    catalog: Annotated[str | None, typer.Option("--catalog", help="Catalog URL.")] = None,
) -> None:
    """What breaks if a column or dataset changes: every downstream column, dataset, job
    and owner, with the path and whether each hop is DIRECT or INDIRECT."""
    workspace = Workspace.open(catalog_url=catalog)
    try:
        node = workspace.resolve(target)
        result = workspace.graph().impact(node, depth=depth, upstream=upstream)
    finally:
        workspace.close()
    if output_format is GraphFormat.json:
        sys.stdout.write(result.to_json() + "\n")
    elif output_format is GraphFormat.mermaid:
        sys.stdout.write(result.to_mermaid())
    else:
        _print_impact(result)


@app.command(epilog="Example: lineage show silver.erp_customers")
def show(
    target: Annotated[str, typer.Argument(help="A dataset name (a suffix works).")],
    output_format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="table or json.")
    ] = OutputFormat.table,
    catalog: Annotated[str | None, typer.Option("--catalog", help="Catalog URL.")] = None,
) -> None:
    """A dataset's schema, descriptions, owners, tests, and its upstream and downstream."""
    workspace = Workspace.open(catalog_url=catalog)
    try:
        node = workspace.resolve(target)
        dataset_id = node.dataset if isinstance(node, ColumnId) else node
        graph = workspace.graph()
        info = describe_dataset(workspace.catalog, graph, dataset_id)
    finally:
        workspace.close()
    if output_format is OutputFormat.json:
        sys.stdout.write(json.dumps(info, indent=2, default=str) + "\n")
    else:
        _print_dataset(info)


def _print_table(result: ScriptLineage) -> None:
    console = Console()
    for statement in result.statements:
        console.print(_statement_table(statement))


def _statement_table(statement: StatementLineage) -> Table:
    outputs = ", ".join(d.name for d in statement.outputs) or "(result)"
    title = (
        f"{statement.file or '<sql>'}:{statement.line or '?'} #{statement.index} "
        f"{statement.kind.value} -> {outputs}  (confidence {statement.confidence})"
    )
    table = Table(title=title, title_justify="left", show_lines=False)
    table.add_column("output column", style="bold")
    table.add_column("input")
    table.add_column("transformation")
    for lineage in statement.column_lineage:
        prefix = (
            ""
            if len(statement.column_lineage) == 1 or lineage.output is None
            else (f"{lineage.output.name}.")
        )
        for name, inputs in lineage.fields:
            if not inputs:
                table.add_row(prefix + name, "-", "")
            for i, field in enumerate(inputs):
                table.add_row(
                    prefix + name if i == 0 else "",
                    f"{field.dataset.name}.{field.field}",
                    ", ".join(_describe(t) for t in field.transformations),
                )
        for field in lineage.dataset:
            table.add_row(
                "[dim](all rows)[/]",
                f"{field.dataset.name}.{field.field}",
                ", ".join(_describe(t) for t in field.transformations),
            )
    for warning in statement.warnings:
        table.add_row("[yellow]warning[/]", warning.message, "")
    for issue in statement.errors:
        table.add_row(
            "[red]error[/]", f"line {issue.line}, column {issue.column}: {issue.message}", ""
        )
    return table


def _is_dbt_dir(target: str) -> bool:
    path = Path(target)
    return target != STDIN and path.is_dir() and (path / "dbt_project.yml").is_file()


def _batch_summary(report: ScanReport, batch: LineageBatch) -> dict[str, object]:
    datasets, jobs, edges = report.size(batch)
    return {
        "datasets": datasets,
        "jobs": jobs,
        "edges": edges,
        "issues": [issue.to_dict() for issue in batch.issues],
    }


def _print_summaries(report: ScanReport) -> None:
    console = Console()
    for batch, summary in zip(report.batches, report.summaries, strict=False):
        datasets, jobs, edges = report.size(batch)
        console.print(
            f"{jobs} jobs, {datasets} datasets, {edges} column "
            f"edges; catalog: +{summary.jobs_added} jobs, {summary.jobs_changed} changed, "
            f"{summary.jobs_unchanged} unchanged, +{summary.edges_added}/-{summary.edges_removed} "
            f"edges, +{summary.schema_versions_added} schema versions",
            highlight=False,
        )


def _print_impact(result: Impact) -> None:
    console = Console()
    direction = "upstream of" if result.upstream else "downstream of"
    table = Table(title=f"{direction} {_node_label(result.root)}", title_justify="left")
    for column in ("column / dataset", "hops", "type", "via jobs", "owners"):
        table.add_column(column)
    for entry in (*result.columns, *result.datasets):
        table.add_row(
            entry.to_dict()["node"] + ("" if isinstance(entry.node, ColumnId) else " (dataset)"),
            str(entry.distance),
            "DIRECT" if entry.direct else "INDIRECT",
            ", ".join(entry.jobs),
            ", ".join(entry.owners),
        )
    console.print(table)
    if not result.columns and not result.datasets:
        console.print("nothing found", style="dim")
    elif result.owners:
        console.print(f"owners to tell: {', '.join(result.owners)}", highlight=False)


def _node_label(node: object) -> str:
    if isinstance(node, ColumnId):
        return f"{node.dataset.name}.{node.name}"
    return str(getattr(node, "name", node))


def _print_dataset(info: dict[str, Any]) -> None:
    console = Console()
    console.print(
        f"[bold]{info['name']}[/] ({info['kind']}) in {info['namespace']}", highlight=False
    )
    if info.get("description"):
        console.print(info["description"], highlight=False)
    for label in ("owners", "tags"):
        if info.get(label):
            console.print(f"{label}: {', '.join(info[label])}", highlight=False)
    table = Table(title="columns", title_justify="left")
    for column in ("column", "type", "description", "tests", "comes from"):
        table.add_column(column)
    for column in info["columns"]:
        table.add_row(
            column["name"],
            column.get("type") or "",
            column.get("description") or "",
            ", ".join(column.get("tests", [])),
            ", ".join(column.get("upstream", [])),
        )
    console.print(table)
    for label in ("upstream", "downstream"):
        names = [d["name"] for d in info[label]]
        console.print(f"{label}: {', '.join(names) if names else '-'}", highlight=False)
    if info.get("jobs"):
        console.print(f"written by: {', '.join(info['jobs'])}", highlight=False)


def _describe(transformation: Transformation) -> str:
    text = f"{transformation.type.value}/{transformation.subtype.value}"
    return text + " (masking)" if transformation.masking else text


def main() -> None:
    """Entry point of the ``lineage`` console script."""
    try:
        # Without standalone mode click returns typer.Exit's code instead of exiting.
        code = app(standalone_mode=False)
    except LineageError as exc:
        if _state["debug"]:
            raise
        _stderr.print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        _stderr.print("[red]aborted[/]")
        sys.exit(130)
    except Exception as exc:  # click usage errors arrive here with standalone_mode=False
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
