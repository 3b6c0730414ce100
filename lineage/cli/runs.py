"""``lineage runs``: did last night's runs succeed? Status, duration, rows, failing checks."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from lineage.cli.options import CatalogOption, OutputFormat, write_json
from lineage.views import RunRecord, RunState

if TYPE_CHECKING:
    pass

__all__ = ["register", "runs"]


class Status(str, Enum):
    failed = "failed"
    aborted = "aborted"
    complete = "complete"
    running = "running"


_STATES = {
    Status.failed: (RunState.FAIL,),
    Status.aborted: (RunState.ABORT,),
    Status.complete: (RunState.COMPLETE,),
    Status.running: (RunState.START, RunState.RUNNING),
}
_STYLE = {RunState.COMPLETE: "green", RunState.FAIL: "red", RunState.ABORT: "red"}


def register(app: typer.Typer) -> None:
    """Add ``lineage runs`` to ``app``."""
    app.command(epilog="Example: lineage runs --since 1d --status failed")(runs)


def _since(text: str) -> datetime:
    """``--since`` as a moment; a value that is neither is a usage error (exit 2, the usage
    line), raised as the ValueError click turns into one."""
    from lineage.contracts import parse_duration

    try:
        return datetime.now(timezone.utc) - timedelta(seconds=parse_duration(text))
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is neither a duration (12h, 1d, 1w) nor an ISO date") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def runs(
    job: Annotated[str | None, typer.Argument(help="Only the runs of this job.")] = None,
    since: Annotated[
        datetime | None,
        typer.Option(
            "--since",
            parser=_since,
            metavar="DURATION|DATE",
            help="A duration back from now (12h, 1d, 1w) or an ISO date.",
        ),
    ] = None,
    status: Annotated[
        list[Status] | None, typer.Option("--status", help="Only runs in this state (repeat).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many runs.")] = 50,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="table or json (one document).")
    ] = OutputFormat.table,
    catalog: CatalogOption = None,
) -> None:
    """Runs newest first: state, start, duration, rows written, failing checks, error."""
    after = since
    states = tuple(s for wanted in status or () for s in _STATES[wanted])
    from lineage.workspace import Workspace

    workspace = Workspace.open(catalog_url=catalog)
    try:
        found = workspace.catalog.runs(job, limit, since=after, states=states)
        outcomes = workspace.catalog.run_outcomes(found)
    finally:
        workspace.close()
    documents = [_run_dict(run, *outcomes[run.run_id]) for run in found]
    if output_format is OutputFormat.json:
        write_json({"runs": documents})
        return
    console = Console()
    table = Table(title="runs", title_justify="left")
    for heading in ("job", "run", "state", "started (UTC)", "duration", "rows", "failing checks",
                    "error"):  # fmt: skip
        table.add_column(heading, overflow="fold")
    for run, doc in zip(found, documents, strict=True):
        style = _STYLE.get(run.state, "yellow")
        table.add_row(
            escape(run.job_name), run.run_id[-8:], f"[{style}]{run.state.value}[/]",
            f"{(run.started_at or run.first_event_at):%Y-%m-%d %H:%M:%S}",
            _duration(doc["duration_seconds"]),
            "" if doc["rows_written"] is None else f"{int(doc['rows_written']):,}",
            escape(", ".join(doc["failing_checks"])), escape((run.error or "")[:200]),
        )  # fmt: skip
    console.print(table)
    if not found:
        filtered = after is not None or states or job is not None
        console.print("no run matches" if filtered else "no runs recorded", style="dim")


def _run_dict(run: RunRecord, rows: float | None, failing: list[str]) -> dict[str, Any]:
    duration = (
        (run.ended_at - run.started_at).total_seconds()
        if run.ended_at is not None and run.started_at is not None
        else None
    )
    return {
        "job": run.job_name,
        "run_id": run.run_id,
        "state": run.state.value,
        "started_at": None if run.started_at is None else run.started_at.isoformat(),
        "ended_at": None if run.ended_at is None else run.ended_at.isoformat(),
        "duration_seconds": duration,
        "rows_written": rows,
        "failing_checks": failing,
        "error": run.error,
    }


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {rest:02d} s"
