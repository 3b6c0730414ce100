"""The journal: each event on disk before ``emit`` returns, marked as it is delivered, and
recovered into the spool (exactly once) when its process died.

Killed processes are real child processes ending in ``os._exit`` or SIGKILL, with a sink
that never answers, so their events exist nowhere but in the journal.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from connectors.openlineage.emitter import Emitter
from connectors.openlineage.journal import JOURNAL_FOLDER, Journal
from connectors.openlineage.sinks import MemorySink
from connectors.openlineage.spool import EventSpool
from lineage.errors import PermanentConnectorError

REPO = Path(__file__).resolve().parents[3]


def _event(n: int, kind: str = "START") -> dict[str, Any]:
    return {
        "eventType": kind,
        "eventTime": "2024-06-18T01:00:00+00:00",
        "producer": "https://github.com/silverline/silverline",
        "run": {"runId": f"01900000-0000-7000-8000-{n:012d}"},
        "job": {"namespace": "silverline", "name": "journal"},
    }


def _ids(events: list[Any]) -> Counter[str]:
    return Counter(e["run"]["runId"][-12:] for e in events)


def _journal(spool: EventSpool, sinks: list[str], **options: Any) -> Journal:
    return Journal(spool.folder / JOURNAL_FOLDER, sinks, **options)


class HangingSink:
    """A sink whose sends never end until ``release`` is set."""

    def __init__(self, name: str = "memory") -> None:
        self.name = name
        self.release = threading.Event()

    def send(self, event: Any) -> None:
        self.release.wait()

    def close(self) -> None:
        return None


def test_every_event_is_on_disk_before_emit_returns(tmp_path: Path) -> None:
    spool = EventSpool(tmp_path / "spool")
    sink = HangingSink()
    emitter = Emitter([sink], spool, register_atexit=False, journal=_journal(spool, ["memory"]))
    for n in range(50):
        emitter.emit(_event(n))
        segment = next((spool.folder / JOURNAL_FOLDER).glob("*.jsonl"))
        lines = segment.read_bytes().splitlines()
        assert json.loads(lines[-1]) == {"i": n, "event": _event(n)}  # there, already
    sink.release.set()
    assert emitter.close(5.0)
    assert list((spool.folder / JOURNAL_FOLDER).iterdir()) == []  # all settled: removed


KILLED = textwrap.dedent(
    """
    import os, signal, sys, threading
    sys.path.insert(0, {repo!r})
    from connectors.openlineage.emitter import Emitter
    from connectors.openlineage.journal import Journal
    from connectors.openlineage.spool import EventSpool

    sending = threading.Event()

    class Hanging:
        name = "memory"
        def send(self, event):
            sending.set()
            threading.Event().wait()
        def close(self):
            pass

    spool = EventSpool(sys.argv[1])
    emitter = Emitter([Hanging()], spool, journal=Journal(spool.folder / "journal", ["memory"]))
    for n in range(200):
        emitter.emit({{"eventType": "START", "eventTime": "2024-06-18T01:00:00+00:00",
                      "run": {{"runId": f"01900000-0000-7000-8000-{{n:012d}}"}},
                      "job": {{"namespace": "silverline", "name": "journal"}}}})
    sending.wait(10)  # the first send is in flight (a loaded machine may lag): then die
    print("emitted", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def test_a_killed_process_leaves_its_events_for_replay_exactly_once(tmp_path: Path) -> None:
    folder = tmp_path / "spool"
    done = subprocess.run(
        [sys.executable, "-c", KILLED.format(repo=str(REPO)), str(folder)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == -signal.SIGKILL and "emitted" in done.stdout, done.stderr
    spool = EventSpool(folder)
    assert spool.status().journaled == 200
    sink = MemorySink()
    report = spool.replay({"memory": sink})
    # The first event was being sent when the process died: the receiver may have it.
    assert (report.recovered, report.delivered, report.quarantined) == (199, 199, 0)
    assert spool.status().uncertain == 1
    assert spool.uncertain_events()[0]["event"]["run"]["runId"].endswith("000000000000")
    assert _ids(sink.events) == Counter(f"{n:012d}" for n in range(1, 200))
    again = spool.replay({"memory": sink})
    assert (again.recovered, again.delivered) == (0, 0)
    assert spool.status().journaled == 0 and len(sink.events) == 199


def test_marks_decide_what_each_sink_is_still_owed(tmp_path: Path) -> None:
    spool = EventSpool(tmp_path / "spool")
    journal = _journal(spool, ["a", "b"])
    refs = [journal.append(_event(n)) for n in range(5)]
    journal.sending(refs[0], "a")  # 0: a has it, b was being sent: uncertain for b
    journal.answered(refs[0], "a")
    journal.sending(refs[0], "b")
    journal.sending(refs[1], "a")  # 1: a failed, b has it: owed to a only
    journal.answered(refs[1], "a", owed=True)
    journal.sending(refs[1], "b")
    journal.answered(refs[1], "b")
    journal.settle([refs[2]])  # 2: settled: nothing to do; 3, 4: no mark: owed to both
    assert journal.close() == 4  # unsettled entries stay, the lock is released
    a, b = MemorySink("a"), MemorySink("b")
    report = spool.replay({"a": a, "b": b})
    assert report.recovered == 3
    assert _ids(a.events) == Counter({"000000000001": 1, "000000000003": 1, "000000000004": 1})
    assert _ids(b.events) == Counter({"000000000003": 1, "000000000004": 1})
    assert [(e["sink"], e["event"]["run"]["runId"][-1]) for e in spool.uncertain_events()] == [
        ("b", "0")
    ]


def test_a_half_written_last_line_is_skipped_never_delivered(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spool = EventSpool(tmp_path / "spool")
    journal = _journal(spool, ["memory"])
    for n in range(3):
        journal.append(_event(n))
    segment = next((spool.folder / JOURNAL_FOLDER).glob("*.jsonl"))
    journal.close()
    line = json.dumps({"i": 3, "event": _event(3)})
    with open(segment, "ab") as handle:  # killed inside write(): half a line, no newline
        handle.write(line[: len(line) // 2].encode())
    sink = MemorySink()
    with caplog.at_level(logging.INFO, logger="connectors.openlineage"):
        report = spool.replay({"memory": sink})
    assert report.recovered == 3 and _ids(sink.events) == Counter(f"{n:012d}" for n in range(3))
    assert "1 cut short and skipped" in caplog.text


def test_a_live_processs_segment_is_left_alone(tmp_path: Path) -> None:
    spool = EventSpool(tmp_path / "spool")
    journal = _journal(spool, ["memory"])
    journal.append(_event(1))  # its writer holds the lock: it may still deliver it
    sink = MemorySink()
    assert spool.replay({"memory": sink}).recovered == 0 and spool.status().journaled == 0
    journal.close()
    assert spool.replay({"memory": sink}).recovered == 1 and len(sink.events) == 1


def test_recovery_cut_short_never_spools_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool = EventSpool(tmp_path / "spool")
    journal = _journal(spool, ["memory"])
    for n in range(10):
        journal.append(_event(n))
    journal.close()
    real_unlink = os.unlink

    def crash(path: Any, *args: Any, **kwargs: Any) -> None:
        if str(path).endswith(".jsonl") and JOURNAL_FOLDER in str(path):
            raise KeyboardInterrupt("killed after spooling, before removing the segment")
        real_unlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", crash)
    with pytest.raises(KeyboardInterrupt):
        spool.replay({"memory": MemorySink()})
    monkeypatch.setattr(os, "unlink", real_unlink)
    assert spool.status().pending == 10  # spooled, the segment still there
    sink = MemorySink()
    report = spool.replay({"memory": sink})
    assert (report.recovered, report.delivered) == (0, 10)
    assert _ids(sink.events) == Counter(f"{n:012d}" for n in range(10))


def test_segments_rotate_and_go_once_settled(tmp_path: Path) -> None:
    spool = EventSpool(tmp_path / "spool")
    journal = _journal(spool, ["memory"], segment_size=10)
    refs = [journal.append(_event(n)) for n in range(25)]
    folder = spool.folder / JOURNAL_FOLDER
    assert len(list(folder.glob("*.jsonl"))) == 3
    journal.settle(refs[:20])
    assert len(list(folder.glob("*.jsonl"))) == 1  # the two full, settled ones are gone
    journal.settle(refs[20:])
    journal.sync()
    assert journal.close() == 0 and list(folder.iterdir()) == []


def test_the_next_start_delivers_leftovers_once_even_when_two_start_together(
    tmp_path: Path,
) -> None:
    spool = EventSpool(tmp_path / "spool")
    journal = _journal(spool, ["memory"])
    for n in range(300):
        journal.append(_event(n))
    journal.close()  # as a killed process leaves it
    spool.append([(_event(n), ["memory"]) for n in range(300, 400)])  # spooled at exit
    sinks = [MemorySink(), MemorySink()]
    emitters = [
        Emitter([sink], EventSpool(spool.folder), register_atexit=False, replay_on_start=True)
        for sink in sinks
    ]
    for n, emitter in enumerate(emitters):  # the first event starts each worker
        emitter.emit(_event(1000 + n, "COMPLETE"))
    deadline = time.monotonic() + 20
    while sum(len(s.events) for s in sinks) < 402 and time.monotonic() < deadline:
        spool.status()  # `lineage events status` while the workers start
        time.sleep(0.05)
    # A sink holds an event a moment before the spool marks it delivered; status reads
    # meanwhile must not keep the starting workers from the killed process's journal.
    while spool.status().pending and time.monotonic() < deadline:
        time.sleep(0.05)
    delivered = _ids([*sinks[0].events, *sinks[1].events])
    assert delivered == Counter(f"{n:012d}" for n in [*range(400), 1000, 1001])
    assert spool.status().pending == 0 and spool.status().journaled == 0
    for emitter in emitters:
        emitter.close(1.0)
    # Nothing left over for a third start to deliver again.
    assert spool.status().pending == 0 and _ids([*sinks[0].events, *sinks[1].events]) == delivered


def test_uncertain_and_rejected_go_to_the_fallback_when_the_spool_is_unwritable(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the spool folder should be")
    spool = EventSpool(blocked / "spool", fallback=tmp_path / "fallback")
    assert spool.fallback is not None
    refusing = MemorySink("refusing", fail=lambda e: True, error=PermanentConnectorError)
    hanging = HangingSink("hanging")
    emitter = Emitter([refusing, hanging], spool, register_atexit=False, cooldown=0)
    with caplog.at_level(logging.WARNING, logger="connectors.openlineage"):
        emitter.emit(_event(1))
        deadline = time.monotonic() + 5
        while not emitter.stats.rejected and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.05)  # now sending to the hanging sink
        assert emitter.close(0.1) is False
    status = spool.fallback.status()
    assert (status.rejected, status.uncertain) == (1, 1)
    assert emitter.stats.quarantined == 1 and emitter.stats.rejected == 1
    warnings = [r for r in caplog.records if "deliveries are kept in" in r.getMessage()]
    assert len(warnings) == 1 and str(tmp_path / "fallback") in warnings[0].getMessage()
    hanging.release.set()


def test_a_status_read_during_recovery_does_not_leave_the_journal_behind(
    tmp_path: Path,
) -> None:
    import fcntl

    from connectors.openlineage.journal import pending_count, recover

    spool = EventSpool(tmp_path / "spool")
    journal = _journal(spool, ["memory"])
    for n in range(20):
        journal.append(_event(n))
    journal.close()  # as a killed process leaves it
    [segment] = (spool.folder / JOURNAL_FOLDER).glob("*.jsonl")
    assert pending_count(spool.folder) == 20
    # `lineage events status` reading the segment at the moment recovery runs.
    reader = os.open(segment, os.O_RDONLY)
    fcntl.flock(reader, fcntl.LOCK_SH)
    threading.Timer(0.2, os.close, (reader,)).start()
    assert recover(spool).pending == 20
    assert spool.status().pending == 20 and spool.status().journaled == 0


def test_recovery_leaves_the_segment_of_a_live_writer_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from connectors.openlineage import journal as journal_module
    from connectors.openlineage.journal import pending_count, recover

    # Were recovery to wait on a writer as on a reader, it would hang for a minute.
    monkeypatch.setattr(journal_module, "_READER_WAIT_S", 60.0)
    spool = EventSpool(tmp_path / "spool")
    journal = _journal(spool, ["memory"])  # alive: holds its segment
    journal.append(_event(1))
    found: list[int] = []
    worker = threading.Thread(target=lambda: found.append(recover(spool).pending))
    worker.start()
    worker.join(timeout=30)
    assert found == [0] and pending_count(spool.folder) == 0
    journal.close()
