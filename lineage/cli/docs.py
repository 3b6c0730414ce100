"""``lineage docs build`` and ``lineage docs serve``: the static docs site.

A composition root over ``lineage.workspace.docs``, which reads the contracts, the
Markdown runbook notes beside them (``<contract stem>.md``) and the open drift findings,
and hands them to ``docs_site.build_site`` (which itself never reads configuration).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from lineage.cli.options import CatalogOption, print_issues, stderr, step_status
from lineage.errors import ConfigError

if TYPE_CHECKING:
    pass

__all__ = ["build", "register", "serve"]

docs_app = typer.Typer(name="docs", help="The static docs site: build it, or view it locally.",
                       no_args_is_help=True)  # fmt: skip

OutOption = Annotated[
    Path | None,
    typer.Option("--out", "-o", help="Site folder (default: docs.output, else site/)."),
]


def register(app: typer.Typer) -> None:
    """Add ``lineage docs build|serve`` to ``app``."""
    docs_app.command("build", epilog="Example: lineage docs build --out site/")(build)
    docs_app.command("serve", epilog="Example: lineage docs serve --port 8000")(serve)
    app.add_typer(docs_app)


def build(
    out: OutOption = None,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="Where the site will be published.")
    ] = None,
    title: Annotated[str, typer.Option("--title", help="The site's title.")] = "Silverline",
    catalog: CatalogOption = None,
) -> None:
    """Render the catalog into a static site (works from file:// and any static host)."""
    from lineage.workspace import Workspace
    from lineage.workspace.docs import build_docs

    workspace = Workspace.open(catalog_url=catalog)
    try:
        with step_status(stderr, "building the site"):
            built = build_docs(workspace, out, title=title, base_url=base_url)
    finally:
        workspace.close()
    print_issues(built.issues)
    report = built.site
    groups = report.datasets + report.jobs
    kept = ("; nothing changed since the last build" if groups and not report.rendered else
            f"; {report.rendered} of {groups} datasets and jobs rendered "
            f"({report.worked_out} worked out again), the rest unchanged"
            if report.rendered < groups else "")  # fmt: skip
    stderr.print(
        f"[green]Built[/] {report.pages} pages ({report.datasets} datasets, {report.columns} "
        f"columns, {report.jobs} jobs; {report.files} files, {report.bytes / 1e6:.1f} MB{kept}) "
        f"in {report.seconds:.1f} s: {report.out / 'index.html'}",
        highlight=False, soft_wrap=True,
    )  # fmt: skip


def serve(
    out: OutOption = None,
    port: Annotated[int, typer.Option("--port", "-p", min=0, max=65535)] = 8000,
) -> None:
    """Serve a built site on 127.0.0.1 (for local viewing only; the site needs no server)."""
    import functools
    import http.server

    from lineage.config import load_config
    from lineage.workspace.docs import docs_folder

    folder = docs_folder(load_config(), out)
    if not (folder / "index.html").is_file():
        raise ConfigError(f"no site in {folder}: run `lineage docs build` first", obj=str(folder))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as server:
        stderr.print(f"Serving {folder} on http://127.0.0.1:{server.server_address[1]}/ "
                     "(Ctrl-C stops)", highlight=False)  # fmt: skip
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
