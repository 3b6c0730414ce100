"""``lineage introspect`` and ``lineage profile``: live schemas and figures into the catalog."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from lineage.cli.options import CatalogOption, OutputFormat, print_issues, stderr, write_json
from lineage.model import DatasetId, DatasetProfile, Observation
from lineage.views import DatasetView, LayoutView, ObservedSchema

if TYPE_CHECKING:
    from lineage.catalog import Catalog

__all__ = ["LiveFacts", "introspect", "live_facts", "print_live_facts", "profile", "register"]


def register(app: typer.Typer) -> None:
    """Add ``lineage introspect`` and ``lineage profile`` to ``app``."""
    app.command(
        epilog="Example: lineage introspect postgresql+psycopg://etl@db:5432/dwh --schema bronze"
    )(introspect)
    app.command(epilog="Example: lineage profile bronze.erp_cust_az12 --format json")(profile)


FormatOption = Annotated[
    OutputFormat, typer.Option("--format", "-f", help="table or json (one document).")
]
TimeoutOption = Annotated[
    float | None,
    typer.Option("--statement-timeout", help="Seconds per query (warehouse.statement_timeout)."),
]


def introspect(
    sources: Annotated[
        list[str] | None,
        typer.Argument(
            help="SQLAlchemy URLs (password from $LINEAGE_WAREHOUSE_PASSWORD), bronze folders "
            "or s3:// prefixes. Default: warehouse.url and files of lineage.yml."
        ),
    ] = None,
    schema: Annotated[
        list[str] | None, typer.Option("--schema", "-s", help="Only these schemas (repeat).")
    ] = None,
    include: Annotated[
        list[str] | None, typer.Option("--include", help="Only schema.table matching (glob).")
    ] = None,
    exclude: Annotated[
        list[str] | None, typer.Option("--exclude", help="Skip schema.table matching (glob).")
    ] = None,
    statement_timeout: TimeoutOption = None,
    output_format: FormatOption = OutputFormat.table,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict", help="Exit 1 on a failed table too (an unreadable source always does)."
        ),
    ] = False,
    catalog: CatalogOption = None,
) -> None:
    """Record what warehouses and bronze folders hold now: tables, views and their SQL,
    columns with types, nullability, defaults, comments and keys; partitions and files.

    An unchanged source records nothing; a changed table adds a schema version.
    """
    from lineage.workspace import Workspace

    workspace = Workspace.open(catalog_url=catalog)
    try:
        with stderr.status("introspecting"):  # a spinner on a terminal, silent otherwise
            report = workspace.introspect(
                sources or (), schemas=schema or (), include=include or (),
                exclude=exclude or (), statement_timeout=statement_timeout,
            )  # fmt: skip
    finally:
        workspace.close()
    issues = report.issues
    if output_format is OutputFormat.json:
        write_json(
            {
                "sources": [
                    _source_dict(observed_by, observation, summary.schema_versions_added)
                    for (observed_by, observation), summary in zip(
                        report.observations, report.summaries, strict=True
                    )
                ],
                "views_with_lineage": report.views_with_lineage,
                "findings": [f.to_dict() for f in report.findings],
                "issues": [str(i) for i in issues],
            }
        )
    else:
        console = Console()
        table = Table(title="introspected", title_justify="left")
        for heading in ("source", "tables", "views", "files", "new schema versions", "issues"):
            table.add_column(heading)
        for (observed_by, observation), summary in zip(
            report.observations, report.summaries, strict=True
        ):
            views = sum(1 for t in observation.tables if t.definition is not None)
            files = sum(t.layout.file_count for t in observation.tables if t.layout)
            table.add_row(
                observed_by, str(len(observation.tables)), str(views), str(files),
                str(summary.schema_versions_added), str(len(observation.issues)),
            )  # fmt: skip
        console.print(table)
        for finding in report.findings:
            console.print(
                f"[yellow]{finding.severity.value}[/] "
                f"{escape(f'{finding.dataset.name}: {finding.message}')}",
                highlight=False, soft_wrap=True,
            )  # fmt: skip
        print_issues(issues)
    # A source that could not be read at all (no driver, refused, not found) fails the
    # command once the others are recorded; a bad table of a readable one only with --strict.
    if report.failures or (strict and issues):
        raise typer.Exit(1)


def profile(
    datasets: Annotated[
        list[str] | None,
        typer.Argument(help="Datasets (a suffix works). Default: every introspected one."),
    ] = None,
    sample_above: Annotated[
        int | None,
        typer.Option(
            "--sample-above",
            help="Sample tables above this many rows (row counts stay exact; "
            "warehouse.sample_above_rows).",
        ),
    ] = None,
    statement_timeout: TimeoutOption = None,
    output_format: FormatOption = OutputFormat.table,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 1 when any dataset could not be profiled.")
    ] = False,
    catalog: CatalogOption = None,
) -> None:
    """Row count, nulls, distinct values, min/max and freshness per column, in one scan per
    table, into the catalog's metric history."""
    from lineage.workspace import Workspace

    workspace = Workspace.open(catalog_url=catalog)
    try:
        with stderr.status("profiling"):
            report = workspace.profile(
                datasets or (), sample_above_rows=sample_above,
                statement_timeout=statement_timeout,
            )  # fmt: skip
    finally:
        workspace.close()
    if output_format is OutputFormat.json:
        write_json(
            {
                "profiles": [profile_dict(p) for p in report.profiles],
                "issues": [str(i) for i in report.issues],
            }
        )
    else:
        console = Console()
        for found in report.profiles:
            _print_profile(console, found)
        print_issues(report.issues)
    if strict and report.issues:
        raise typer.Exit(1)


def _source_dict(observed_by: str, observation: Observation, added: int) -> dict[str, Any]:
    return {
        "observed_by": observed_by,
        "tables": [{"dataset": t.id.to_dict(), **t.schema_facts()} for t in observation.tables],
        "layouts": {
            str(t.id): t.layout.to_dict() for t in observation.tables if t.layout is not None
        },
        "schema_versions_added": added,
    }


def profile_dict(found: DatasetProfile) -> dict[str, Any]:
    """A profile as JSON: dataset figures, then one entry per column."""
    columns: dict[str, dict[str, Any]] = {}
    for metric in found.metrics:
        if metric.column is not None:
            columns.setdefault(metric.column, {})[metric.name] = metric.value
    for column, low, high in found.bounds:
        columns.setdefault(column, {}).update({"min": low, "max": high})
    return {
        "dataset": found.dataset.to_dict(),
        "observed_at": found.observed_at.isoformat(),
        "row_count": found.metric("row_count"),
        "sampled_rows": found.sampled_rows,
        "columns": columns,
    }


def _print_profile(console: Console, found: DatasetProfile) -> None:
    doc = profile_dict(found)
    rows = doc["row_count"]
    sampled = f", sampled {found.sampled_rows:,} rows" if found.sampled_rows else ""
    console.print(
        f"[bold]{found.dataset.name}[/]: {int(rows) if rows is not None else '?':,} rows{sampled}",
        highlight=False,
    )
    table = Table(show_edge=False)
    for heading in ("column", "nulls", "null rate", "distinct", "min", "max", "last loaded"):
        table.add_column(heading)
    for column, figures in doc["columns"].items():
        table.add_row(
            column,
            _number(figures.get("null_count")),
            f"{figures['null_rate']:.1%}" if figures.get("null_rate") is not None else "",
            _number(figures.get("distinct_count")),
            _text(figures.get("min")),
            _text(figures.get("max")),
            _epoch(figures.get("last_loaded_at")),
        )
    console.print(table)


def _number(value: float | None) -> str:
    return "" if value is None else f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


def _text(value: Any) -> str:
    if value is None:
        return ""
    return _number(value) if isinstance(value, float) else str(value)


def _epoch(value: float | None) -> str:
    if value is None:
        return ""
    from datetime import datetime, timezone

    return datetime.fromtimestamp(value, timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class LiveFacts:
    """What ``lineage show`` adds about a dataset from its live observations."""

    live: ObservedSchema | None
    layout: LayoutView | None
    profile: DatasetProfile | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "live_schema": None if self.live is None else self.live.to_dict(),
            "layout": None if self.layout is None else self.layout.to_dict(),
            "profile": None if self.profile is None else profile_dict(self.profile),
        }


def live_facts(catalog: Catalog, dataset: DatasetId) -> LiveFacts:
    return LiveFacts(
        catalog.live_schema(dataset), catalog.layout(dataset), catalog.latest_profile(dataset)
    )


def print_live_facts(console: Console, view: DatasetView, facts: LiveFacts) -> None:
    """The live schema beside the documented one, the layout, the latest profile."""
    if facts.live is not None:
        live = facts.live
        documented = {c.name.lower(): c for c in view.columns}
        table = Table(
            title=f"live schema (version {live.version}, {live.observed_by}, "
            f"{live.observed_at:%Y-%m-%d %H:%M} UTC)",
            title_justify="left",
        )
        for heading in ("column", "live type", "nullable", "default", "documented type", "note"):
            table.add_column(heading)
        for column in live.table.columns:
            doc = documented.pop(column.name.lower(), None)
            note = "not documented" if doc is None else ""
            if doc is not None and doc.type and column.type and doc.type != column.type:
                note = "types differ"
            table.add_row(
                column.name + (" (partition)" if column.partition else "")
                + (" (key)" if column.primary_key else ""),
                column.type or "", "" if column.nullable is None else
                ("yes" if column.nullable else "no"), column.default or "",
                "" if doc is None else doc.type or "", note,
            )  # fmt: skip
        for doc in documented.values():
            table.add_row(doc.name, "", "", "", doc.type or "", "missing in the live schema")
        console.print(table)
        if live.table.comment:
            console.print(f"comment: {live.table.comment}", highlight=False)
    if facts.layout is not None:
        layout = facts.layout.layout
        table = Table(
            title=f"files ({layout.format}, {layout.root}): {layout.file_count:,} files, "
            f"{layout.total_bytes:,} bytes",
            title_justify="left",
        )
        for heading in ("partition", "files", "bytes", "rows", "smallest", "largest"):
            table.add_column(heading)
        for part in layout.partitions:
            table.add_row(
                part.path or "(none)", f"{part.file_count:,}", f"{part.total_bytes:,}",
                "" if part.row_count is None else f"{part.row_count:,}",
                f"{part.smallest_file_bytes:,}", f"{part.largest_file_bytes:,}",
            )  # fmt: skip
        console.print(table)
        for finding in facts.layout.findings:
            console.print(f"[yellow]{finding.severity.value}[/] {escape(finding.message)}",
                          highlight=False, soft_wrap=True)  # fmt: skip
    if facts.profile is not None:
        _print_profile(console, facts.profile)
