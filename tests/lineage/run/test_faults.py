"""A real OpenLineage HTTP endpoint on 127.0.0.1 that fails (500), then hangs longer than
the client's timeout, then recovers: the jobs' results and timings do not notice, and after
``replay_spool()`` the endpoint has every event exactly once (by runId + eventType).

The hanging endpoint models a stalled backend: it holds the request past the client's
timeout and then refuses it (503), so it never accepted those events. (A backend that
*accepts* a request after the client gave up cannot be told apart from one that did not:
replay would deliver that event again; see docs/openlineage.md.)
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from lineage.config import ProjectConfig
from lineage.run import configure, flush, job, replay_spool, reset, spool_status
from tests.lineage.run.test_support import validate_all, validate_event

CLIENT_TIMEOUT = 0.5
HANG = 3.0


class Endpoint:
    """An OpenLineage HTTP receiver whose behaviour the test switches: ok, fail, hang."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.accepted: list[dict[str, Any]] = []
        self.requests = 0
        self.lock = threading.Lock()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                mode = endpoint.mode  # what the backend is doing when the request arrives
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with endpoint.lock:
                    endpoint.requests += 1
                try:
                    if mode == "fail":
                        self.send_response(500)
                    elif mode == "hang":
                        time.sleep(HANG)
                        self.send_response(503)
                    else:
                        with endpoint.lock:
                            endpoint.accepted.append(json.loads(body))
                        self.send_response(201)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:  # the client gave up on a hung request: nothing to answer
                    pass

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Endpoint]:
    found = Endpoint()
    monkeypatch.chdir(tmp_path)
    # The client's own configuration, as a user would set it.
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__TYPE", "http")
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__URL", found.url)
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__ENDPOINT", "api/v1/lineage")
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__TIMEOUT", str(CLIENT_TIMEOUT))
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__RETRY", '{"total": 0}')
    configure(
        config=ProjectConfig(root=tmp_path),
        spool_dir=tmp_path / "spool",
        cooldown=0,  # try the backend for every event: this test wants each outcome
        register_atexit=False,
    )
    yield found
    reset()
    found.close()


@job(name="erp.extract", outputs=["bronze.erp_cust_az12"])
def extract(day: str) -> str:
    return f"extracted {day}"


def _timed(day: str) -> tuple[str, float]:
    started = time.perf_counter()
    result = extract(day)
    return result, time.perf_counter() - started


def test_a_failing_then_hanging_backend_never_slows_the_job(endpoint: Endpoint) -> None:
    endpoint.mode = "fail"
    assert _timed("2024-06-16")[0] == "extracted 2024-06-16"
    assert flush(10)

    endpoint.mode = "hang"
    result, elapsed = _timed("2024-06-17")
    assert result == "extracted 2024-06-17"
    assert elapsed < HANG / 3  # the call only enqueued: the worker waits, not the job
    assert flush(10)  # the worker gives up after the client's timeout, and spools

    endpoint.mode = "ok"
    assert _timed("2024-06-18")[0] == "extracted 2024-06-18"
    assert flush(10)
    assert len(endpoint.accepted) == 2  # the third run: delivered live
    status = spool_status()
    assert status.pending == 4 and status.by_sink == {"openlineage": 4}

    report = replay_spool()
    assert report.ok and report.delivered == 4 and report.remaining == 0
    assert endpoint.requests == 2 + 2 + 2 + 4
    seen = Counter((e["run"]["runId"], e["eventType"]) for e in endpoint.accepted)
    assert len(seen) == 6 and set(seen.values()) == {1}  # every event exactly once
    assert Counter(kind for _, kind in seen) == {"START": 3, "COMPLETE": 3}
    assert replay_spool().delivered == 0
    for event in endpoint.accepted:
        validate_event(event)  # as the client serialized them, its own facets included
        assert event["job"]["name"] == "erp.extract"


EXITING = """
import sys, time
from pathlib import Path
from lineage.config import ProjectConfig
from lineage.run import configure, job

class SlowSink:
    name = "memory"
    def send(self, event):
        time.sleep(0.4)  # a backend slower than the job
        with open(sys.argv[2], "a") as out:
            out.write(event["run"]["runId"] + " " + event["eventType"] + "\\n")
    def close(self):
        pass

configure(sinks=[SlowSink()], config=ProjectConfig(root=Path(sys.argv[1])),
          spool_dir=Path(sys.argv[1]) / "spool", flush_timeout=0.5)

@job(name="erp.quick")
def quick(i):
    return i

for i in range(5):
    quick(i)
# the interpreter exits: at most flush_timeout is spent waiting for the backend
"""


def test_exit_waits_a_bounded_time_then_spools(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from connectors.openlineage.spool import EventSpool

    delivered = tmp_path / "delivered.txt"
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", EXITING, str(tmp_path), str(delivered)],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])},
        check=True,
        timeout=60,
    )
    assert time.perf_counter() - started < 10 * 0.4  # not the 4 s the backend needs
    live = delivered.read_text().splitlines() if delivered.exists() else []
    spool = EventSpool(tmp_path / "spool")
    status = spool.status()
    assert len(live) + status.pending + status.uncertain == 10
    assert status.pending > 0

    class Receiver:
        name = "memory"

        def send(self, event: dict[str, Any]) -> None:
            with open(delivered, "a") as out:
                out.write(event["run"]["runId"] + " " + event["eventType"] + "\n")

    uncertain = {
        e["event"]["run"]["runId"] + " " + e["event"]["eventType"] for e in spool.uncertain_events()
    }
    validate_all([e for _, _, e in spool.pending_events()])
    validate_all([e["event"] for e in spool.uncertain_events()])
    report = spool.replay({"memory": Receiver()}, include_uncertain=True)
    assert report.ok
    lines = delivered.read_text().splitlines()
    assert len(set(lines)) == 10  # every event arrived: live, replayed or re-sent
    # Only a send cut short by the exit may arrive twice, and only when asked for: the
    # backend may have finished it while the interpreter was shutting down.
    assert {line for line in lines if lines.count(line) > 1} <= uncertain
