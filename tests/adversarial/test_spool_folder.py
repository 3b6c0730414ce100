"""The OpenLineage spool folder is private, and one another user owns is not used.

Another user's spool could feed planted events to ``lineage events replay`` (sent with our
credentials) or read ours. Such a folder, or a file in it, is refused in one line: the
emitter logs it (the job goes on: events it could not keep are counted lost), and reads
and replay raise ``PermanentConnectorError``, which the CLI prints as one error line.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from connectors.openlineage.emitter import Emitter
from connectors.openlineage.sinks import MemorySink
from connectors.openlineage.spool import EventSpool
from lineage.errors import PermanentConnectorError

NOBODY = 65534

requires_root = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="chown to another user needs root"
)


def _event(n: int) -> dict[str, Any]:
    return {
        "eventType": "START",
        "eventTime": "2024-06-18T01:00:00+00:00",
        "producer": "https://github.com/silverline/silverline",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": f"01900000-0000-7000-8000-{n:012d}"},
        "job": {"namespace": "default", "name": f"job-{n}"},
    }


def _planted(folder: Path) -> Path:
    """A spool with one event waiting, as another user would leave it for us to replay."""
    EventSpool(folder).append([(_event(666), ["memory"])])
    return folder


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o077])
def test_the_spool_folder_is_created_private(tmp_path: Path, umask: int) -> None:
    folder = tmp_path / ".lineage" / "spool"
    previous = os.umask(umask)
    try:
        EventSpool(folder).append([(_event(1), ["memory"])])
    finally:
        os.umask(previous)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()} == {0o600}
    replay_folder = tmp_path / "other"
    assert EventSpool(replay_folder).replay({"memory": MemorySink()}).ok
    assert stat.S_IMODE(replay_folder.stat().st_mode) == 0o700


@requires_root
@pytest.mark.parametrize("owned", ["folder", "file"])
def test_a_spool_of_another_user_is_not_read(tmp_path: Path, owned: str) -> None:
    folder = _planted(tmp_path / "spool")
    target = folder if owned == "folder" else folder / "events.jsonl"
    os.chown(target, NOBODY, NOBODY)
    spool = EventSpool(folder)
    sink = MemorySink()
    for call in (
        spool.status,
        spool.pending_events,
        spool.uncertain_events,
        spool.rejected_events,
        lambda: spool.replay({"memory": sink}),
        lambda: spool.append([(_event(1), ["memory"])]),
    ):
        with pytest.raises(PermanentConnectorError) as caught:
            call()
        message = str(caught.value)
        assert str(target) in message and f"uid {NOBODY}" in message and "\n" not in message
    assert sink.events == []  # the planted event was never sent
    assert target.stat().st_uid == NOBODY


@requires_root
def test_a_job_is_not_disturbed_by_a_spool_of_another_user(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = _planted(tmp_path / "spool")
    os.chown(folder, NOBODY, NOBODY)
    failing = MemorySink("openlineage", fail=lambda event: True)
    emitter = Emitter([failing], EventSpool(folder), cooldown=60, register_atexit=False)
    caplog.set_level(logging.WARNING)
    emitter.emit(_event(1))  # the sink fails: the event would be spooled
    assert emitter.flush(10)
    emitter.close(1)
    assert emitter.stats.dropped == 1 and emitter.stats.spooled == 0
    lost = [r.getMessage() for r in caplog.records if "lost" in r.getMessage()]
    assert len(lost) == 1 and str(folder) in lost[0] and "\n" not in lost[0]


@requires_root
def test_the_cli_says_so_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "lineage.yml").write_text("{}\n")
    folder = _planted(tmp_path / ".lineage" / "spool")
    os.chown(folder, NOBODY, NOBODY)
    exe = Path(sys.executable).with_name("lineage")
    for command in (["events", "status", "--format", "json"], ["events", "replay"]):
        result = subprocess.run(
            [str(exe), *command], cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 1, (result.stdout, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and str(folder) in lines[0], result.stderr
        assert "Traceback" not in result.stderr
        assert "job-666" not in result.stdout + json.dumps(result.stderr)
