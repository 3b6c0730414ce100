"""A push with nothing changed since the last one to the same target builds nothing.

The catalog's change marker, the settings and the DataHub connector's own code make a
mark recorded per target after each push; an equal mark (and an untouched push state)
means no aspect can differ, so the catalog is not even read. Each way the catalog can
change moves the mark: a write, a run, a deletion, other settings.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from connectors.datahub import DataHubSettings, PushTarget, push
from connectors.datahub import mcps as datahub_mcps
from lineage.catalog import Catalog

GONE_JOB = "urn:li:dataJob:(urn:li:dataFlow:(dbt,erp,prod),retired_model)"


@pytest.fixture
def pushed(datahub_catalog: Catalog, tmp_path: Path) -> tuple[Catalog, PushTarget, int]:
    target = PushTarget.lite(tmp_path / "lite.db")
    first = push(datahub_catalog, target)
    assert first.sent == first.built > 0
    return datahub_catalog, target, first.built


def _never_read(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object) -> None:
        raise AssertionError("the catalog was read for an unchanged push")

    monkeypatch.setattr(datahub_mcps, "read_catalog", refuse)


def test_an_unchanged_push_reads_and_builds_nothing(
    pushed: tuple[Catalog, PushTarget, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog, target, built = pushed
    _never_read(monkeypatch)
    report = push(catalog, target)
    assert (report.sent, report.built, report.unchanged) == (0, built, built)


def test_a_run_recorded_since_is_pushed(pushed: tuple[Catalog, PushTarget, int]) -> None:
    catalog, target, _ = pushed
    catalog.record_run("run-new", "erp_silver_customers", "START",
                       datetime(2026, 12, 1, 3, 0, tzinfo=timezone.utc))  # fmt: skip
    assert push(catalog, target).sent > 0
    assert push(catalog, target).sent == 0


def test_a_deletion_moves_the_mark(
    pushed: tuple[Catalog, PushTarget, int], tmp_path: Path
) -> None:
    catalog, target, _ = pushed
    # A job that left the catalog moves no timestamp: its rows are gone, counts change.
    with sqlite3.connect(tmp_path / "catalog.db") as conn:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("DELETE FROM jobs WHERE id = (SELECT min(id) FROM jobs)")
    report = push(catalog, target)
    assert report.retracted > 0


def test_other_settings_or_full_or_dry_run_build_again(
    pushed: tuple[Catalog, PushTarget, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog, target, built = pushed
    assert push(catalog, target, DataHubSettings(env="DEV")).sent > 0  # other URNs
    assert push(catalog, target, DataHubSettings(env="DEV")).sent == 0
    full = push(catalog, target, full=True)  # everything again, DEV's aspects retracted
    assert full.built == built and full.sent == built + full.retracted
    assert push(catalog, target, dry_run=True).built == built
    _never_read(monkeypatch)
    assert push(catalog, target).sent == 0  # the full push left the mark in place


def test_a_push_state_changed_by_anything_else_is_seen(
    pushed: tuple[Catalog, PushTarget, int],
) -> None:
    catalog, target, _ = pushed
    catalog.record_push(target.canonical, {(GONE_JOB, "dataJobInfo"): "0" * 64})
    assert push(catalog, target).retracted == 1


NOOP_PUSH = """
import sys
from connectors.datahub import PushTarget, push
from lineage.catalog import Catalog
with Catalog(sys.argv[1]) as catalog:
    report = push(catalog, PushTarget.lite(sys.argv[2]))
print(report.sent, "datahub.metadata.schema_classes" in sys.modules, "networkx" in sys.modules)
"""


def test_an_unchanged_push_loads_no_sdk(
    pushed: tuple[Catalog, PushTarget, int], tmp_path: Path
) -> None:
    _, target, _ = pushed
    argv = [sys.executable, "-c", NOOP_PUSH, f"sqlite:///{tmp_path / 'catalog.db'}",
            target.location]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.split() == ["0", "False", "False"], done.stderr
