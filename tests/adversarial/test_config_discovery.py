"""lineage.yml discovery never reads a configuration someone else could have planted in a
shared parent folder (``/tmp``-like, or a file owned by another user)."""

from __future__ import annotations

import os
import pwd
from pathlib import Path

import pytest

from lineage.config import load_config

PLANTED = "catalog: {url: 'sqlite:////tmp/attacker.db'}\n"


def _project(parent: Path) -> Path:
    project = parent / "team" / "erp"
    project.mkdir(parents=True)
    return project


def test_an_own_parent_configuration_is_found(tmp_path: Path) -> None:
    (tmp_path / "lineage.yml").write_text("dialect: redshift\n")
    project = _project(tmp_path)
    config = load_config(project)
    assert config.source == tmp_path / "lineage.yml"
    assert config.sql_context.dialect == "redshift"


def test_a_world_writable_parent_ends_the_walk(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "lineage.yml").write_text(PLANTED)
    shared.chmod(0o1777)  # like /tmp
    project = _project(shared)
    config = load_config(project)
    assert config.source is None and config.catalog_url is None
    assert config.root == project
    # Above the shared folder nothing is read either, even one of our own.
    (tmp_path / "lineage.yml").write_text("dialect: snowflake\n")
    assert load_config(project).source is None


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a file to another user")
def test_a_file_another_user_owns_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "lineage.yml").write_text(PLANTED)
    nobody = pwd.getpwnam("nobody")
    os.chown(tmp_path / "lineage.yml", nobody.pw_uid, nobody.pw_gid)
    assert load_config(_project(tmp_path)).source is None


def test_a_group_writable_file_in_a_parent_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "lineage.yml").write_text(PLANTED)
    (tmp_path / "lineage.yml").chmod(0o664)
    assert load_config(_project(tmp_path)).source is None


def test_the_folder_the_user_starts_in_is_always_read(tmp_path: Path) -> None:
    (tmp_path / "lineage.yml").write_text("dialect: duckdb\n")
    tmp_path.chmod(0o1777)
    assert load_config(tmp_path).sql_context.dialect == "duckdb"
