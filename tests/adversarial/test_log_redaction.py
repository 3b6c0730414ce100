"""Log lines never carry secrets: Silverline's own loggers mask them, and in the
``lineage`` command so does every library's record that gets printed."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from lineage.model import redacted_logger

SECRET_URL = "postgresql://etl:s3cr3t/p@ss@db.internal:5432/dwh"


@pytest.mark.parametrize("name", ["lineage.run", "connectors.openlineage", "parsers.sql"])
def test_our_loggers_mask_messages_arguments_and_tracebacks(
    name: str, caplog: pytest.LogCaptureFixture
) -> None:
    log = redacted_logger(name)
    with caplog.at_level(logging.WARNING, logger=name):
        log.warning("cannot reach %s (token=%s)", SECRET_URL, "abc123")
        try:
            raise RuntimeError(f"connect failed: {SECRET_URL} password=hunter2")
        except RuntimeError:
            log.exception("delivery failed")
    text = caplog.text
    assert "s3cr3t" not in text and "abc123" not in text and "hunter2" not in text
    assert "postgresql://etl:***@db.internal:5432/dwh" in text and "RuntimeError" in text


def test_the_command_masks_any_librarys_printed_warning(tmp_path: Path) -> None:
    probe = (
        "import importlib, logging\n"
        "importlib.import_module('lineage.cli.app')._redact_logs()\n"
        f"logging.getLogger('sqlalchemy.pool').warning('lost %s', {SECRET_URL!r})\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          cwd=tmp_path, timeout=60)  # fmt: skip
    assert "lost postgresql://etl:***@db.internal:5432/dwh" in done.stderr
    assert "s3cr3t" not in done.stderr
