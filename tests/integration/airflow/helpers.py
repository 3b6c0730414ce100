"""Reading OpenLineage parent facets and tags, and ``lineage ingest``, for the tests here."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["clean_env", "ingest", "parent_of", "ref_of", "root_of", "tags_of"]


def parent_of(facets: Any) -> tuple[str, str, str]:
    """The parent run of a run's facets: (namespace, job name, run id)."""
    parent = facets["parent"]
    return (parent["job"]["namespace"], parent["job"]["name"], parent["run"]["runId"])


def root_of(facets: Any) -> tuple[str, str, str]:
    """The root run of a run's parent facet: (namespace, job name, run id)."""
    root = facets["parent"]["root"]
    return (root["job"]["namespace"], root["job"]["name"], root["run"]["runId"])


def tags_of(facets: Any) -> dict[str, str]:
    """The ``tags`` run facet as a dict."""
    return {t["key"]: t["value"] for t in facets.get("tags", {}).get("tags", [])}


def ref_of(event: dict[str, Any]) -> tuple[str, str, str]:
    """An event's own run: (namespace, job name, run id)."""
    return (event["job"]["namespace"], event["job"]["name"], event["run"]["runId"])


def ingest(events_file: Path, catalog_url: str) -> None:
    """``lineage ingest`` of the provider's events into our catalog (this venv's CLI)."""
    argv = ["ingest", "--strict", "--catalog", catalog_url, str(events_file)]
    done = subprocess.run(
        [sys.executable, "-m", "lineage.cli", *argv],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def clean_env(extra: Mapping[str, str]) -> dict[str, str]:
    """This environment without its OpenLineage, Airflow and Silverline settings, plus
    ``extra``: the runs must not inherit the developer's transport or catalog."""
    prefixes = ("OPENLINEAGE", "AIRFLOW", "LINEAGE_", "VIRTUAL_ENV", "PYTHONPATH")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env.update(extra)
    return env
