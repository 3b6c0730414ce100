"""No event is lost: the send in flight at exit, and a spool that cannot be written.

- close() gives up on a send still in flight and files it as *uncertain*; when that send
  then ends with a definite refusal (an HTTP 500, a refused connection) the event certainly
  did not arrive, so it becomes a pending record a default replay delivers; a timeout
  stays uncertain; a success leaves nothing behind. Real HTTP on 127.0.0.1 throughout.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from openlineage.client import OpenLineageClient
from openlineage.client.transport.http import HttpConfig, HttpTransport

from connectors.openlineage import spool as spool_module
from connectors.openlineage.emitter import Emitter
from connectors.openlineage.errors import certainly_not_delivered, translate
from connectors.openlineage.sinks import ClientSink, MemorySink
from connectors.openlineage.spool import EventSpool
from connectors.openlineage.spoolfiles import atomic_write, fallback_folder, write_all


@dataclass
class Endpoint:
    url: str = ""
    status: int = 200
    delay: float = 0.0
    requests: list[str] = field(default_factory=list)


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    """An OpenLineage HTTP receiver on 127.0.0.1 answering ``status`` after ``delay`` s."""
    found = Endpoint()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, delay = found.status, found.delay
            found.requests.append(self.path)
            time.sleep(delay)
            try:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
            except (BrokenPipeError, ConnectionResetError):
                pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    found.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield found
    server.shutdown()
    server.server_close()


def _event(n: int) -> dict[str, Any]:
    return {
        "eventType": "START",
        "eventTime": "2024-06-18T01:00:00+00:00",
        "producer": "https://github.com/silverline/silverline",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": f"01900000-0000-7000-8000-{n:012d}"},
        "job": {"namespace": "silverline", "name": "faults"},
        "inputs": [],
        "outputs": [],
    }


def _sink(url: str, timeout: float) -> ClientSink:
    config = HttpConfig(url=url, timeout=timeout, retry={"total": 0})
    return ClientSink(OpenLineageClient(transport=HttpTransport(config)))


def _close_while_in_flight(endpoint: Endpoint, spool: EventSpool, timeout: float) -> Emitter:
    emitter = Emitter([_sink(endpoint.url, timeout)], spool, register_atexit=False)
    emitter.emit(_event(1))
    started = time.monotonic()
    while not endpoint.requests and time.monotonic() - started < 5:
        time.sleep(0.01)
    assert endpoint.requests, "the send never started"
    assert emitter.close(0.2) is False  # 0.2 s flush + 0.2 s grace: still in flight
    assert spool.status().uncertain == 1
    return emitter


def _wait_for(condition: Any, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


def test_a_500_after_close_becomes_pending_and_replay_delivers_it_once(
    tmp_path: Path, endpoint: Endpoint
) -> None:
    spool = EventSpool(tmp_path / "spool")
    endpoint.status, endpoint.delay = 500, 1.2
    emitter = _close_while_in_flight(endpoint, spool, timeout=5.0)
    # The spool is corrected first, then the counts (the test must not read between).
    _wait_for(lambda: (spool.status().pending, spool.status().uncertain) == (1, 0)
              and emitter.stats.spooled == 1)  # fmt: skip
    status = spool.status()
    assert (status.pending, status.uncertain, status.by_sink) == (1, 0, {"openlineage": 1})
    assert emitter.stats.quarantined == 0 and emitter.stats.spooled == 1

    endpoint.status, endpoint.delay = 200, 0.0
    report = spool.replay({"openlineage": _sink(endpoint.url, 5.0)})  # a default replay
    assert (report.ok, report.delivered, report.remaining) == (True, 1, 0)
    assert len(endpoint.requests) == 2  # the refused send, then the replayed one
    again = spool.replay({"openlineage": _sink(endpoint.url, 5.0)})
    assert again.delivered == 0 and len(endpoint.requests) == 2  # exactly once
    assert spool.status().uncertain == 0


def test_a_timeout_after_close_stays_uncertain(tmp_path: Path, endpoint: Endpoint) -> None:
    spool = EventSpool(tmp_path / "spool")
    endpoint.status, endpoint.delay = 500, 1.5
    emitter = _close_while_in_flight(endpoint, spool, timeout=0.8)  # the client gives up
    time.sleep(1.5)
    status = spool.status()
    assert (status.pending, status.uncertain) == (0, 1)
    assert emitter.stats.quarantined == 1
    assert spool.replay({"openlineage": _sink(endpoint.url, 5.0)}).delivered == 0


def test_a_success_after_close_leaves_nothing_uncertain(tmp_path: Path, endpoint: Endpoint) -> None:
    spool = EventSpool(tmp_path / "spool")
    endpoint.status, endpoint.delay = 200, 1.0
    emitter = _close_while_in_flight(endpoint, spool, timeout=5.0)
    _wait_for(lambda: spool.status().uncertain == 0 and emitter.stats.delivered == 1)
    status = spool.status()
    assert (status.pending, status.uncertain) == (0, 0)
    assert (emitter.stats.delivered, emitter.stats.quarantined) == (1, 0)


def test_the_grace_lets_a_send_just_past_the_flush_settle(
    tmp_path: Path, endpoint: Endpoint
) -> None:
    spool = EventSpool(tmp_path / "spool")
    endpoint.status, endpoint.delay = 200, 0.4
    emitter = Emitter([_sink(endpoint.url, 5.0)], spool, register_atexit=False)
    emitter.emit(_event(1))
    assert emitter.close(0.3) is True  # 0.3 s flush, then up to 0.3 s of grace
    assert spool.status().uncertain == 0 and emitter.stats.delivered == 1


def _raised(exc: BaseException) -> BaseException:
    """``exc`` as a sink raises it: translated, ``from exc``."""
    try:
        raise translate(exc, "OpenLineage http failed") from exc
    except Exception as error:
        return error


def test_which_failures_certainly_did_not_deliver(endpoint: Endpoint) -> None:
    with ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler) as server:
        closed = int(server.server_address[1])
    try:
        requests.post(f"http://127.0.0.1:{closed}", timeout=2)
    except requests.RequestException as exc:
        assert certainly_not_delivered(_raised(exc)) is True  # refused
    endpoint.status, endpoint.delay = 500, 0.5
    try:
        requests.post(endpoint.url, timeout=0.1)
    except requests.RequestException as exc:
        assert certainly_not_delivered(_raised(exc)) is False  # timed out
    endpoint.delay = 0.0
    response = requests.post(endpoint.url, timeout=2)
    with pytest.raises(requests.HTTPError) as answered:
        response.raise_for_status()
    assert certainly_not_delivered(_raised(answered.value)) is True


# -- an unwritable spool ------------------------------------------------------------------
#
# The tests run as root, which ignores permission bits, so the unwritable folder is real in
# other ways: a file where the folder should be (EEXIST/ENOTDIR), and /dev/full (ENOSPC)
# under an atomic write; a full disk for the spool folder alone is a monkeypatched write.


def _failing_emitter(spool: EventSpool) -> tuple[Emitter, MemorySink]:
    sink = MemorySink("openlineage", fail=lambda event: True)  # down: every event goes to the spool
    return Emitter([sink], spool, register_atexit=False, cooldown=60), sink


def _no_tmp(*folders: Path) -> None:
    for folder in folders:
        if folder.is_dir():
            assert not [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("broken", ["a file in its place", "a full disk"])
def test_an_unwritable_spool_falls_back_to_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, broken: str
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = tmp_path / "project" / ".lineage" / "spool"
    folder.parent.mkdir(parents=True)
    if broken == "a file in its place":
        folder.write_text("not a folder\n")
    else:  # a full disk only for this folder: a monkeypatch (no small filesystem here)
        folder.mkdir()
        real = write_all

        def full(fd: int, data: bytes) -> None:
            if os.readlink(f"/proc/self/fd/{fd}").startswith(str(folder)):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            real(fd, data)

        monkeypatch.setattr(spool_module, "_write_all", full)
    fallback = fallback_folder(folder)
    assert fallback.parent == tmp_path / "cache" / "silverline" / "spool"
    emitter, _ = _failing_emitter(EventSpool(folder, fallback=fallback))
    with caplog.at_level(logging.WARNING, logger="connectors.openlineage"):
        for n in range(5):
            emitter.emit(_event(n))
        assert emitter.flush(10)
        emitter.close(1)
    stats = emitter.stats
    assert (stats.spooled, stats.dropped) == (5, 0)
    moved = [r.getMessage() for r in caplog.records if "instead" in r.getMessage()]
    assert len(moved) == 1 and str(folder) in moved[0] and str(fallback) in moved[0]
    assert stat.S_IMODE(fallback.stat().st_mode) == 0o700
    healthy = MemorySink("openlineage")
    report = EventSpool(fallback).replay({"openlineage": healthy})
    assert (report.delivered, report.remaining, len(healthy.events)) == (5, 0, 5)
    _no_tmp(fallback, folder)


def test_when_the_fallback_fails_too_the_losses_are_counted_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "cache").write_text("a file, not a cache folder\n")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = tmp_path / "spool"
    folder.write_text("not a folder\n")
    emitter, _ = _failing_emitter(EventSpool(folder, fallback=fallback_folder(folder)))
    with caplog.at_level(logging.DEBUG, logger="connectors.openlineage"):
        for n in range(4):
            emitter.emit(_event(n))  # never raises into the job
        assert emitter.flush(10)
        emitter.close(1)
    assert (emitter.stats.spooled, emitter.stats.dropped) == (0, 4)
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len([m for m in errors if "lost:" in m]) == 1
    assert [m for m in errors if "lost in all" in m] == [
        "OpenLineage: 4 event(s) lost in all (no spool could keep them)"
    ]


def test_a_failed_atomic_write_leaves_no_tmp_file(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    target.write_bytes(b"old")
    temporary = tmp_path / f".state.json.{os.getpid()}.{threading.get_ident()}.tmp"
    temporary.symlink_to("/dev/full")  # the temporary file's writes fail: ENOSPC
    with pytest.raises(OSError) as failed:
        atomic_write(target, b"new" * 1000)
    assert failed.value.errno == errno.ENOSPC
    assert target.read_bytes() == b"old"
    assert not temporary.exists() and not temporary.is_symlink()
    _no_tmp(tmp_path)


def test_the_cli_reports_an_unusable_spool_in_one_line_and_replays_the_fallback(
    tmp_path: Path,
) -> None:
    (tmp_path / "lineage.yml").write_text("{}\n")
    folder = tmp_path / ".lineage" / "spool"
    folder.parent.mkdir(parents=True)
    folder.write_text("not a folder\n")  # the project spool cannot be used
    cache = tmp_path / "cache"
    fallback = EventSpool(_fallback_under(cache, folder))
    fallback.append([(_event(n), ["events_file"]) for n in range(3)])
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    env.pop("OPENLINEAGE_URL", None)
    exe = Path(sys.executable).with_name("lineage")

    def lineage(*command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(exe), *command], cwd=tmp_path, env=env, capture_output=True, text=True,
            timeout=120,
        )  # fmt: skip

    status = lineage("events", "status")
    assert status.returncode == 1, (status.stdout, status.stderr)
    lines = status.stderr.strip().splitlines()
    assert len(lines) == 1 and str(folder) in lines[0], status.stderr
    assert "Traceback" not in status.stderr
    assert "fallback spool" in status.stdout and re.search(r"pending\s+\S\s+3\b", status.stdout)

    replay = lineage("events", "replay")
    assert replay.returncode == 1, (replay.stdout, replay.stderr)
    assert len(replay.stderr.strip().splitlines()) == 1 and "Traceback" not in replay.stderr
    assert fallback.status().pending == 0
    written = list((tmp_path / ".lineage" / "events").rglob("*.jsonl"))
    assert sum(len(p.read_text().splitlines()) for p in written) == 3  # delivered once


def _fallback_under(cache: Path, folder: Path) -> Path:
    previous = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(cache)
    try:
        return fallback_folder(folder)
    finally:
        if previous is None:
            del os.environ["XDG_CACHE_HOME"]
        else:
            os.environ["XDG_CACHE_HOME"] = previous
