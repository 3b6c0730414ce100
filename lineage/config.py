"""Project configuration: ``lineage.yml`` at the project root, or ``[tool.lineage]``.

::

    namespace: redshift://analytics.example.com:5439
    dialect: redshift
    default_database: dev
    default_schema: public
    sql:
      paths: [sql/]            # files or folders of *.sql
      schema: schema.yml       # known table schemas, JSON or YAML
    dbt:
      project: dbt/            # a dbt project folder
      target: prod
    catalog:
      url: sqlite:///.lineage/catalog.db   # or postgresql+psycopg://...

Paths are relative to the file that names them. Unknown keys are errors (a typo must
not silently fall back to a default). Sections of later features (``warehouse``,
``contracts``, ``datahub``, ``docs``, ``openlineage``) are kept as given in ``extra``.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lineage.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["CONFIG_FILE", "ProjectConfig", "load_config"]

CONFIG_FILE = "lineage.yml"

_TOP_LEVEL = {
    "namespace",
    "dialect",
    "default_database",
    "default_schema",
    "sql",
    "dbt",
    "catalog",
}
_LATER_SECTIONS = {"warehouse", "contracts", "datahub", "docs", "openlineage"}
_SECTIONS = {
    "sql": {"paths", "schema"},
    "dbt": {"project", "target", "vars"},
    "catalog": {"url"},
}


@dataclass(frozen=True)
class ProjectConfig:
    """Settings of one project; every field has a working default."""

    root: Path = field(default_factory=Path.cwd)
    source: Path | None = None
    namespace: str | None = None
    dialect: str | None = None
    default_database: str | None = None
    default_schema: str | None = None
    sql_paths: tuple[Path, ...] = ()
    schema_file: Path | None = None
    dbt_project: Path | None = None
    dbt_target: str | None = None
    dbt_vars: Mapping[str, Any] = field(default_factory=dict)
    catalog_url: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


def load_config(start: str | Path | None = None) -> ProjectConfig:
    """Find and read the configuration for the project containing ``start`` (default: cwd).

    Looks for ``lineage.yml`` in ``start`` and its parents, then for ``[tool.lineage]``
    in a ``pyproject.toml`` there; with neither, returns defaults rooted at ``start``.

    Raises:
        ConfigError: the file is not valid YAML/TOML or holds unknown or mistyped keys.
    """
    base = Path(start or Path.cwd()).resolve()
    for folder in (base, *base.parents):
        candidate = folder / CONFIG_FILE
        if candidate.is_file():
            return _from_mapping(_read_yaml(candidate), candidate)
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            section = _read_pyproject(pyproject)
            if section is not None:
                return _from_mapping(section, pyproject)
    return ProjectConfig(root=base)


def _read_yaml(path: Path) -> Mapping[str, Any]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", file=str(path)) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(
            f"not valid YAML: {getattr(exc, 'problem', exc)}",
            file=str(path),
            line=mark.line + 1 if mark is not None else None,
        ) from exc
    if not isinstance(document, Mapping):
        raise ConfigError("must be a mapping of settings", file=str(path))
    return document


def _read_pyproject(path: Path) -> Mapping[str, Any] | None:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read [tool.lineage]: {exc}", file=str(path)) from exc
    section = document.get("tool", {}).get("lineage")
    return section if isinstance(section, Mapping) else None


def _from_mapping(raw: Mapping[str, Any], source: Path) -> ProjectConfig:
    unknown = set(raw) - _TOP_LEVEL - _LATER_SECTIONS
    if unknown:
        raise ConfigError(
            f"unknown setting(s) {', '.join(sorted(unknown))}; known: "
            f"{', '.join(sorted(_TOP_LEVEL | _LATER_SECTIONS))}",
            file=str(source),
        )
    for section, keys in _SECTIONS.items():
        value = raw.get(section)
        if value is None:
            continue
        if not isinstance(value, Mapping):
            raise ConfigError(f"{section!r} must be a mapping", file=str(source))
        extra_keys = set(value) - keys
        if extra_keys:
            raise ConfigError(
                f"unknown setting(s) {', '.join(f'{section}.{k}' for k in sorted(extra_keys))}",
                file=str(source),
            )
    root = source.parent
    sql = raw.get("sql") or {}
    dbt = raw.get("dbt") or {}
    catalog = raw.get("catalog") or {}
    paths = sql.get("paths") or []
    if isinstance(paths, str):
        paths = [paths]
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        raise ConfigError("sql.paths must be a list of paths", file=str(source))
    dbt_vars = dbt.get("vars") or {}
    if not isinstance(dbt_vars, Mapping):
        raise ConfigError("dbt.vars must be a mapping", file=str(source))
    return ProjectConfig(
        root=root,
        source=source,
        namespace=_text(raw, "namespace", source),
        dialect=_text(raw, "dialect", source),
        default_database=_text(raw, "default_database", source),
        default_schema=_text(raw, "default_schema", source),
        sql_paths=tuple(root / p for p in paths),
        schema_file=root / sql["schema"] if sql.get("schema") else None,
        dbt_project=root / dbt["project"] if dbt.get("project") else None,
        dbt_target=_text(dbt, "target", source),
        dbt_vars=dict(dbt_vars),
        catalog_url=_text(catalog, "url", source),
        extra={k: raw[k] for k in _LATER_SECTIONS if k in raw},
    )


def _text(section: Mapping[str, Any], key: str, source: Path) -> str | None:
    value = section.get(key)
    if value is None:
        return None
    if not isinstance(value, str | int | float):
        raise ConfigError(f"{key!r} must be text, got {type(value).__name__}", file=str(source))
    return str(value)
