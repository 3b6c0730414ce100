"""CLI commands for OpenLineage events: ``lineage ingest`` and ``lineage events ...``.

``register(app)`` adds them to the ``lineage`` application (``lineage.cli.app`` calls it):

- ``lineage ingest PATH ...``: load events of any producer (Airflow, Spark, dbt-ol, our
  decorated jobs) into the catalog; bad lines are reported with file and line, the rest
  still loads (``--strict``: exit 1 if any line was bad). dbt's own artifacts
  (``target/run_results.json``, ``sources.json``, or the ``target/`` folder; known by name
  or ``metadata.dbt_schema_version``) load as runs, row counts, test and freshness results
  (``lineage.workspace.dbt_runs``);
- ``lineage events replay``: deliver the spooled events, in order, exactly once;
- ``lineage events status``: what waits in the spool.

Errors are ``LineageError``s, turned into one red line by ``lineage.cli.main``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from lineage.cli.options import (
    CatalogOption,
    OutputFormat,
    print_issues,
    require_paths,
    stderr,
    write_json,
)
from lineage.errors import InputError, LineageError
from lineage.model import redact_text

if TYPE_CHECKING:
    from lineage.workspace import Workspace

_T = TypeVar("_T")

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add ``ingest`` and the ``events`` group (``replay``, ``status``) to ``app``."""
    app.command("ingest", epilog="Example: lineage ingest airflow-events.jsonl .lineage/events/")(
        ingest
    )
    events = typer.Typer(
        name="events",
        help="The spool of OpenLineage events that could not be delivered.",
        no_args_is_help=True,
    )
    events.command("replay", epilog="Example: lineage events replay --limit 1000")(replay)
    events.command("status", epilog="Example: lineage events status --format json")(status)
    app.add_typer(events, name="events")


def ingest(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="JSON-lines / JSON files of OpenLineage events, or folders of them; dbt's "
            "run_results.json / sources.json (manifest.json beside them) or target/ folder."
        ),
    ],
    catalog: CatalogOption = None,
    namespace: Annotated[
        str | None,
        typer.Option(
            "--namespace",
            help="Namespace of the datasets of dbt artifacts (default: lineage.yml's, else "
            "the adapter's dialect, as `lineage scan` names them).",
        ),
    ] = None,
    dataset: Annotated[
        str | None,
        typer.Option(
            "--dataset",
            help="The dataset a Great Expectations validation result is about (default: "
            "its data asset name, resolved in the catalog).",
        ),
    ] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="table or json.")
    ] = OutputFormat.table,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 1 when any line could not be loaded.")
    ] = False,
) -> None:
    """Load OpenLineage events (Airflow, Spark, dbt-ol, Silverline jobs) into the catalog:
    runs, jobs, datasets and schemas, column lineage and metrics; and dbt run artifacts:
    one run per model, row counts, test results and source freshness; and Great
    Expectations validation results, as check results."""
    require_paths(paths)
    from connectors.openlineage.ingest import IngestReport, ingest_events
    from lineage.workspace import Workspace
    from lineage.workspace.dbt_runs import dbt_artifacts_in, ingest_dbt_artifacts

    workspace = Workspace.open(catalog_url=catalog)
    total = IngestReport()
    checks: int | None = None  # reported only when dbt artifacts were read
    try:
        for path in paths:
            if _is_ge_validation(path):
                found_checks = _ingest_ge_validation(workspace, path, dataset)
                checks = (checks or 0) + found_checks
                continue
            artifacts = dbt_artifacts_in(path)
            if artifacts:
                found = ingest_dbt_artifacts(
                    artifacts,
                    workspace.catalog,
                    namespace=namespace or workspace.config.sql_context.namespace,
                )
                total.runs |= found.runs
                total.jobs |= found.jobs
                total.datasets |= found.datasets
                total.metrics += found.metrics
                total.issues.extend(found.issues)
                checks = (checks or 0) + found.checks
                continue
            report = ingest_events(path, workspace.catalog)
            total.events += report.events
            total.runs |= report.runs
            total.jobs |= report.jobs
            total.datasets |= report.datasets
            total.metrics += report.metrics
            total.drift_findings += report.drift_findings
            total.issues.extend(report.issues)
    finally:
        workspace.close()
    summary = total.to_dict()
    if checks is not None:
        summary["checks"] = checks
    summary["catalog"] = workspace.catalog_url_display
    if output_format is OutputFormat.json:
        write_json(summary)
    else:
        _print_pairs(
            "ingested",
            {k: v for k, v in summary.items() if k != "issues"} | {"issues": len(total.issues)},
        )
    print_issues(total.issues)
    if strict and total.issues:
        raise typer.Exit(1)


def _is_ge_validation(path: Path) -> bool:
    """A Great Expectations validation result: a ``.json`` file whose opening names an
    ``expectation_config`` (a peek, not a parse: the readers that follow parse it once)."""
    if path.suffix.lower() != ".json" or not path.is_file():
        return False
    try:
        with path.open("rb") as handle:
            head = handle.read(65536)
    except OSError:
        return False
    return b'"expectation_config"' in head and b'"results"' in head


def _ingest_ge_validation(workspace: Workspace, path: Path, dataset: str | None) -> int:
    """Record a validation result's expectations as check results of ``dataset``, else of
    the data asset the result names; how many were new."""
    from dataclasses import replace

    from lineage.model import ColumnId, DatasetId
    from lineage.workspace.checks import sensitive_columns
    from parsers.contracts import read_validation_results

    # A first read: the reader records each result's data asset, which names the dataset.
    results = read_validation_results(path, DatasetId("", ""))
    name = dataset or next((str(r.details["batch"]) for r in results
                            if r.details.get("batch")), None)  # fmt: skip
    if not name:
        raise InputError(
            "the validation result names no data asset: give --dataset", file=str(path)
        )
    node = workspace.resolve(name)
    target = node.dataset if isinstance(node, ColumnId) else node
    # Offending values of a column any contract of the dataset marks sensitive stay out:
    # read again now that the dataset, and so its sensitive columns, are known.
    hidden = sensitive_columns(workspace.catalog, workspace.config, target)
    if hidden:
        results = read_validation_results(path, target, sensitive=hidden)
    added = 0
    for result in results:
        result = replace(result, dataset=target)
        added += workspace.catalog.record_check_result(
            result.dataset, result.check, result.native_status, result.observed_at,
            result.column, result.run_id, dict(result.details),
        )  # fmt: skip
    return added


def replay(
    include_uncertain: Annotated[
        bool,
        typer.Option(
            "--include-uncertain",
            help="Also re-send deliveries interrupted by a crash (the receiver may get them "
            "twice).",
        ),
    ] = False,
    include_rejected: Annotated[
        bool,
        typer.Option(
            "--include-rejected",
            help="Also re-send deliveries a sink refused for good (rejected.jsonl), once "
            "their cause (a token, a setting) is fixed.",
        ),
    ] = False,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="Deliver at most N events.")
    ] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="table or json.")
    ] = OutputFormat.table,
) -> None:
    """Deliver spooled events to the configured OpenLineage transport (or the catalog and
    event files), in order, each exactly once. Stops at the first failure (exit 1)."""
    from lineage.run.wiring import build_runtime

    runtime = build_runtime(strict=True, register_atexit=False)
    sinks = {sink.name: sink for sink in runtime.sinks}
    options: dict[str, Any] = {
        "include_uncertain": include_uncertain,
        "include_rejected": include_rejected,
        "limit": limit,
    }
    try:
        fallback = _fallback_report(runtime.spool, lambda s: s.replay(sinks, **options))
        try:
            report = runtime.spool.replay(sinks, **options)
        except (LineageError, OSError) as exc:
            if fallback is not None:
                _print_pairs("replay (fallback spool)", fallback.to_dict())
            _unusable(runtime.spool.folder, exc)
    finally:
        for sink in runtime.sinks:
            sink.close()
    done = report.to_dict()
    if fallback is not None:
        done["fallback"] = fallback.to_dict()
    if output_format is OutputFormat.json:
        write_json(done)
    else:
        _print_pairs("replay", done)
    report.error = report.error or (fallback.error if fallback is not None else None)
    if report.error is not None:
        stderr.print(
            f"[red]replay stopped:[/] {escape(str(report.error))}", highlight=False, soft_wrap=True
        )
        raise typer.Exit(1)


def status(
    output_format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="table or json.")
    ] = OutputFormat.table,
) -> None:
    """How many events wait in the spool (and for which sink), how many are uncertain."""
    from lineage.run.wiring import build_runtime

    runtime = build_runtime(strict=True, register_atexit=False)
    spare = _fallback_report(runtime.spool, lambda s: s.status())
    where = str(getattr(runtime.spool.fallback, "folder", ""))
    try:
        found = runtime.spool.status().to_dict()
    except (LineageError, OSError) as exc:
        if spare is not None:
            _print_pairs("fallback spool", spare.to_dict() | {"spool": where})
        _unusable(runtime.spool.folder, exc)
    found["spool"] = str(runtime.spool.folder)
    if spare is not None:  # events the jobs could not keep in the project's spool
        found["fallback"] = spare.to_dict() | {"spool": where}
    if output_format is OutputFormat.json:
        write_json(found)
    else:
        _print_pairs("spool", found)


def _fallback_report(spool: Any, call: Callable[[Any], _T]) -> _T | None:
    """``call(fallback spool)`` when the fallback spool holds events (else None); an
    unusable fallback is one red line and exit 1."""
    fallback = spool.fallback
    if fallback is None or not fallback.folder.is_dir():
        return None
    try:
        waiting = fallback.status()
        if not (waiting.pending or waiting.uncertain or waiting.rejected):
            return None
        return call(fallback)
    except (LineageError, OSError) as exc:
        _unusable(fallback.folder, exc)


def _unusable(folder: Path, exc: BaseException) -> NoReturn:
    """An unusable spool folder: one red line, exit 1 (no traceback)."""
    line = escape(redact_text(" ".join(str(exc).split())))
    stderr.print(
        f"[red]error:[/] the spool {escape(str(folder))} cannot be used: {line}",
        highlight=False,
        soft_wrap=True,
    )
    raise typer.Exit(1)


def _print_pairs(title: str, values: dict[str, Any]) -> None:
    table = Table(title=title, show_header=False)
    table.add_column("what")
    table.add_column("value")
    for key, value in values.items():
        table.add_row(key, json.dumps(value) if isinstance(value, dict | list) else str(value))
    Console().print(table)
