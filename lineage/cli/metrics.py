"""``lineage metrics`` and ``lineage metrics serve``: the catalog's figures for Prometheus.

A composition root over ``connectors.prometheus``: ``lineage metrics`` prints the text
format (or writes it atomically with ``--out``, for node_exporter's textfile collector);
``lineage metrics serve`` exposes ``/metrics`` over HTTP, reading the catalog on every
scrape. Metric names and labels: docs/monitoring.md.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from lineage.cli.options import CatalogOption, stderr

__all__ = ["register", "serve", "text"]


def register(app: typer.Typer) -> None:
    """Add ``lineage metrics [--out FILE]`` and ``lineage metrics serve`` to ``app``."""
    group = typer.Typer(
        name="metrics",
        help="The catalog's latest figures for Prometheus: print or write them, or serve them.",
        invoke_without_command=True,  # bare `lineage metrics` prints the figures
    )
    group.callback(
        epilog="Example: lineage metrics --out /var/lib/node_exporter/textfile/silverline.prom"
    )(text)
    group.command("serve", epilog="Example: lineage metrics serve --port 9464")(serve)
    app.add_typer(group)


def text(
    ctx: typer.Context,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write to this file atomically (node_exporter's "
                     "textfile collector reads *.prom) instead of stdout."),
    ] = None,
    catalog: CatalogOption = None,
) -> None:
    """Print the catalog's figures in the Prometheus text format (or write them to --out)."""
    if ctx.invoked_subcommand is not None:
        ctx.obj = catalog  # `lineage metrics --catalog URL serve` means that catalog too
        return
    from connectors.prometheus import exposition_text, write_textfile
    from lineage.workspace import Workspace

    workspace = Workspace.open(catalog_url=catalog)
    try:
        if out is None:
            sys.stdout.write(exposition_text(workspace.catalog))
        else:
            write_textfile(workspace.catalog, out)
    finally:
        workspace.close()
    if out is not None:
        stderr.print(f"[green]Wrote[/] {out}", highlight=False, soft_wrap=True)


def serve(
    ctx: typer.Context,
    port: Annotated[
        int, typer.Option("--port", "-p", min=0, max=65535, help="0 picks a free port.")
    ] = 9464,
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (another exposes it further).")
    ] = "127.0.0.1",
    catalog: CatalogOption = None,
) -> None:
    """Serve /metrics over HTTP until interrupted; every scrape reads the catalog afresh."""
    import threading

    from connectors.prometheus import start_server
    from lineage.workspace import Workspace

    workspace = Workspace.open(catalog_url=catalog or ctx.obj)
    try:
        server, _thread = start_server(workspace.catalog, port, host)
        shown = f"[{host}]" if ":" in host else host
        stderr.print(
            f"Serving metrics on http://{shown}:{server.server_port}/metrics "
            f"(catalog {workspace.catalog_url_display}); Ctrl-C to stop",
            highlight=False, soft_wrap=True,
        )  # fmt: skip
        try:
            threading.Event().wait()  # the server runs in its own thread
        except KeyboardInterrupt:
            pass
        finally:
            server.shutdown()
            server.server_close()
    finally:
        workspace.close()
