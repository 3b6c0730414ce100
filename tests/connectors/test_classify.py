"""The shared rules of ``connectors.classify``, each on a failure really raised: a closed
port, statuses answered by an endpoint on 127.0.0.1, a timeout, retries used up, SQLite
locked and not a database, a full device, a file where a folder should be."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import requests
import sqlalchemy
from requests.adapters import HTTPAdapter
from urllib3.util import Retry

from connectors import classify as classify_module
from connectors.classify import chain, classify, reason, status_kind
from lineage.errors import (
    CatalogError,
    ConnectorError,
    PermanentConnectorError,
    TemporaryConnectorError,
)
from tests.connectors.conftest import Answering

TEMPORARY, PERMANENT = TemporaryConnectorError, PermanentConnectorError


def _raised(call: object) -> BaseException:
    assert callable(call)
    with pytest.raises(Exception) as caught:
        call()
    return caught.value


@pytest.mark.parametrize(
    ("status", "kind"),
    [(408, TEMPORARY), (429, TEMPORARY), (500, TEMPORARY), (502, TEMPORARY), (503, TEMPORARY),
     (504, TEMPORARY), (507, TEMPORARY), (301, PERMANENT), (400, PERMANENT), (401, PERMANENT),
     (403, PERMANENT), (404, PERMANENT), (409, PERMANENT), (422, PERMANENT)],
)  # fmt: skip
def test_an_http_answer(answering: Answering, status: int, kind: type[ConnectorError]) -> None:
    assert status_kind(status) is kind
    answering.status = status
    response = requests.post(answering.url, json={}, timeout=5, allow_redirects=False)
    error = _raised(response.raise_for_status) if status >= 400 else None
    if error is not None:
        assert classify(error) is kind


def test_a_closed_port_is_temporary(closed_port: int) -> None:
    error = _raised(lambda: requests.get(f"http://127.0.0.1:{closed_port}/", timeout=5))
    assert isinstance(error, requests.ConnectionError)
    assert classify(error) is TEMPORARY


def test_a_timeout_is_temporary(answering: Answering) -> None:
    answering.delay = 1.0
    error = _raised(lambda: requests.get(answering.url, timeout=0.2))
    assert isinstance(error, requests.Timeout) and classify(error) is TEMPORARY


@pytest.mark.parametrize(("status", "kind"), [(503, TEMPORARY), (400, PERMANENT)])
def test_retries_used_up_keep_the_status_kind(
    answering: Answering, status: int, kind: type[ConnectorError]
) -> None:
    answering.status = status
    session = requests.Session()
    retry = Retry(total=1, status_forcelist=[status], allowed_methods=["POST"], backoff_factor=0)
    session.mount("http://", HTTPAdapter(max_retries=retry))
    error = _raised(lambda: session.post(answering.url, json={}, timeout=5))
    assert isinstance(error, requests.exceptions.RetryError)
    assert classify(error) is kind and len(answering.requests) == 2


def test_a_malformed_url_is_permanent() -> None:
    assert classify(_raised(lambda: requests.get("http://", timeout=1))) is PERMANENT
    assert classify(_raised(lambda: requests.get("gms:8080/config", timeout=1))) is PERMANENT


def test_sqlite_locked_is_temporary_and_not_a_database_permanent(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    other = sqlite3.connect(path, timeout=0)
    locked = _raised(lambda: other.execute("SELECT * FROM t"))
    assert "locked" in str(locked) and classify(locked) is TEMPORARY
    holder.execute("ROLLBACK")
    holder.close()
    other.close()
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database, not at all" * 100)
    broken = sqlite3.connect(garbage)
    error = _raised(lambda: broken.execute("SELECT * FROM sqlite_master"))
    assert classify(error) is PERMANENT
    broken.close()


def test_sqlalchemy_errors_keep_the_drivers_kind(tmp_path: Path, closed_port: int) -> None:
    refused = sqlalchemy.create_engine(f"postgresql+psycopg://u@127.0.0.1:{closed_port}/db")
    error = _raised(refused.connect)
    assert isinstance(error, sqlalchemy.exc.OperationalError) and classify(error) is TEMPORARY
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database, not at all" * 100)
    broken = sqlalchemy.create_engine(f"sqlite:///{garbage}")
    with broken.connect() as conn:
        error = _raised(lambda: conn.execute(sqlalchemy.text("SELECT * FROM sqlite_master")))
    assert classify(error) is PERMANENT
    wrapped = CatalogError("cannot open the catalog")
    wrapped.__cause__ = error
    assert classify(wrapped) is PERMANENT  # found along the chain


def test_a_full_device_is_temporary(tmp_path: Path) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    error = _raised(lambda: Path("/dev/full").write_bytes(b"x" * 8192))
    assert isinstance(error, OSError) and classify(error) is TEMPORARY
    assert reason(error) == "No space left on device"


def test_a_path_that_cannot_be_written_is_permanent(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert classify(_raised(lambda: (blocker / "x.json").write_text("{}"))) is PERMANENT
    assert classify(_raised(lambda: tmp_path.write_text("{}"))) is PERMANENT  # a folder
    permission = PermissionError("no errno given")
    assert classify(permission) is PERMANENT


def test_own_errors_imports_and_unknowns() -> None:
    assert classify(TemporaryConnectorError("x")) is TEMPORARY
    assert classify(PermanentConnectorError("x")) is PERMANENT
    assert classify(_raised(lambda: __import__("no_such_driver_module"))) is PERMANENT
    assert classify(RuntimeError("something else")) is None
    assert classify(ConnectorError("says nothing either way")) is None
    # Decided by the first exception of the chain a rule knows.
    try:
        try:
            raise TimeoutError("slow")
        except TimeoutError as inner:
            raise RuntimeError("wrapped") from inner
    except RuntimeError as outer:
        assert [type(e) for e in chain(outer)] == [RuntimeError, TimeoutError]
        assert classify(outer) is TEMPORARY
        assert classify(outer, lambda e: PERMANENT if isinstance(e, RuntimeError) else None) is (
            PERMANENT
        )


def test_reason_is_one_line() -> None:
    assert reason(ValueError("a\n  b")) == "a b"
    assert reason(ValueError("a"), named=True) == "ValueError: a"
    assert reason(CatalogError("c"), named=True) == "c"
    assert reason(KeyError()) == "KeyError"


def test_docstring_examples() -> None:
    import doctest

    failures, tried = doctest.testmod(classify_module)
    assert tried > 0 and failures == 0
