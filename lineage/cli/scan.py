"""``lineage scan``: SQL files, folders and dbt projects into column lineage and the catalog."""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from lineage.cli.options import (
    CatalogOption,
    OutputFormat,
    print_issues,
    require_paths,
    stderr,
    write_json,
)
from lineage.cli.tables import RICH_ROWS, Cell, print_rows
from lineage.errors import InputError
from lineage.model import (
    ColumnEdge,
    Job,
    LineageBatch,
    StatementLineage,
    Transformation,
)
from lineage.model.memory import building_acyclic

if TYPE_CHECKING:
    from lineage.workspace import ScanReport, Workspace
    from parsers.sql.options import ScanOptions

__all__ = ["register", "scan"]


def register(app: typer.Typer) -> None:
    """Add ``lineage scan`` to ``app``."""
    app.command(
        epilog="Example: lineage scan models/ --dialect redshift --schema schema.yml --format table"
    )(scan)


def scan(
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            help="SQL files, folders (every *.sql below), dbt project folders, or - for stdin. "
            "Default: sql.paths and dbt.project from lineage.yml."
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
    max_depth: Annotated[
        int | None,
        typer.Option("--max-depth", min=1, help="Nesting beyond which a statement is an error "
                     "(sql.max_depth; default 200)."),
    ] = None,
    max_statement_bytes: Annotated[
        int | None,
        typer.Option("--max-statement-bytes", min=1, help="Size beyond which a statement is "
                     "an error (sql.max_statement_bytes; default 1 MB)."),
    ] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="json (one document) or table.")
    ] = OutputFormat.json,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 1 if any statement or model failed.")
    ] = False,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, help="Worker processes.")] = 1,
    catalog: CatalogOption = None,
    no_catalog: Annotated[
        bool, typer.Option("--no-catalog", help="Only print the lineage; write nothing.")
    ] = False,
) -> None:
    """Parse SQL and dbt projects into column-level lineage and record it in the catalog."""
    require_paths(paths or ())
    from lineage.workspace import Workspace

    workspace = Workspace.open(catalog_url=catalog)
    options = workspace.scan_options(
        dialect=dialect,
        schema_file=schema,
        default_database=default_database,
        default_schema=default_schema,
        namespace=namespace,
    )
    if max_depth is not None:
        options = replace(options, max_depth=max_depth)
    if max_statement_bytes is not None:
        options = replace(options, max_statement_bytes=max_statement_bytes)
    targets = paths or []
    if not targets and not workspace.config.sql_paths and workspace.config.dbt_project is None:
        workspace.close()
        # Never a silent wait on the terminal: stdin is read only when asked for with -.
        raise InputError(
            "nothing to scan: give SQL files, folders or dbt projects (lineage scan models/), "
            "- to read SQL from stdin, or set sql.paths / dbt.project in lineage.yml"
        )
    # A table shows each dbt model's lineage, so the project is read even when the catalog
    # holds this exact scan; JSON gives it whenever the project was read.
    report = _scan_with_progress(workspace, targets, options, jobs, write=not no_catalog,
                                 lineage=output_format is OutputFormat.table)  # fmt: skip
    if output_format is OutputFormat.json:
        with building_acyclic():  # a large project's document: millions of small objects
            write_json(_scan_document(report, workspace.catalog_url_display))
    else:
        statements = [_statement_table(s) for s in report.scripts.statements]
        _print_lineage_tables([*statements, *_dbt_tables(report)])
        _print_summaries(report)
    print_issues(report.issues)
    if strict and report.issues:
        raise typer.Exit(1)


def _scan_with_progress(
    workspace: Workspace,
    targets: list[str],
    options: ScanOptions,
    jobs: int,
    *,
    write: bool,
    lineage: bool = False,
) -> ScanReport:
    from parsers.dbt import is_dbt_project  # the dbt reader loads only when a scan runs
    from parsers.sql.options import STDIN, collect_sql_files

    sql_targets = [t for t in targets if t == STDIN or not is_dbt_project(t)]
    files = collect_sql_files(sql_targets) if targets else []
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=stderr,
        transient=True,
        disable=len(files) < 2,
    ) as progress:
        task = progress.add_task("scanning", total=len(files) or None)
        try:
            return workspace.scan(
                targets,
                options,
                jobs=jobs,
                write=write and targets != [STDIN],
                on_file_done=lambda _name: progress.advance(task),
                lineage=lineage,
            )
        finally:
            workspace.close()


def _scan_document(report: ScanReport, catalog_url: str) -> dict[str, Any]:
    doc = report.scripts.to_dict()
    if report.summaries:
        doc["catalog"] = {
            "url": catalog_url,
            "writes": [asdict(summary) for summary in report.summaries],
        }
    dbt_batches = report.batches[1:] if report.scripts.statements else report.batches
    if dbt_batches:
        doc["dbt"] = [_batch_summary(report, b) for b in dbt_batches]
    return doc


_LINEAGE_HEADINGS = ("output column", "input", "transformation")
_ALL_ROWS = Text("(all rows)", style="dim")
_Titled = tuple[str, list[tuple[Cell, ...]]]


def _print_lineage_tables(tables: list[_Titled]) -> None:
    """Each statement's or model's table; all plain when together they are long (a
    large project's scan: rich drew 2,000 models' tables in 52 s)."""
    console = Console()
    plain = sum(len(rows) for _, rows in tables) > RICH_ROWS
    for index, (title, rows) in enumerate(tables):
        if plain and index:
            console.file.write("\n")
        print_rows(console, title, _LINEAGE_HEADINGS, rows, plain=plain)


def _statement_table(statement: StatementLineage) -> _Titled:
    outputs = ", ".join(d.name for d in statement.outputs) or "(result)"
    title = (
        f"{statement.file or '<sql>'}:{statement.line or '?'} #{statement.index} "
        f"{statement.kind.value} -> {outputs}  (confidence {statement.confidence})"
    )
    rows: list[tuple[Cell, ...]] = []
    for lineage in statement.column_lineage:
        prefix = (
            ""
            if len(statement.column_lineage) == 1 or lineage.output is None
            else (f"{lineage.output.name}.")
        )
        for name, inputs in lineage.fields:
            if not inputs:
                rows.append((Text(prefix + name, style="bold"), "-", ""))
            for i, field in enumerate(inputs):
                rows.append((
                    Text(prefix + name if i == 0 else "", style="bold"),
                    f"{field.dataset.name}.{field.field}",
                    ", ".join(_describe(t) for t in field.transformations),
                ))  # fmt: skip
        for field in lineage.dataset:
            rows.append((_ALL_ROWS, f"{field.dataset.name}.{field.field}",
                         ", ".join(_describe(t) for t in field.transformations)))  # fmt: skip
    for warning in statement.warnings:
        rows.append((Text("warning", style="yellow"), warning.message, ""))
    for issue in statement.errors:
        rows.append((Text("error", style="red"),
                     f"line {issue.line}, column {issue.column}: {issue.message}", ""))  # fmt: skip
    return title, rows


def _batch_summary(report: ScanReport, batch: LineageBatch) -> dict[str, object]:
    datasets, jobs, edges = report.size(batch)
    return {
        "datasets": datasets,
        "jobs": jobs,
        "edges": edges,
        # None: the catalog already held this exact scan, so the project was not read again.
        "lineage": _jobs_lineage(batch) if batch.jobs or not jobs else None,
        "issues": [issue.to_dict() for issue in batch.issues],
    }


def _jobs_lineage(batch: LineageBatch) -> list[dict[str, Any]]:
    """Every job's lineage (``_job_lineage``), by job name, over one pass of the edges:
    looking each job's edges up in all of them is quadratic (2,000 models: 21 s)."""
    by_job: dict[str | None, list[ColumnEdge]] = {}
    for edge in batch.edges:
        by_job.setdefault(edge.job, []).append(edge)
    # The edges share a few transformation tuples (one object each, from the parser or the
    # cache): each is turned into dicts once.
    shown: dict[int, list[dict[str, Any]]] = {}
    return [_job_lineage(job, by_job.get(job.name, []), shown) for job in
            sorted(batch.jobs, key=lambda j: j.name)]  # fmt: skip


def _job_lineage(
    job: Job, edges: list[ColumnEdge], shown: dict[int, list[dict[str, Any]]]
) -> dict[str, Any]:
    """A dbt model's lineage as a SQL statement's reads: its outputs' columns and inputs.
    ``shown``: transformation dicts by the id of their tuple (alive in the batch)."""
    columns: dict[str, list[dict[str, Any]]] = {}
    rows: list[dict[str, Any]] = []
    for edge in edges:
        how = shown.get(id(edge.transformations))
        if how is None:
            how = shown[id(edge.transformations)] = [t.to_dict() for t in edge.transformations]
        entry = {
            "namespace": edge.source.dataset.namespace,
            "name": edge.source.dataset.name,
            "field": edge.source.name,
            "transformations": how,
        }
        if edge.target_field is None:
            rows.append(entry)
        else:
            columns.setdefault(edge.target_field, []).append(entry)
    return {
        "job": job.name,
        "inputs": [d.to_dict() for d in job.inputs],
        "outputs": [d.to_dict() for d in job.outputs],
        "fields": columns,
        "dataset": rows,
    }


def _dbt_tables(report: ScanReport) -> list[_Titled]:
    tables: list[_Titled] = []
    # The first batch is the SQL files' (printed statement by statement) when there were any.
    for batch in report.batches[1:] if report.scripts.statements else report.batches:
        for job, doc in zip(sorted(batch.jobs, key=lambda j: j.name), _jobs_lineage(batch),
                            strict=True):  # fmt: skip
            outputs = ", ".join(d.name for d in job.outputs) or "-"
            rows: list[tuple[Cell, ...]] = []
            for column, inputs in doc["fields"].items():
                for i, field in enumerate(inputs):
                    rows.append((column if i == 0 else "", f"{field['name']}.{field['field']}",
                                 ", ".join(f"{t['type']}/{t['subtype']}"
                                           for t in field["transformations"])))  # fmt: skip
            for field in doc["dataset"]:
                rows.append((_ALL_ROWS, f"{field['name']}.{field['field']}",
                             ", ".join(f"{t['type']}/{t['subtype']}"
                                       for t in field["transformations"])))  # fmt: skip
            tables.append((f"{job.source_file or job.name} -> {outputs}", rows))
    return tables


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


def _describe(transformation: Transformation) -> str:
    text = f"{transformation.type.value}/{transformation.subtype.value}"
    return text + " (masking)" if transformation.masking else text
