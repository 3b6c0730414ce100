"""The emitter: the caller only enqueues; a full queue, a failing or hanging sink and the
end of the process all end in the spool, never in the caller's exception or delay; a sink
refusing an event for good sets it aside, never spooled or retried."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from openlineage.client import OpenLineageClient
from openlineage.client.transport.http import HttpConfig, HttpTransport

from connectors.openlineage.emitter import Emitter
from connectors.openlineage.sinks import ClientSink, JsonLinesSink, MemorySink
from connectors.openlineage.spool import EventSpool
from lineage.errors import ConnectorError, PermanentConnectorError
from tests.connectors.conftest import Answering


def _event(n: int) -> dict[str, Any]:
    """A complete, valid run event (see ``test_the_sample_events_are_valid``)."""
    return {
        "eventType": "START",
        "eventTime": "2024-06-18T01:00:00+00:00",
        "producer": "https://github.com/silverline/silverline",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": f"01900000-0000-7000-8000-{n:012d}"},
        "job": {"namespace": "default", "name": "j"},
    }


def _numbers(events: list[Mapping[str, Any]]) -> list[int]:
    return [int(e["run"]["runId"].rsplit("-", 1)[1]) for e in events]


class BlockingSink:
    """Blocks in ``send`` until released: a backend that hangs."""

    name = "blocking"

    def __init__(self) -> None:
        self.release = threading.Event()
        self.entered = threading.Event()
        self.events: list[Mapping[str, Any]] = []

    def send(self, event: Mapping[str, Any]) -> None:
        self.entered.set()
        self.release.wait(30)
        self.events.append(event)

    def close(self) -> None:
        return None


def test_delivers_in_order_from_one_worker(tmp_path: Path) -> None:
    sink = MemorySink()
    emitter = Emitter([sink], EventSpool(tmp_path), register_atexit=False)
    for n in range(500):
        emitter.emit(_event(n))
    assert emitter.flush(10)
    assert _numbers(sink.events) == list(range(500))
    assert emitter.stats.delivered == 500 and emitter.stats.spooled == 0
    assert emitter.close(1)


def test_a_full_queue_spools_on_the_callers_thread(tmp_path: Path) -> None:
    sink = BlockingSink()
    spool = EventSpool(tmp_path)
    emitter = Emitter([sink], spool, queue_size=2, register_atexit=False)
    emitter.emit(_event(0))
    assert sink.entered.wait(5)  # the worker holds event 0
    started = time.perf_counter()
    for n in range(1, 6):
        emitter.emit(_event(n))  # 1, 2 fill the queue; 3, 4, 5 go to disk
    assert time.perf_counter() - started < 2
    assert _numbers([e for _, _, e in spool.pending_events()]) == [3, 4, 5]
    sink.release.set()
    assert emitter.flush(10)
    assert _numbers(sink.events) == [0, 1, 2]
    emitter.close(1)


def test_a_failing_sink_opens_its_circuit(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    calls: list[int] = []

    def refuse(event: Mapping[str, Any]) -> bool:
        calls.append(1)
        return True

    failing = MemorySink("openlineage", fail=refuse)
    healthy = MemorySink("catalog")
    spool = EventSpool(tmp_path)
    emitter = Emitter([failing, healthy], spool, cooldown=60, register_atexit=False)
    for n in range(20):
        emitter.emit(_event(n))
    assert emitter.flush(10)
    assert len(calls) == 1  # tried once, then skipped for the cool-down
    assert _numbers(healthy.events) == list(range(20))
    pending = spool.pending_events()
    assert [sinks for _, sinks, _ in pending] == [["openlineage"]] * 20
    assert caplog.text.count("OpenLineage sink openlineage failed") == 1
    emitter.close(1)


def test_all_sinks_down_moves_the_backlog_in_batches(tmp_path: Path) -> None:
    sink = MemorySink(fail=lambda event: True)
    spool = EventSpool(tmp_path)
    emitter = Emitter([sink], spool, cooldown=60, register_atexit=False)
    for n in range(1000):
        emitter.emit(_event(n))
    assert emitter.flush(20)
    assert _numbers([e for _, _, e in spool.pending_events()]) == list(range(1000))
    emitter.close(1)


def test_close_quarantines_a_hung_send_and_spools_the_rest(tmp_path: Path) -> None:
    sink = BlockingSink()
    spool = EventSpool(tmp_path)
    emitter = Emitter([sink], spool, register_atexit=False)
    for n in range(3):
        emitter.emit(_event(n))
    assert sink.entered.wait(5)
    started = time.perf_counter()
    assert emitter.close(0.2) is False
    assert time.perf_counter() - started < 3
    assert [e["seq"] for e in spool.uncertain_events()] == [None]
    assert _numbers([spool.uncertain_events()[0]["event"]]) == [0]
    assert _numbers([e for _, _, e in spool.pending_events()]) == [1, 2]
    emitter.emit(_event(3))  # after close: straight to the spool
    assert _numbers([e for _, _, e in spool.pending_events()]) == [1, 2, 3]
    sink.release.set()
    time.sleep(0.2)
    assert _numbers(sink.events) == [0]  # the hung send finished, nothing more was sent


def test_without_a_spool_losses_are_counted(tmp_path: Path) -> None:
    emitter = Emitter([MemorySink(fail=lambda e: True)], None, register_atexit=False)
    emitter.emit(_event(1))
    assert emitter.flush(5)
    assert emitter.stats.dropped == 1
    emitter.close(1)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork only")
def test_a_forked_child_has_its_own_queue_and_worker(tmp_path: Path) -> None:
    out = tmp_path / "out"
    sink = JsonLinesSink(out)
    blocker = BlockingSink()
    emitter = Emitter([sink], EventSpool(tmp_path / "spool"), register_atexit=False)
    emitter.emit(_event(1))
    assert emitter.flush(5)
    slow = Emitter([blocker], EventSpool(tmp_path / "spool2"), register_atexit=False)
    slow.emit(_event(90))
    assert blocker.entered.wait(5)
    slow.emit(_event(91))  # queued in the parent when the child forks
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            emitter.emit(_event(2))
            ok = emitter.flush(10)
            code = 0 if ok and slow.stats.queued == 0 else 3
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    blocker.release.set()
    assert slow.flush(5)
    lines = [json.loads(line) for f in out.glob("*.jsonl") for line in f.read_text().splitlines()]
    assert sorted(_numbers(lines)) == [1, 2]
    assert _numbers(blocker.events) == [90, 91]
    emitter.close(1)
    slow.close(1)


def test_sink_errors_are_connector_errors() -> None:
    with pytest.raises(ConnectorError):
        MemorySink(fail=lambda e: True).send(_event(1))


def test_the_sample_events_are_valid() -> None:
    from tests.lineage.run.test_support import validate_event

    validate_event(_event(1))


def test_a_permanent_refusal_is_neither_spooled_nor_retried(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[int] = []

    def refuse(event: Mapping[str, Any]) -> bool:
        calls.append(1)
        return True

    refusing = MemorySink("openlineage", fail=refuse, error=PermanentConnectorError)
    healthy = MemorySink("catalog")
    spool = EventSpool(tmp_path)
    emitter = Emitter([refusing, healthy], spool, cooldown=60, register_atexit=False)
    for n in range(5):
        emitter.emit(_event(n))
    assert emitter.flush(10)
    assert len(calls) == 5  # each event tried once: no circuit, no retry, no spool
    assert _numbers(healthy.events) == list(range(5))
    assert spool.pending_events() == [] and spool.status().rejected == 5
    assert [e["sink"] for e in spool.rejected_events()] == ["openlineage"] * 5
    assert _numbers([e["event"] for e in spool.rejected_events()]) == list(range(5))
    stats = emitter.stats
    assert (stats.rejected, stats.spooled, stats.delivered, stats.dropped) == (5, 0, 5, 0)
    assert caplog.text.count("OpenLineage sink openlineage refused an event") == 1
    assert "Retrying cannot help" in caplog.text
    emitter.close(1)


def test_a_real_endpoint_refusing_and_failing(tmp_path: Path, answering: Answering) -> None:
    config = HttpConfig(url=answering.url, timeout=2.0, retry={"total": 0})
    sink = ClientSink(OpenLineageClient(transport=HttpTransport(config)))
    spool = EventSpool(tmp_path)
    emitter = Emitter([sink], spool, cooldown=0, register_atexit=False)
    answering.status = 400  # the receiver refuses these events: replaying cannot help
    emitter.emit(_event(1))
    emitter.emit(_event(2))
    assert emitter.flush(10)
    answering.status = 503  # the receiver is down for a while: these wait in the spool
    emitter.emit(_event(3))
    assert emitter.flush(10)
    assert len(answering.requests) == 3  # one request per event
    assert _numbers([e for _, _, e in spool.pending_events()]) == [3]
    assert _numbers([e["event"] for e in spool.rejected_events()]) == [1, 2]
    assert "HTTPError: 400" in spool.rejected_events()[0]["reason"]
    assert (emitter.stats.rejected, emitter.stats.spooled) == (2, 1)
    answering.status = 200
    report = spool.replay({sink.name: sink})
    assert report.ok and report.delivered == 1 and report.rejected == 0
    emitter.close(1)
