"""``lineage drift``: the published (or contracted, or catalogued) schemas against what the
warehouse, the files or the events hold now, with who each change breaks."""

from __future__ import annotations

import sys
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from lineage.cli.options import CatalogOption, print_issues, write_json

if TYPE_CHECKING:  # the drift engine loads when a command runs, not for --help
    from lineage.drift import DriftReport, DriftSeverity

__all__ = ["DriftFormat", "FailOn", "drift", "print_table", "register"]


class FailOn(str, Enum):
    breaking = "breaking"
    warning = "warning"
    any = "any"

    @property
    def threshold(self) -> DriftSeverity:
        from lineage.drift import DriftSeverity

        return {FailOn.breaking: DriftSeverity.BREAKING, FailOn.warning: DriftSeverity.WARNING,
                FailOn.any: DriftSeverity.INFO}[self]  # fmt: skip


class DriftFormat(str, Enum):
    table = "table"
    json = "json"
    markdown = "markdown"
    github = "github"


def register(app: typer.Typer) -> None:
    """Add ``lineage drift`` to ``app``."""
    app.command(
        epilog="Example: lineage drift --baseline site/ --fail-on breaking --format github"
    )(drift)


_STYLE = {"breaking": "bold red", "warning": "yellow", "info": "dim"}  # by severity value


def drift(
    baseline: Annotated[
        str | None,
        typer.Option(
            "--baseline", "-b",
            help="A docs site folder or its schema.json (path or http(s) URL), 'contracts' "
            "or 'catalog'. Default: <docs.output>/schema.json, else contracts/, else catalog.",
        ),
    ] = None,
    against: Annotated[
        str,
        typer.Option(
            "--against", "-a",
            help="'warehouse' (live schemas from the last introspection), 'events' "
            "(ingested OpenLineage schemas) or a second schema.json (path or URL).",
        ),
    ] = "warehouse",
    fail_on: Annotated[
        FailOn | None,
        typer.Option("--fail-on", help="Exit 1 when a finding is this grade or worse."),
    ] = None,
    output_format: Annotated[
        DriftFormat,
        typer.Option("--format", "-f",
                     help="table, json, markdown (a PR comment) or github (annotations)."),
    ] = DriftFormat.table,
    introspect: Annotated[
        bool,
        typer.Option("--introspect",
                     help="Introspect the configured warehouse and files first (then a "
                     "dropped table is reported as removed)."),
    ] = False,
    record: Annotated[
        bool, typer.Option("--record/--no-record", help="Store the findings in the catalog.")
    ] = True,
    catalog: CatalogOption = None,
) -> None:  # fmt: skip
    """Compare the baseline schemas with the observed ones: columns added, removed or
    renamed, types widened or narrowed, nullability, defaults, partitions, order, broken
    contract constraints; each with the downstream columns, jobs and owners it reaches."""
    from lineage.drift import to_github, to_markdown
    from lineage.workspace import Workspace
    from lineage.workspace.drift import run_drift

    workspace = Workspace.open(catalog_url=catalog)
    try:
        outcome = run_drift(workspace.catalog, workspace.config, baseline=baseline,
                            against=against, introspect=introspect, record=record)  # fmt: skip
    finally:
        workspace.close()
    report = outcome.report
    if output_format is DriftFormat.json:
        write_json({**report.to_dict(), "run_id": outcome.run_id})
    elif output_format is DriftFormat.markdown:
        sys.stdout.write(to_markdown(report))
    elif output_format is DriftFormat.github:
        sys.stdout.write(to_github(report, outcome.files))
    else:
        print_table(report)
    print_issues(report.issues)
    if fail_on is not None and report.fails(fail_on.threshold):
        raise typer.Exit(1)


def print_table(report: DriftReport) -> None:
    from lineage.drift.render import impact_summary

    console = Console()
    counts = report.counts()
    # The headline as a line of its own: an empty table would wrap it to its own width.
    console.print(f"drift: {escape(report.baseline)} -> {escape(report.observed)} "
                  f"({counts['breaking']} breaking, {counts['warning']} warning, "
                  f"{counts['info']} info)", highlight=False, soft_wrap=True)  # fmt: skip
    if not report.findings:
        return
    table = Table()
    for heading in ("severity", "change", "where", "what", "impact"):
        table.add_column(heading, overflow="fold")
    for f in report.findings:
        where = f.dataset.name + (f".{f.column}" if f.column else "")
        table.add_row(f"[{_STYLE[f.severity.value]}]{f.severity.value}[/]", f.kind, escape(where),
                      escape(f.message), escape(impact_summary(f)))  # fmt: skip
    console.print(table)
