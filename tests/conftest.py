"""Shared fixtures: a throwaway PostgreSQL server and catalog URLs on both backends.

``postgres_server`` (session) initdb's a cluster into a temporary folder and starts it on
a free port of 127.0.0.1 with durability switched off (tests only); it is stopped and
removed at the end of the session. Under pytest-xdist each worker starts its own.
Debian's binaries live in /usr/lib/postgresql/<version>/bin; ``initdb`` and ``pg_ctl``
refuse to run as root, so as root they run as the ``postgres`` user (``runuser``).

``catalog_url`` runs a test twice: on a SQLite file and on a fresh PostgreSQL database.
Without the PostgreSQL binaries the postgresql case is skipped, except under CI (the
``CI`` variable set), where it fails: CI must prove the PostgreSQL path.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

INSTALL_HINT = "run scripts/install-system-deps.sh (as root) to install PostgreSQL"
PG_USER = "postgres"


@dataclass(frozen=True)
class PostgresServer:
    """A running throwaway server: connect as ``postgres`` (trust) on 127.0.0.1:port."""

    port: int
    bin_dir: Path

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of one database of this server."""
        return f"postgresql+psycopg://{PG_USER}@127.0.0.1:{self.port}/{database}"

    def conninfo(self, database: str = "postgres") -> str:
        """The libpq connection string of one database of this server."""
        return f"host=127.0.0.1 port={self.port} user={PG_USER} dbname={database}"

    @contextmanager
    def fresh_database(self, prefix: str = "t") -> Iterator[str]:
        """A new, empty database, dropped afterwards; its SQLAlchemy URL."""
        import psycopg

        name = f"{prefix}_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            yield self.url(name)
        finally:
            with psycopg.connect(self.conninfo(), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _pg_bin_dir() -> Path | None:
    """The newest /usr/lib/postgresql/<version>/bin holding initdb and pg_ctl."""
    found = [
        Path(ctl).parent
        for ctl in glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")
        if Path(ctl).with_name("initdb").exists()
    ]

    def version(path: Path) -> tuple[int, ...]:
        digits = path.parent.name.split(".")
        return tuple(int(d) for d in digits if d.isdigit())

    return max(found, key=version) if found else None


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required under CI: {reason}; {INSTALL_HINT}", pytrace=False)
    pytest.skip(f"PostgreSQL not available: {reason}; {INSTALL_HINT}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _as_pg_user(argv: list[str]) -> list[str]:
    # initdb/pg_ctl refuse root; any other user runs them as itself.
    return ["runuser", "-u", PG_USER, "--", *argv] if os.geteuid() == 0 else argv


def _run(argv: list[str], what: str, log: Path | None = None) -> None:
    # cwd "/": the postgres user may not be able to read the current directory.
    done = subprocess.run(
        _as_pg_user(argv), cwd="/", capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        server_log = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
        raise RuntimeError(
            f"{what} failed ({done.returncode}): {done.stderr or done.stdout}\n{server_log}"
        )


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for this test session (this xdist worker), on 127.0.0.1 only."""
    bin_dir = _pg_bin_dir()
    if bin_dir is None:
        _unavailable("no initdb/pg_ctl under /usr/lib/postgresql/*/bin")
        raise AssertionError("unreachable")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _unavailable("the psycopg driver is not installed (pip install -e '.[dev]')")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        _unavailable("runuser is missing (needed to run initdb as the postgres user)")

    base = Path(tempfile.mkdtemp(prefix="silverline-pg-"))
    data, log = base / "data", base / "server.log"
    if os.geteuid() == 0:
        shutil.chown(base, PG_USER, PG_USER)
    started = False
    try:
        _run(
            [str(bin_dir / "initdb"), "-A", "trust", "--no-sync", "-U", PG_USER,
             "-E", "UTF8", "--locale=C", "-D", str(data)],
            "initdb",
        )
        for attempt in range(3):  # another worker may take the port between bind and start
            port = _free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -p {port} -k {base} -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=50"
            )
            try:
                # -l: without a log file pg_ctl keeps our pipes open and run() never returns.
                _run(
                    [str(bin_dir / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(data),
                     "-l", str(log), "-o", options],
                    "pg_ctl start",
                    log,
                )
                started = True
                break
            except RuntimeError:
                if attempt == 2:
                    raise
        yield PostgresServer(port=port, bin_dir=bin_dir)
    finally:
        if started:
            subprocess.run(
                _as_pg_user([str(bin_dir / "pg_ctl"), "stop", "-m", "immediate", "-D", str(data)]),
                cwd="/", capture_output=True, timeout=60, check=False,
            )
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def postgres_database(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh, empty database on the session's server; its SQLAlchemy URL."""
    with postgres_server.fresh_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def catalog_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an empty catalog database: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'catalog.db'}"
    url: str = request.getfixturevalue("postgres_database")
    return url


@pytest.fixture(autouse=True)
def _isolated_catalog(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test (nor a `lineage` subprocess it starts) writes the repo's own catalog."""
    monkeypatch.setenv("LINEAGE_CATALOG_URL", f"sqlite:///{tmp_path / 'default-catalog.db'}")
