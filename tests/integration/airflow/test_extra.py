"""The ``[airflow]`` extra installs what the Airflow tests run against."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.integration.airflow.conftest import REQUIREMENTS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


def test_the_extra_and_the_test_venv_pin_the_same_airflow() -> None:
    pyproject = Path(__file__).resolve().parents[3] / "pyproject.toml"
    extras = tomllib.loads(pyproject.read_text())["project"]["optional-dependencies"]
    assert tuple(extras["airflow"]) == REQUIREMENTS
