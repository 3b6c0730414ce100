"""lineage.yml / [tool.lineage]: discovery, relative paths, typed sections, the .lineage/
layout, the catalog URL precedence, and errors that name the file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lineage.config import (
    CATALOG_URL_ENV,
    ContractsSection,
    DataHubSection,
    DocsSection,
    OpenLineageSection,
    ProjectConfig,
    ProjectLayout,
    WarehouseSection,
    catalog_url,
    load_config,
)
from lineage.errors import ConfigError
from lineage.model import SqlContext


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
    assert config.sql_context.namespace == "redshift://dwh:5439"
    assert config.sql_paths == (tmp_path.resolve() / "sql/", tmp_path.resolve() / "extra.sql")
    assert config.schema_file == tmp_path.resolve() / "schema.yml"
    assert config.dbt_project == tmp_path.resolve() / "dbt"
    assert config.dbt_target == "prod" and config.dbt_vars == {"backfill_date": "2024-06-01"}
    assert config.catalog_url is not None and config.catalog_url.startswith("postgresql")
    assert config.extra == {"datahub": {"server": "http://127.0.0.1:8080"}}


def test_pyproject_tool_lineage_section(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.lineage]\ndialect = "snowflake"\n')
    assert load_config(tmp_path).sql_context.dialect == "snowflake"


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


def test_the_sql_context_is_one_value(tmp_path: Path) -> None:
    (tmp_path / "lineage.yml").write_text(
        "namespace: redshift://dwh:5439\ndialect: redshift\n"
        "default_database: dev\ndefault_schema: public\n"
    )
    assert load_config(tmp_path).sql_context == SqlContext(
        "redshift", "redshift://dwh:5439", "dev", "public"
    )
    assert ProjectConfig().sql_context == SqlContext()


def test_typed_sections_with_paths_relative_to_the_file(tmp_path: Path) -> None:
    (tmp_path / "lineage.yml").write_text(
        "openlineage: {namespace: erp-jobs, queue_size: 50, cooldown: 1, flush_timeout: 2.5}\n"
        "datahub:\n  lite: out/lite.db\n  token_env: GMS\n  env: qa\n  case: preserve\n"
        "  platforms: {sql: redshift}\n  retries: '2'\n  timeout: 10\n"
        "warehouse: {url: 'duckdb:///dwh.duckdb'}\n"
        "contracts: {path: contracts}\n"
        "docs: {output: site}\n"
    )
    config = load_config(tmp_path)
    root = tmp_path.resolve()
    assert config.openlineage == OpenLineageSection("erp-jobs", 50, 1.0, 2.5)
    assert config.datahub == DataHubSection(
        lite=root / "out/lite.db",
        token_env="GMS",
        env="qa",
        case="preserve",
        platforms={"sql": "redshift"},
        retries=2,
        timeout=10.0,
    )
    # An embedded warehouse file is taken from the project root, like every path.
    assert config.warehouse == WarehouseSection(url=f"duckdb:///{(root / 'dwh.duckdb').resolve()}")
    # And it gives the project its namespace and database (one namespace for all).
    assert config.sql_context.namespace == f"duckdb://{(root / 'dwh.duckdb').resolve()}"
    assert config.sql_context.default_database == "dwh"
    assert config.contracts == ContractsSection(path=root / "contracts")
    assert config.docs == DocsSection(output=root / "site")
    # Without the sections: every default.
    assert ProjectConfig().openlineage == OpenLineageSection(None, 10_000, 5.0, 5.0)
    assert ProjectConfig().datahub == DataHubSection()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("openlineage:\n  nmespace: x\n", "unknown setting(s) openlineage.nmespace"),
        ("openlineage:\n  queue_size: 0\n", "openlineage.queue_size has an invalid value 0"),
        ("openlineage:\n  cooldown: soon\n", "openlineage.cooldown has an invalid value 'soon'"),
        ("openlineage: [a]\n", "'openlineage' must be a mapping"),
        ("datahub:\n  sever: http://x\n", "unknown setting(s) datahub.sever"),
        ("datahub:\n  file: a.json\n  lite: b.db\n", "set only one of datahub.server"),
        ("datahub:\n  retries: many\n", "datahub.retries/timeout must be numbers"),
        ("datahub:\n  platforms: [redshift]\n", "datahub.platforms must map namespaces"),
        ("datahub:\n  env: [PROD]\n", "datahub.env must be text"),
        ("warehouse:\n  uri: duckdb://\n", "unknown setting(s) warehouse.uri"),
        ("contracts:\n  folder: c/\n", "unknown setting(s) contracts.folder"),
        ("docs:\n  out: site/\n", "unknown setting(s) docs.out"),
        ("catalog:\n  url: yes\n", "catalog.url must be text, got bool"),
    ],
)
def test_section_mistakes_name_the_key_and_the_file(
    tmp_path: Path, text: str, message: str
) -> None:
    (tmp_path / "lineage.yml").write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert message in str(caught.value)
    assert caught.value.file == str(tmp_path.resolve() / "lineage.yml")


def test_the_dot_lineage_folder_layout(tmp_path: Path) -> None:
    layout = load_config(tmp_path).layout
    folder = tmp_path.resolve() / ".lineage"
    assert layout == ProjectLayout(tmp_path.resolve())
    assert (layout.folder, layout.catalog_db) == (folder, folder / "catalog.db")
    assert (layout.cache, layout.spool, layout.events) == (
        folder / "cache",
        folder / "spool",
        folder / "events",
    )
    assert layout.external_events == folder / "events" / "external"
    assert layout.datahub_lite == folder / "datahub-lite.db"
    assert layout.default_catalog_url == f"sqlite:///{folder / 'catalog.db'}"


@pytest.mark.parametrize(
    ("given", "environment", "configured", "expected"),
    [
        ("sqlite:///cli.db", "sqlite:///env.db", "sqlite:///yml.db", "sqlite:///cli.db"),
        (None, "sqlite:///env.db", "sqlite:///yml.db", "sqlite:///env.db"),
        (None, None, "sqlite:///yml.db", "sqlite:///yml.db"),
        (None, "  ", "sqlite:///yml.db", "sqlite:///yml.db"),  # blank counts as unset
        ("", None, None, None),  # None: the project's own .lineage/catalog.db
    ],
)
def test_catalog_url_precedence(
    tmp_path: Path,
    given: str | None,
    environment: str | None,
    configured: str | None,
    expected: str | None,
) -> None:
    config = ProjectConfig(root=tmp_path, catalog_url=configured)
    environ = {} if environment is None else {CATALOG_URL_ENV: environment}
    found = catalog_url(config, given, environ)
    assert found == (expected or f"sqlite:///{tmp_path / '.lineage' / 'catalog.db'}")


def test_every_composition_root_takes_the_catalog_url_from_one_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from connectors.openlineage.sinks import CatalogSink
    from lineage.run.wiring import default_sinks
    from lineage.workspace import Workspace

    for key in [k for k in os.environ if k.startswith("OPENLINEAGE")]:
        monkeypatch.delenv(key)  # no client configuration: the catalog is a sink
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.openlineage/openlineage.yml
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lineage.yml").write_text("catalog: {url: 'sqlite:///from-yml.db'}\n")
    monkeypatch.delenv(CATALOG_URL_ENV, raising=False)
    config = load_config(tmp_path)
    sinks, events = default_sinks(config)
    assert [s.url for s in sinks if isinstance(s, CatalogSink)] == ["sqlite:///from-yml.db"]
    assert events == config.layout.events
    assert Workspace(config).catalog_url == "sqlite:///from-yml.db"
    monkeypatch.setenv(CATALOG_URL_ENV, "sqlite:///from-env.db")
    assert Workspace(config).catalog_url == "sqlite:///from-env.db"
    assert Workspace(config, "sqlite:///given.db").catalog_url == "sqlite:///given.db"
    sinks, _ = default_sinks(config)
    assert [s.url for s in sinks if isinstance(s, CatalogSink)] == ["sqlite:///from-env.db"]
