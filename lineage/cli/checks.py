"""``lineage check`` and ``lineage contract init|lint``: contracts judged in the warehouse.

A check is itself a run: its results are recorded in the catalog and emitted as the
OpenLineage ``dataQualityAssertions`` of the datasets checked, so any OpenLineage
consumer sees them too.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from lineage.cli.options import CatalogOption, OutputFormat, print_issues, stderr, write_json
from lineage.errors import InputError
from lineage.model import ColumnId, DatasetId
from lineage.views import CheckResult, CheckStatus

if TYPE_CHECKING:
    from lineage.workspace import Workspace

__all__ = ["check", "contract_app", "register"]

#: The job of every ``lineage check`` run.
CHECK_JOB = "silverline.check"

contract_app = typer.Typer(
    name="contract", help="Data contracts: write one from the live schema, lint them all.",
    no_args_is_help=True,
)  # fmt: skip


class FailOn(str, Enum):
    warning = "warning"
    error = "error"


def register(app: typer.Typer) -> None:
    """Add ``lineage check`` and ``lineage contract`` to ``app``."""
    app.command(epilog="Example: lineage check silver.erp_customers --fail-on warning")(check)
    app.add_typer(contract_app)


_STYLE = {
    CheckStatus.PASSED: "green",
    CheckStatus.WARNING: "yellow",
    CheckStatus.FAILED: "red",
    CheckStatus.ERROR: "red",
    CheckStatus.INSUFFICIENT_HISTORY: "dim",
}


def check(
    datasets: Annotated[
        list[str] | None,
        typer.Argument(help="Datasets to check (a suffix works). Default: every contract."),
    ] = None,
    fail_on: Annotated[
        FailOn,
        typer.Option("--fail-on", help="Exit 1 on a failed check (error) or on warnings "
                     "too. An unreadable contract always exits 1."),
    ] = FailOn.error,
    sample: Annotated[
        int, typer.Option("--sample", min=0, help="Offending rows shown per failed check.")
    ] = 5,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="table or json (one document).")
    ] = OutputFormat.table,
    catalog: CatalogOption = None,
) -> None:
    """Check contracts and dbt tests: constraints as SQL in the warehouse, freshness and
    row-count rules on the metric history; results recorded and emitted as a run."""
    import lineage.run
    from lineage.workspace import Workspace
    from lineage.workspace.checks import run_checks

    workspace = Workspace.open(catalog_url=catalog)
    try:
        wanted = [_dataset(workspace, name) for name in datasets or ()]
        with lineage.run(CHECK_JOB, description="Silverline contract checks") as active:
            report = run_checks(
                workspace.catalog, workspace.config, wanted, run_id=active.run_id,
                sample_limit=sample,
            )  # fmt: skip
            for result in report.results:
                if result.status is not CheckStatus.INSUFFICIENT_HISTORY:
                    active.add_assertion(
                        result.dataset, result.check, result.status is CheckStatus.PASSED,
                        column=result.column, severity=str(result.details.get("severity", "error")),
                        expected=_text(result.details.get("threshold")),
                        actual=_text(result.details.get("observed")),
                    )  # fmt: skip
    finally:
        workspace.close()
    if output_format is OutputFormat.json:
        write_json(
            {
                "run_id": report.run_id,
                "summary": _summary(report.results, len(report.issues)),
                "results": [_result_dict(r) for r in report.results],
                "issues": [str(i) for i in report.issues],
            }
        )
    else:
        _print_results(report.results, len(report.issues))
        if not report.contracts and not report.issues:
            stderr.print("no contracts found: add them to contracts/ (lineage contract init)")
    print_issues(report.issues)
    # A contract that cannot be read or bound is an error whatever --fail-on says: its
    # checks did not run, and a gate that passes on an unreadable contract checks nothing.
    from lineage.checks import exceeds

    if report.issues or exceeds(report.results, fail_on.value):
        raise typer.Exit(1)


def _summary(results: list[CheckResult], contract_issues: int) -> dict[str, int]:
    """Results per status, contract issues counted as errors (and on their own too)."""
    from lineage.checks import summarize  # the checks engine: only when checks ran

    counts = {s.value: n for s, n in summarize(results).items()}
    counts[CheckStatus.ERROR.value] += contract_issues
    counts["contract_issues"] = contract_issues
    return counts


def _dataset(workspace: Workspace, name: str) -> DatasetId:
    node = workspace.resolve(name)
    return node.dataset if isinstance(node, ColumnId) else node


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _result_dict(result: CheckResult) -> dict[str, Any]:
    return {
        "dataset": result.dataset.to_dict(),
        "check": result.check,
        "column": result.column,
        "status": result.status.value,
        "observed_at": result.observed_at.isoformat(),
        "details": dict(result.details),
    }


def _print_results(results: list[CheckResult], contract_issues: int = 0) -> None:
    """One table per dataset (check, status, observed, threshold), then what to look at:
    each failed check's message (with its upstream cause) and offending rows; the closing
    count line counts contract issues as errors."""
    console = Console()
    by_dataset: dict[DatasetId, list[CheckResult]] = {}
    for result in results:
        by_dataset.setdefault(result.dataset, []).append(result)
    for dataset, found in by_dataset.items():
        table = Table(title=dataset.name, title_justify="left")
        for heading in ("check", "status", "observed", "threshold"):
            table.add_column(heading, overflow="fold")
        for result in found:
            table.add_row(
                escape(result.check),
                f"[{_STYLE[result.status]}]{result.status.value.replace('_', ' ')}[/]",
                escape(str(result.details.get("observed", ""))),
                escape(str(result.details.get("threshold", ""))),
            )
        console.print(table)
        for result in found:
            if result.status is CheckStatus.PASSED:
                continue
            style = _STYLE[result.status]
            message = escape(str(result.details.get("message", "")))
            where = f" ({result.details['source']})" if result.details.get("source") else ""
            console.print(f"[{style}]{escape(result.check)}[/]: {message}{escape(where)}",
                          highlight=False, soft_wrap=True)  # fmt: skip
            for row in result.details.get("sample") or ():
                console.print(f"    {escape(str(row))}", highlight=False, soft_wrap=True)
    summary = _summary(results, contract_issues)
    counts = [f"{n} {s.value.replace('_', ' ')}" for s in CheckStatus if (n := summary[s.value])]
    line = ", ".join(counts) or "no checks"
    if contract_issues:
        plural = "s" if contract_issues > 1 else ""
        line += f" (of the errors, {contract_issues} contract issue{plural}: listed below)"
    console.print(line, highlight=False)


@contract_app.command("init")
def contract_init(
    dataset: Annotated[str, typer.Argument(help="An introspected dataset (a suffix works).")],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Where to write (default: contracts/).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    catalog: CatalogOption = None,
) -> None:
    """Write a contract from the live schema and the latest profile (observed ranges of
    numbers and dates as commented suggestions; none for columns named like personal data)."""
    from lineage.contracts import contract_template
    from lineage.workspace import Workspace
    from lineage.workspace.checks import contracts_folder
    from lineage.workspace.live import sql_dialect

    workspace = Workspace.open(catalog_url=catalog)
    try:
        dataset_id = _dataset(workspace, dataset)
        live = workspace.catalog.live_schema(dataset_id)
        if live is None:
            raise InputError(f"{dataset_id} was never introspected: run `lineage introspect`")
        url = workspace.config.warehouse.url
        text = contract_template(
            live.table, workspace.catalog.latest_profile(dataset_id), dataset_name=dataset_id.name,
            dialect=sql_dialect(url) if url else None,
        )  # fmt: skip
        stem = dataset_id.name.rstrip("/").replace("/", ".").split(".")[-1]
        target = out or contracts_folder(workspace.config) / f"{stem}.yaml"
    finally:
        workspace.close()
    if target.exists() and not force:
        raise InputError(f"{target} exists: give --force to overwrite it, or --out")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    Console().print(f"wrote {target}", highlight=False)


@contract_app.command("lint")
def contract_lint(
    output_format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="table or json.")
    ] = OutputFormat.table,
    catalog: CatalogOption = None,
) -> None:
    """Check every contract against the catalog: unknown datasets and columns, types the
    warehouse does not have; each problem with its file and line. Exit 1 on any."""
    from lineage.workspace import Workspace
    from lineage.workspace.checks import lint_contracts

    workspace = Workspace.open(catalog_url=catalog)
    try:
        issues = lint_contracts(workspace.catalog, workspace.config)
    finally:
        workspace.close()
    if output_format is OutputFormat.json:
        write_json({"issues": [str(i) for i in issues]})
    else:
        print_issues(issues)
        if not issues:
            Console().print("contracts: no problems found")
    if issues:
        raise typer.Exit(1)
