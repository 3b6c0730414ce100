"""SIGTERM (Airflow's and Kubernetes' timeouts): the open run gets an ABORT, the events are
flushed within a bounded time, and the process then ends as it would have without us.

Real child processes receive a real SIGTERM; the in-process tests check when the handler
is (not) installed and restore the process's handler afterwards.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lineage.config import ProjectConfig
from lineage.run import active, configure, reset

REPO = Path(__file__).resolve().parents[3]

CHILD = textwrap.dedent(
    """
    import signal, sys, time
    sys.path.insert(0, {repo!r})
    from pathlib import Path
    from connectors.openlineage.sinks import JsonLinesSink
    from lineage.config import ProjectConfig
    from lineage.run import configure, job

    root = Path(sys.argv[1])
    if sys.argv[2] == "chained":
        def app_handler(signum, frame):
            (root / "app-handler-ran").write_text("yes")
            sys.exit(3)
        signal.signal(signal.SIGTERM, app_handler)
    configure(config=ProjectConfig(root=root), sinks=[JsonLinesSink(root / "events")])

    @job(outputs=["silver.orders"])
    def finished():
        return None

    @job(outputs=["silver.orders"])
    def long_running():
        print("running", flush=True)
        time.sleep(30)

    finished()
    long_running()
    """
)


def _terminate(
    tmp_path: Path, mode: str
) -> tuple[subprocess.Popen[str], float, list[dict[str, Any]]]:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD.format(repo=str(REPO)), str(tmp_path), mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")},
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "running", child.stderr
    started = time.monotonic()
    child.send_signal(signal.SIGTERM)
    child.wait(timeout=15)
    took = time.monotonic() - started
    events = [
        json.loads(line)
        for path in sorted((tmp_path / "events").glob("*.jsonl"))
        for line in path.read_text().splitlines()
    ]
    return child, took, events


def test_sigterm_aborts_the_open_run_and_terminates_as_sigterm(tmp_path: Path) -> None:
    child, took, events = _terminate(tmp_path, "default")
    assert child.returncode == -signal.SIGTERM  # ends as without a handler
    assert took < 3.0  # bounded: ABORT, a 1 s flush at most
    by_job: dict[str, list[str]] = {}
    for event in events:
        by_job.setdefault(event["job"]["name"].rsplit(".", 1)[-1], []).append(event["eventType"])
    assert by_job == {"finished": ["START", "COMPLETE"], "long_running": ["START", "ABORT"]}
    abort = events[-1]
    assert abort["eventType"] == "ABORT"
    message = abort["run"]["facets"]["errorMessage"]["message"]
    assert message == "Terminated: the process received SIGTERM"
    assert not list((tmp_path / ".lineage" / "spool" / "journal").glob("*.jsonl"))


def test_an_applications_own_handler_still_runs_after_ours(tmp_path: Path) -> None:
    child, _, events = _terminate(tmp_path, "chained")
    assert child.returncode == 3  # the application's handler decided: sys.exit(3)
    assert (tmp_path / "app-handler-ran").read_text() == "yes"
    states = [e["eventType"] for e in events if e["job"]["name"].endswith("long_running")]
    assert states == ["START", "ABORT"]  # not a FAIL too when SystemExit unwinds the job


@pytest.fixture
def pristine_sigterm(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """SIGTERM as a fresh process has it; the test process's handler restored after."""
    saved = signal.getsignal(signal.SIGTERM)
    monkeypatch.setattr(active, "_sigterm_installed", False)
    monkeypatch.setattr(active, "_previous_handler", None)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        yield
    finally:
        reset(1.0)
        signal.signal(signal.SIGTERM, saved)


@pytest.mark.usefixtures("pristine_sigterm")
def test_installed_by_configure_unless_disabled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = ProjectConfig(root=tmp_path)
    configure(config=config, sinks=[], handle_sigterm=False, register_atexit=False)
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    monkeypatch.setenv("LINEAGE_HANDLE_SIGTERM", "false")
    configure(config=config, sinks=[], register_atexit=False)
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    monkeypatch.delenv("LINEAGE_HANDLE_SIGTERM")
    configure(config=config, sinks=[], register_atexit=False)
    assert signal.getsignal(signal.SIGTERM) is active._on_sigterm
    configure(config=config, sinks=[], handle_sigterm=False, register_atexit=False)
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # ours removed again


@pytest.mark.usefixtures("pristine_sigterm")
def test_an_ignored_sigterm_stays_ignored_and_threads_install_nothing(tmp_path: Path) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    assert active.install_sigterm_handler() is False
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_IGN
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    results: list[bool] = []
    thread = threading.Thread(target=lambda: results.append(active.install_sigterm_handler()))
    thread.start()
    thread.join()
    assert results == [False] and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
