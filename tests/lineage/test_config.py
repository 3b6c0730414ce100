"""lineage.yml / [tool.lineage]: discovery, relative paths, and errors that name the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from lineage.config import load_config
from lineage.errors import ConfigError


def test_defaults_without_any_file(tmp_path: Path) -> None:
    config = load_config(tmp_path)
    assert config.root == tmp_path.resolve()
    assert config.source is None and config.catalog_url is None and config.sql_paths == ()


def test_lineage_yml_found_from_a_subfolder_with_paths_relative_to_it(tmp_path: Path) -> None:
    (tmp_path / "lineage.yml").write_text(
        "namespace: redshift://dwh:5439\ndialect: redshift\ndefault_database: dev\n"
        "sql:\n  paths: [sql/, extra.sql]\n  schema: schema.yml\n"
        "dbt:\n  project: dbt\n  target: prod\n  vars: {backfill_date: '2024-06-01'}\n"
        "catalog:\n  url: postgresql+psycopg://postgres@127.0.0.1:5432/catalog\n"
        "datahub:\n  server: http://127.0.0.1:8080\n"
    )
    (tmp_path / "sql" / "silver").mkdir(parents=True)
    config = load_config(tmp_path / "sql" / "silver")
    assert config.root == tmp_path.resolve()
    assert config.namespace == "redshift://dwh:5439"
    assert config.sql_paths == (tmp_path.resolve() / "sql/", tmp_path.resolve() / "extra.sql")
    assert config.schema_file == tmp_path.resolve() / "schema.yml"
    assert config.dbt_project == tmp_path.resolve() / "dbt"
    assert config.dbt_target == "prod" and config.dbt_vars == {"backfill_date": "2024-06-01"}
    assert config.catalog_url is not None and config.catalog_url.startswith("postgresql")
    assert config.extra == {"datahub": {"server": "http://127.0.0.1:8080"}}


def test_pyproject_tool_lineage_section(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.lineage]\ndialect = "snowflake"\n')
    assert load_config(tmp_path).dialect == "snowflake"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("dialct: redshift\n", "unknown setting(s) dialct"),
        ("sql:\n  path: [a]\n", "sql.path"),
        ("sql: [a]\n", "'sql' must be a mapping"),
        ("namespace: [a]\n", "'namespace' must be text"),
        ("dialect: redshift\n  bad: [\n", "not valid YAML"),
    ],
)
def test_mistakes_are_errors_naming_the_file(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "lineage.yml").write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert message in str(caught.value)
    assert "lineage.yml" in str(caught.value)
