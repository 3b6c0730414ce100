"""``lineage push datahub``: send the catalog to DataHub (REST, an MCP file, or DataHub Lite).

``register(app)`` adds the ``push`` group to the ``lineage`` command; the work is done by
``connectors.datahub.sync`` (which loads the DataHub SDK only when it runs). Settings come
from the command line, then lineage.yml's ``datahub:`` section, then defaults::

    datahub:
      server: http://datahub-gms:8080   # or  file: mcps.json  /  lite: .lineage/datahub-lite.db
      token_env: DATAHUB_GMS_TOKEN      # the variable holding the token, never the token
      env: PROD
      platform_instance: eu_cluster
      case: lower                       # or preserve
      actor: urn:li:corpuser:etl-bot    # who audit stamps name (default silverline)
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from connectors.datahub import CasePolicy  # light: the option's choices
from lineage.cli.options import CatalogOption, OutputFormat, print_issues, stderr, write_json

if TYPE_CHECKING:
    from connectors.datahub import DataHubSettings, PushReport

__all__ = ["push_datahub", "register"]

def register(app: typer.Typer) -> None:
    """Add the ``push`` command group (``lineage push datahub``) to ``app``."""
    group = typer.Typer(
        name="push",
        help="Send the catalog to other systems.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
    )
    group.command(
        "datahub",
        epilog="Examples: lineage push datahub (DataHub Lite in .lineage/datahub-lite.db) | "
        "lineage push datahub --server http://localhost:8080 --token-env DATAHUB_GMS_TOKEN | "
        "lineage push datahub --file mcps.json --full",
    )(push_datahub)
    app.add_typer(group, name="push")


def push_datahub(
    server: Annotated[
        str | None, typer.Option("--server", help="DataHub GMS URL (http://host:8080).")
    ] = None,
    token_env: Annotated[
        str | None,
        typer.Option(
            "--token-env",
            help="Environment variable holding the DataHub token (default: DATAHUB_GMS_TOKEN "
            "when set).",
        ),
    ] = None,
    file: Annotated[
        str | None, typer.Option("--file", help="Write an MCP JSON file instead.")
    ] = None,
    lite: Annotated[
        str | None,
        typer.Option("--lite", help="DataHub Lite file (default: .lineage/datahub-lite.db)."),
    ] = None,
    env: Annotated[
        str | None, typer.Option("--env", help="DataHub environment (default PROD).")
    ] = None,
    platform_instance: Annotated[
        str | None, typer.Option("--platform-instance", help="Platform instance of datasets.")
    ] = None,
    case: Annotated[
        CasePolicy | None,
        typer.Option("--case", help="Dataset name case in URNs: lower (default) or preserve."),
    ] = None,
    actor: Annotated[
        str | None,
        typer.Option(
            "--actor",
            help="Who audit stamps name: urn:li:corpuser:NAME or a user name (default: "
            "datahub.actor, else urn:li:corpuser:silverline).",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be sent; send nothing.")
    ] = False,
    full: Annotated[
        bool, typer.Option("--full", help="Resend every aspect, changed or not.")
    ] = False,
    catalog: CatalogOption = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="table or json.")
    ] = OutputFormat.table,
) -> None:
    """Push datasets, column lineage, jobs, runs, checks and breaking schema drift
    (incidents) to DataHub; only what changed since the last push to the same target is
    sent."""
    from connectors.datahub import actor_urn, push, resolve_target
    from lineage.workspace import Workspace

    workspace = Workspace.open(catalog_url=catalog)
    config = workspace.config
    try:
        settings_file = workspace.datahub_config()
        settings: DataHubSettings = settings_file.settings
        if env is not None:
            settings = replace(settings, env=env)
        if platform_instance is not None:
            settings = replace(settings, platform_instance=platform_instance)
        if case is not None:
            settings = replace(settings, case=case)
        # lineage.yml's datahub.actor (checked when read), then --actor (checked here).
        chosen = actor if actor is not None else config.datahub.actor
        if chosen is not None:
            key = "--actor" if actor is not None else "datahub.actor"
            settings = replace(settings, actor=actor_urn(chosen, key))
        target = resolve_target(
            settings_file,
            config.root,
            server=server,
            token_env=token_env,
            file=file,
            lite=lite,
        )
        with stderr.status(f"pushing to {target}") as status:
            report = push(
                workspace.catalog, target, settings, full=full, dry_run=dry_run,
                on_sent=lambda sent, total: status.update(
                    f"pushing to {target}: {sent:,} of {total:,} aspects"
                ),
            )  # fmt: skip
    finally:
        workspace.close()
    print_issues(report.warnings)
    if output_format is OutputFormat.json:
        write_json(report.to_dict())
    else:
        _print_report(report)


def _print_report(report: PushReport) -> None:
    console = Console()
    verb = "would send" if report.dry_run else "sent"
    console.print(
        f"{report.target}: {verb} {report.sent} aspects ({report.unchanged} of {report.built} "
        f"unchanged, {report.retracted} retracted{', full push' if report.full else ''}) "
        f"in {report.seconds:.2f}s",
        highlight=False,
        soft_wrap=True,
    )
    if report.by_aspect:
        table = Table(title_justify="left", show_edge=False)
        table.add_column("aspect")
        table.add_column(verb, justify="right")
        for aspect, count in sorted(report.by_aspect.items()):
            table.add_row(aspect, str(count))
        console.print(table)
