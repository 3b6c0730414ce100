"""Reaching a warehouse: the password from the environment, missing drivers, bad URLs."""

from __future__ import annotations

import pytest

from connectors.warehouse import create_warehouse_engine, introspect
from connectors.warehouse.engine import PASSWORD_ENV, resolve_url
from lineage.errors import PermanentConnectorError

SECRET = "Tr0ub4dor&3-secret"


def test_the_password_comes_from_the_environment_only_when_the_url_has_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, SECRET)
    assert resolve_url("postgresql+psycopg://etl@db.example.com/dwh").password == SECRET
    assert resolve_url("postgresql+psycopg://etl:own@db.example.com/dwh").password == "own"
    assert resolve_url("sqlite:///x.db").password is None  # no user, no password
    engine = create_warehouse_engine("postgresql+psycopg://etl@db.example.com/dwh")
    try:
        assert engine.url.password == SECRET
        assert SECRET not in repr(engine) and SECRET not in str(engine.url)
    finally:
        engine.dispose()
    monkeypatch.delenv(PASSWORD_ENV)
    assert resolve_url("postgresql+psycopg://etl@db.example.com/dwh").password is None


@pytest.mark.parametrize(
    ("url", "hint"),
    [
        ("snowflake://etl@xy12345/ANALYTICS", "pip install 'silverline[snowflake]'"),
        ("bigquery://acme-dwh", "pip install 'silverline[bigquery]'"),
        ("redshift+redshift_connector://etl@dwh:5439/dwh", "pip install 'silverline[redshift]'"),
        ("postgresql+psycopg2://etl@db/dwh", "pip install 'silverline[postgres]'"),
        ("mssql+pyodbc://etl@db/dwh?driver=ODBC", "no extra of silverline provides it"),
    ],
)
def test_a_missing_driver_names_the_extra_to_install(
    url: str, hint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, SECRET)
    with pytest.raises(PermanentConnectorError) as raised:
        introspect(url)
    assert hint in str(raised.value)
    assert SECRET not in str(raised.value)


def test_a_malformed_url_is_a_permanent_error() -> None:
    with pytest.raises(PermanentConnectorError, match="not a SQLAlchemy URL"):
        introspect("not a url at all")


def test_the_source_of_an_observation_is_the_redacted_url(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/wh.db?password=hunter2"
    observed = introspect(url)
    assert "hunter2" not in observed.source
    assert observed.source.startswith("sqlite:///")
