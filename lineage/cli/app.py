"""The ``lineage`` application: its command groups, ``--debug``, and ``main()``.

A composition root: each command is a few lines over ``lineage.workspace.Workspace``
(the facade the Python API uses too), one module per command group. ``main()`` turns a
``LineageError`` into one red line and exit code 1; the traceback only with ``--debug``.
``run()`` is the console script: ``main()`` in a process that is the CLI's own.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from contextlib import suppress
from typing import Annotated, NoReturn

import typer
from rich.markup import escape

from lineage.cli import build, checks, docs, drift, events, graph, live, metrics, push, runs, scan
from lineage.cli.options import stderr
from lineage.errors import LineageError
from lineage.model import RedactingFilter, redact_text
from lineage.model.memory import short_lived_process

__all__ = ["app", "main", "run"]

app = typer.Typer(
    name="lineage",
    help="Silverline: column-level lineage, catalog and docs for data pipelines.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion for bash, zsh, fish
    pretty_exceptions_enable=False,
)
for _group in (scan, graph, events, push, live, checks, runs, drift, docs, metrics, build):
    _group.register(app)
_state = {"debug": False}


def _print_version(value: bool) -> None:
    if value:
        from lineage.version import __version__

        typer.echo(f"lineage (Silverline) {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    _state["debug"] = debug


def _redact_logs() -> None:
    """Whatever any library logs in this process is printed with its secrets masked: the
    handlers that print (logging's last resort, and the root's) get the filter."""
    import logging

    for handler in (logging.lastResort, *logging.getLogger().handlers):
        if handler is not None and not any(
            isinstance(f, RedactingFilter) for f in handler.filters
        ):
            handler.addFilter(RedactingFilter())


def main() -> None:
    """Entry point of the ``lineage`` console script."""
    _redact_logs()
    try:
        # Without standalone mode click returns typer.Exit's code instead of exiting.
        code = app(standalone_mode=False)
    except LineageError as exc:
        if _state["debug"]:
            raise
        # A driver's message may quote a connection string or bound values; and it is
        # text, not markup ("[parameters: ...]" would be taken for a tag).
        line = escape(redact_text(str(exc)))
        stderr.print(f"[red]error:[/] {line}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        stderr.print("[red]aborted[/]")
        sys.exit(130)
    except typer.TyperException as exc:
        # Usage errors (an unknown command or option, a missing argument; no arguments at
        # all prints the help): typer bundles its own click, whose exceptions derive from
        # typer.TyperException, not from the click package's ClickException.
        if _state["debug"]:
            raise
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:  # pragma: no cover - every usage error of typer's click has show()
            stderr.print(f"[red]error:[/] {escape(str(exc))}", highlight=False)
        sys.exit(int(getattr(exc, "exit_code", 2)))
    sys.exit(code if isinstance(code, int) else 0)


def run() -> NoReturn:
    """The ``lineage`` console script: ``main()``, in a process that is only the CLI's.

    A scan builds millions of small objects, nearly none in cycles: the collector gets the
    policy of a short-lived process (``lineage.model.memory``; a one-model rescan of
    2,000 models spent about 18 % of its time collecting at Python's defaults, one of
    10,000 models 40 %). Leaving, the heap is not freed object by object (1.2 s of that
    rescan): the output is flushed and the ``atexit`` handlers run, then the process
    ends. With other threads still running it leaves the usual way, which waits for them.
    """
    short_lived_process()
    try:
        main()
        code = 0
    except SystemExit as done:
        code = _exit_code(done.code)
    _leave(code)


def _exit_code(code: object) -> int:
    if code is None or isinstance(code, int):
        return code or 0
    print(code, file=sys.stderr)  # sys.exit("message"): printed, status 1
    return 1


def _leave(code: int) -> NoReturn:
    if threading.active_count() > 1:
        sys.exit(code)
    atexit._run_exitfuncs()  # logging's flush, weakref finalizers, transports
    for stream in (sys.stdout, sys.stderr):
        with suppress(OSError, ValueError):  # a closed pipe (``| head``): nothing to say
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
