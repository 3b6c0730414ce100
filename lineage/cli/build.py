"""``lineage build`` (the whole loop) and ``lineage demo`` (the ERP example, copied and built,
with ``--simulate-drift`` a second time over changed bronze)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from lineage.cli.drift import FailOn
from lineage.cli.options import (
    CatalogOption,
    OutputFormat,
    stderr,
    step_status,
    write_json,
)
from lineage.errors import InputError

if TYPE_CHECKING:
    from lineage.workspace import Workspace
    from lineage.workspace.build import BuildReport, StepResult

__all__ = ["STEP_NAMES", "build", "demo", "register"]

#: ``--fail-on`` of build and demo (``--fail-on-drift``: its earlier name).
_FailOnOption = Annotated[
    FailOn,
    typer.Option(
        "--fail-on", "--fail-on-drift", help="Drift that fails the build (this grade or worse)."
    ),
]

#: The steps of lineage.workspace.build.STEPS, for the help text (a test keeps them equal;
#: importing the workspace here would cost every command its start-up time).
STEP_NAMES = ("pipeline", "scan", "introspect", "profile", "check", "push", "docs", "drift")

_STYLE = {"ok": "green", "failed": "red", "blocked": "red", "skipped": "dim"}
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "erp"


def register(app: typer.Typer) -> None:
    """Add ``lineage build`` and ``lineage demo`` to ``app``."""
    app.command(epilog="Example: lineage build --skip push,docs")(build)
    app.command(epilog="Example: lineage demo /tmp/erp --simulate-drift")(demo)


def _steps(text: str | None) -> list[str]:
    return [s.strip() for s in (text or "").split(",") if s.strip()]


def build(
    only: Annotated[
        str | None, typer.Option("--only", help=f"Comma-separated steps: {', '.join(STEP_NAMES)}.")
    ] = None,
    skip: Annotated[
        str | None, typer.Option("--skip", help="Comma-separated steps to skip.")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Run the pipeline and the checks even if unchanged.")
    ] = False,
    fail_on: _FailOnOption = FailOn.breaking,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="table or json (one document).")
    ] = OutputFormat.table,
    catalog: CatalogOption = None,
) -> None:
    """Run the pipeline, scan SQL and dbt, introspect, profile, check contracts, push to
    DataHub, build the docs site and report drift; exit 1 if any step failed."""
    from lineage.workspace import Workspace
    from lineage.workspace.build import run_build

    workspace = Workspace.open(catalog_url=catalog)
    console = Console(stderr=output_format is OutputFormat.json)
    try:
        with step_status(console, "building") as status:
            report = run_build(
                workspace, only=_steps(only), skip=_steps(skip), force=force,
                fail_on_drift=fail_on.value,
                on_step=lambda name: status.update(f"{name} ..."),
                on_done=lambda result: _print_step(console, result),
            )  # fmt: skip
    finally:
        workspace.close()
    if output_format is OutputFormat.json:
        write_json(report.to_dict())
    else:
        if report.drift is not None and report.drift.report.findings:
            from lineage.cli.drift import print_table

            print_table(report.drift.report)
        _print_summary(console, report, workspace)
    if report.failed:
        raise typer.Exit(1)


def _print_step(console: Console, result: StepResult) -> None:
    style = _STYLE.get(result.status, "yellow")
    console.print(
        f"[{style}]{result.status:>7}[/] {result.name:<10} {escape(result.summary)}",
        highlight=False, soft_wrap=True,
    )  # fmt: skip


def _print_summary(console: Console, report: BuildReport, workspace: Workspace) -> None:
    table = Table(title="lineage build", title_justify="left")
    for heading in ("step", "status", "seconds", "result", "look at"):
        table.add_column(heading, overflow="fold")
    for step in report.steps:
        style = _STYLE.get(step.status, "yellow")
        table.add_row(step.name, f"[{style}]{step.status}[/]", f"{step.seconds:.1f}",
                      escape(step.summary), escape(step.look_at))  # fmt: skip
    console.print(table)
    if report.failed_steps:  # what the exit code is about, in one line
        by_status = {
            status: [s.name for s in report.steps if s.status == status]
            for status in ("failed", "blocked")
        }
        console.print(
            "[red]" + "; ".join(f"{k}: {', '.join(v)}" for k, v in by_status.items() if v) + "[/]",
            highlight=False,
        )
    root = workspace.config.root
    console.print(f"catalog: {workspace.catalog_url_display}", highlight=False)
    for label, path in (("site", (workspace.config.docs.output or root / "site") / "index.html"),
                        ("DataHub Lite", workspace.layout.datahub_lite),
                        ("MCP file", root / ".lineage" / "datahub-mcps.json")):  # fmt: skip
        if path.exists():
            console.print(f"{label}: {path}", highlight=False)


def demo(
    folder: Annotated[
        Path, typer.Argument(help="Where to copy the ERP example (must not exist or be empty).")
    ] = Path("erp-demo"),
    simulate_drift: Annotated[
        bool, typer.Option("--simulate-drift", help="Then change bronze and build again.")
    ] = False,
    fail_on: _FailOnOption = FailOn.breaking,
    output_format: Annotated[
        OutputFormat,
        typer.Option(
            "--format", "-f", help="table, or json: one document with each build's report."
        ),
    ] = OutputFormat.table,
) -> None:
    """Copy the ERP example to FOLDER and build it; with --simulate-drift, change bronze
    (rename bdate, narrow cid, drop gen, add a column) and build again: drift, impact and
    contract failures appear in the terminal and on the site. Exit 1 if a build failed."""
    if not EXAMPLE.is_dir():
        raise InputError(f"the ERP example is not installed with this Silverline ({EXAMPLE})")
    if folder.exists() and any(folder.iterdir()):
        raise InputError(f"{folder} is not empty: give a new folder")
    skipped = shutil.ignore_patterns(".lineage", "bronze", "site", "target", "__pycache__")
    shutil.copytree(EXAMPLE, folder, dirs_exist_ok=True, ignore=skipped)
    as_json = output_format is OutputFormat.json
    args = ["--fail-on", fail_on.value, *(["--format", "json"] if as_json else [])]
    builds = [_build_in(folder, args, as_json)]
    if simulate_drift:
        stderr.print("[bold]simulating drift[/]: bronze now has birth_dt instead of bdate, "
                     "cid as 32-bit-offset strings (narrowed from large_string), no gen, "
                     "a new channel column")  # fmt: skip
        landed = subprocess.run([sys.executable, "pipeline.py", "--drift"], cwd=folder,
                                check=False, capture_output=True, text=True)  # fmt: skip
        if landed.returncode != 0:
            raise InputError(f"pipeline.py --drift failed: {landed.stderr.strip()[-500:]}")
        builds.append(_build_in(folder, ["--skip", "pipeline", *args], as_json))
    if as_json:
        write_json({"folder": str(folder.resolve()), "failed": any(b[0] for b in builds),
                    "builds": [b[1] for b in builds]})  # fmt: skip
    raise typer.Exit(max(code for code, _ in builds))


def _build_in(folder: Path, args: list[str], as_json: bool) -> tuple[int, dict[str, object]]:
    """``lineage build ARGS`` in ``folder``: its exit code, and its JSON report when asked
    for (the table otherwise goes straight to the terminal)."""
    done = subprocess.run([sys.executable, "-m", "lineage.cli", "build", *args], cwd=folder,
                          check=False, stdout=subprocess.PIPE if as_json else None,
                          text=True)  # fmt: skip
    report: dict[str, object] = {}
    if as_json:
        try:
            report = json.loads(done.stdout or "{}")
        except json.JSONDecodeError:
            report = {"output": done.stdout}
    return done.returncode, report
