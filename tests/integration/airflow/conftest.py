"""Real Apache Airflow 3 for the tests here: a cached venv and ``airflow dags test`` runs.

Airflow cannot share the main venv (its pins conflict, and it is heavy), so the first test
that needs it builds ``.venv-airflow/`` at the repo root: ``python -m venv``, then
``pip install`` of ``REQUIREMENTS`` plus ``-e .`` of this repo, then ``airflow db
migrate`` of a template SQLite metadata database every run copies. A stamp file holding
the requirement lines (and the Python version) marks a complete build; the venv is
rebuilt only when the stamp is missing or differs. An exclusive file lock makes the build
happen once when pytest-xdist workers ask at the same time; a failed build is remembered
for the rest of the test run, so the other worker does not try again.

When the venv cannot be built (no network to PyPI, or a Python that Airflow 3.3 does not
support) the tests are skipped with the reason; under CI (``CI`` set) a failed build fails
them instead: CI has PyPI and must prove the Airflow path.

``dag_test(dag_id, dags_folder, work)`` runs ``airflow dags test`` in ``work`` with the
venv's python: its own ``AIRFLOW_HOME``, the provider's file transport writing
``work/airflow-events.jsonl`` (``append``), and our events going to a SQLite catalog in
``work`` (``LINEAGE_CATALOG_URL``).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .helpers import clean_env

REPO = Path(__file__).resolve().parents[3]
VENV = REPO / ".venv-airflow"
#: What the venv holds besides ``-e .`` (no extras of ours: the DAGs need only the base).
REQUIREMENTS = ("apache-airflow>=3.3,<3.4", "apache-airflow-providers-openlineage>=2.20,<3")
#: Airflow 3.3's Requires-Python is ">=3.10,!=3.15": 3.10 to 3.14 here.
SUPPORTED_PYTHONS = ((3, 10), (3, 14))
STAMP = VENV / "silverline-stamp.txt"
FAILED = VENV / "silverline-build-failed.txt"
TEMPLATE_HOME = VENV / "airflow-template"
PIP_TIMEOUT = 1200  # seconds; the first build is about 3 minutes with PyPI at hand
RUN_TIMEOUT = 300
JOB_NAMESPACE = "silverline-tests"  # the provider's namespace (AIRFLOW__OPENLINEAGE__...)


@dataclass(frozen=True)
class AirflowVenv:
    """The built venv: its interpreter and bin folder."""

    root: Path

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    @property
    def airflow(self) -> str:
        return str(self.bin / "airflow")


@dataclass
class DagRun:
    """What one ``airflow dags test`` left: the provider's events, our catalog and events."""

    work: Path
    events_file: Path  # the provider's file transport
    catalog_url: str  # our events' catalog
    seconds: float
    log: str
    events: list[dict[str, Any]] = field(default_factory=list)

    def provider_runs(self, job_name: str, event_type: str = "START") -> list[dict[str, Any]]:
        """The provider's events of one job (``dag_id.task_id``) and type, in order."""
        return [
            e for e in self.events if e["job"]["name"] == job_name and e["eventType"] == event_type
        ]


def _stamp_text() -> str:
    lines = [
        "# .venv-airflow for tests/integration/airflow: rebuilt when these lines change",
        f"python {sys.version_info.major}.{sys.version_info.minor}",
        *REQUIREMENTS,
        f"-e {REPO}",
    ]
    return "\n".join(lines) + "\n"


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None


def _run_id() -> str:
    # One pytest invocation: its xdist workers share the id; without xdist, the process.
    return os.environ.get("PYTEST_XDIST_TESTRUNUID") or f"pid-{os.getpid()}"


def _unavailable(reason: str, *, ci_fails: bool = True) -> None:
    if ci_fails and os.environ.get("CI"):
        pytest.fail(f"Airflow venv required under CI: {reason}", pytrace=False)
    pytest.skip(f"real Airflow not available: {reason}")


def _tail(text: str, lines: int = 15) -> str:
    # pip prints a WARNING per ignored local index location: keep the real messages.
    kept = [line for line in text.splitlines() if not line.startswith("WARNING: Location")]
    return "\n".join(kept[-lines:])


def _build() -> None:
    """Build the venv from scratch (the caller holds the lock); raises with pip's reason."""
    shutil.rmtree(VENV, ignore_errors=True)
    subprocess.run(
        [sys.executable, "-m", "venv", str(VENV)], check=True, capture_output=True, text=True
    )
    python = str(VENV / "bin" / "python")
    pip = [python, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    done = subprocess.run(
        [*pip, *REQUIREMENTS, "-e", str(REPO)],
        capture_output=True,
        text=True,
        timeout=PIP_TIMEOUT,
    )
    if done.returncode != 0:
        raise RuntimeError(f"pip install failed:\n{_tail(done.stderr + done.stdout)}")
    # The metadata database every run starts from (migrating costs ~10 s; copying, none).
    TEMPLATE_HOME.mkdir()
    env = clean_env(
        {
            "AIRFLOW_HOME": str(TEMPLATE_HOME),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "PATH": f"{VENV / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        }
    )
    migrated = subprocess.run(
        [str(VENV / "bin" / "airflow"), "db", "migrate"],
        capture_output=True,
        text=True,
        env=env,
        cwd=TEMPLATE_HOME,
        timeout=RUN_TIMEOUT,
    )
    if migrated.returncode != 0 or not (TEMPLATE_HOME / "airflow.db").is_file():
        raise RuntimeError(f"airflow db migrate failed:\n{_tail(migrated.stderr)}")
    STAMP.write_text(_stamp_text(), encoding="utf-8")


def ensure_venv() -> AirflowVenv:
    """The cached venv, built under an exclusive lock when missing or stale; skips (or
    fails, under CI) when it cannot be built."""
    lowest, highest = SUPPORTED_PYTHONS
    if not lowest <= sys.version_info[:2] <= highest:
        _unavailable(
            f"Apache Airflow 3.3 supports Python {lowest[0]}.{lowest[1]} to "
            f"{highest[0]}.{highest[1]}, this is {sys.version.split()[0]}",
            ci_fails=False,
        )
    wanted = _stamp_text()
    digest = hashlib.sha1(str(VENV).encode()).hexdigest()[:12]
    lock_path = Path(tempfile.gettempdir()) / f"silverline-venv-airflow-{digest}.lock"
    with lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if _read(STAMP) == wanted:
            return AirflowVenv(VENV)
        failed = json.loads(_read(FAILED) or "{}")
        if failed.get("run") == _run_id() and failed.get("stamp") == wanted:
            _unavailable(failed["reason"])  # the other worker's build failed just now
        started = time.monotonic()
        try:
            _build()
        except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
            reason = f"cannot build {VENV.name}: {exc}"
            if VENV.is_dir():
                failure = {"run": _run_id(), "stamp": wanted, "reason": reason}
                FAILED.write_text(json.dumps(failure), encoding="utf-8")
            _unavailable(reason)
        sys.stderr.write(f"\n{VENV.name} built in {time.monotonic() - started:.0f} s\n")
    return AirflowVenv(VENV)


@pytest.fixture(scope="session")
def airflow_venv() -> AirflowVenv:
    """Real Airflow 3.3 with the OpenLineage provider and this repo, in ``.venv-airflow``."""
    return ensure_venv()


def _read_events(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


@pytest.fixture(scope="session")
def dag_test(airflow_venv: AirflowVenv) -> Callable[..., DagRun]:
    """``dag_test(dag_id, dags_folder, work, env={})``: one ``airflow dags test`` run."""

    def run(
        dag_id: str, dags_folder: Path, work: Path, env: Mapping[str, str] | None = None
    ) -> DagRun:
        home = work / "airflow-home"
        home.mkdir(parents=True)
        shutil.copy2(TEMPLATE_HOME / "airflow.db", home / "airflow.db")
        events_file = work / "airflow-events.jsonl"
        catalog_url = f"sqlite:///{work / 'catalog.db'}"
        transport = {"type": "file", "log_file_path": str(events_file), "append": True}
        full_env = clean_env(
            {
                "AIRFLOW_HOME": str(home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
                "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(transport),
                "AIRFLOW__OPENLINEAGE__NAMESPACE": JOB_NAMESPACE,
                "LINEAGE_CATALOG_URL": catalog_url,
                "PATH": f"{airflow_venv.bin}{os.pathsep}{os.environ.get('PATH', '')}",
                **(env or {}),
            }
        )
        started = time.monotonic()
        done = subprocess.run(
            [airflow_venv.airflow, "dags", "test", dag_id],
            capture_output=True,
            text=True,
            env=full_env,
            cwd=work,
            timeout=RUN_TIMEOUT,
        )
        seconds = time.monotonic() - started
        log = done.stdout + done.stderr
        assert done.returncode == 0, f"airflow dags test {dag_id} failed:\n{log[-6000:]}"
        return DagRun(work, events_file, catalog_url, seconds, log, _read_events(events_file))

    return run
