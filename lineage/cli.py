"""The ``lineage`` command: the composition root that wires parsers and connectors.

Each command is a few lines over a facade (``lineage.scan``) that the Python API uses
too. ``main()`` turns a ``LineageError`` into one red line and exit code 1; the
traceback only with ``--debug``.
"""

from __future__ import annotations

import json
import sys
from enum import Enum
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from lineage.errors import LineageError
from lineage.model import ScriptLineage, StatementLineage, Transformation
from lineage.scan import ScanOptions, collect_sql_files, load_schema_file, scan_sql

__all__ = ["app", "main"]

app = typer.Typer(
    name="lineage",
    help="Silverline: column-level lineage, catalog and docs for data pipelines.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
_stderr = Console(stderr=True)
_state = {"debug": False}


class OutputFormat(str, Enum):
    json = "json"
    table = "table"


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
        typer.Argument(help="SQL files, folders (every *.sql below) or - for stdin."),
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
        bool, typer.Option("--strict", help="Exit 1 if any statement failed to parse.")
    ] = False,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, help="Worker processes.")] = 1,
) -> None:
    """Parse SQL into column-level lineage (OpenLineage ColumnLineageDatasetFacet)."""
    options = ScanOptions(
        dialect=dialect,
        schema=load_schema_file(schema) if schema else None,
        default_database=default_database,
        default_schema=default_schema,
        namespace=namespace,
    )
    targets = paths or ["-"]
    files = collect_sql_files(targets)
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=_stderr,
        transient=True,
        disable=len(files) < 2,
    ) as progress:
        task = progress.add_task("scanning SQL", total=len(files))
        result = scan_sql(
            targets, options, jobs=jobs, on_file_done=lambda _name: progress.advance(task)
        )
    if output_format is OutputFormat.json:
        sys.stdout.write(json.dumps(result.to_dict(), indent=2) + "\n")
    else:
        _print_table(result)
    failed = [s for s in result.statements if s.errors]
    for statement in failed:
        for issue in statement.errors:
            where = f"{statement.file or '<sql>'}:{issue.line or '?'}:{issue.column or '?'}"
            _stderr.print(
                f"[yellow]{where}[/] statement {statement.index}: {issue.message}",
                highlight=False,
                soft_wrap=True,
            )
    if strict and failed:
        raise typer.Exit(1)


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
