"""Reading a dbt project from ``target/manifest.json`` (and ``catalog.json``).

The manifest holds what dbt itself compiled: every model's SQL with refs resolved, its
relation, config, docs and tests, so it is the most precise source. ``catalog.json``
(``dbt docs generate``) adds the column types the warehouse reported. Manifest schemas
v9 to v12 (dbt 1.5 to 1.10) are read; a newer one is read the same way with a warning;
an older one is reported and the project is rendered instead. A model the manifest has
no compiled SQL for (``dbt parse`` output) is rendered from its raw code.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from lineage.model import ParseIssue
from parsers.dbt.batch import CTE_PREFIX, ColumnsOf, NodeSpec
from parsers.dbt.columns import ColumnSpec, column_marks
from parsers.dbt.generic_tests import manifest_test
from parsers.dbt.jinja import DbtJinja, ModelConfig
from parsers.dbt.project import (
    ADAPTER_DIALECTS,
    DbtProject,
    freshness_of,
    project_vars,
)
from parsers.dbt.relation import Column, CompileProblem, Relation
from parsers.dbt.render import load_packages
from parsers.sql.files import find_files

__all__ = ["MANIFEST_VERSIONS", "read_manifest"]

#: Manifest schema versions read as is (dbt 1.5 .. 1.10).
MANIFEST_VERSIONS = range(9, 13)

_VERSION = re.compile(r"/manifest/v(\d+)(?:\.json)?$")
_REF_IN_KWARG = re.compile(r"ref\(\s*['\"]([^'\"]+)['\"]\s*(?:,\s*['\"]([^'\"]+)['\"]\s*)?\)")
_MANIFEST = "target/manifest.json"
_CATALOG = "target/catalog.json"


def read_manifest(
    project: DbtProject,
    *,
    cli_vars: Mapping[str, Any] | None,
    incremental: bool,
    issues: list[ParseIssue],
) -> tuple[list[NodeSpec], str | None] | None:
    """The nodes of ``target/manifest.json`` and the dialect it was compiled for, or None
    (with an issue) when the manifest cannot be used."""
    data = _load_json(project.root / _MANIFEST, _MANIFEST, issues)
    if data is None:
        return None
    schema_version = str((data.get("metadata") or {}).get("dbt_schema_version") or "")
    match = _VERSION.search(schema_version)
    version = int(match.group(1)) if match else None
    if version is None or version < MANIFEST_VERSIONS.start:
        issues.append(ParseIssue(
            f"manifest schema {schema_version or 'unknown'} is older than v9 (dbt 1.5): "
            "the project is rendered from its files instead",
            file=_MANIFEST,
        ))
        return None
    if version >= MANIFEST_VERSIONS.stop:
        issues.append(ParseIssue(
            f"manifest schema v{version} is newer than v12 (dbt 1.10); read as v12",
            file=_MANIFEST,
        ))
    catalog = _load_catalog(project.root, issues)
    adapter = str((data.get("metadata") or {}).get("adapter_type") or "")
    dialect = project.dialect or ADAPTER_DIALECTS.get(adapter)
    reader = _ManifestReader(project, data, catalog, dialect)
    nodes = reader.nodes()
    _check_stale(project, data, issues)
    if any(n.sql is None and n.source_text is not None for n in nodes):
        reader.enable_rendering(cli_vars, incremental, issues)
    return nodes, dialect


def _check_stale(project: DbtProject, data: Mapping[str, Any], issues: list[ParseIssue]) -> None:
    """Model files the manifest does not know: target/ is older than the project."""
    known = {
        str(node.get("original_file_path"))
        for node in (data.get("nodes") or {}).values() if isinstance(node, Mapping)
    }
    for versions in (data.get("disabled") or {}).values():
        known.update(str(n.get("original_file_path")) for n in versions or []
                     if isinstance(n, Mapping))
    missing = sorted(
        path.relative_to(project.root).as_posix()
        for folder in project.model_paths
        for path in find_files(project.root / folder, (".sql", ".py"))
        if path.relative_to(project.root).as_posix() not in known
    )
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5
                                           else "")
        issues.append(ParseIssue(
            f"the manifest is older than the project: {shown} not in it (run dbt compile "
            "again, or pass use_manifest=False)",
            file=_MANIFEST,
        ))


def _load_json(path: Path, rel: str, issues: list[ParseIssue]) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        issues.append(ParseIssue(f"cannot read: {exc}", file=rel))
        return None
    except json.JSONDecodeError as exc:
        issues.append(ParseIssue(f"invalid JSON: {exc.msg}", exc.lineno, exc.colno, file=rel))
        return None
    if not isinstance(data, dict):
        issues.append(ParseIssue("expected a JSON object", file=rel))
        return None
    return data


def _load_catalog(root: Path, issues: list[ParseIssue]) -> dict[str, dict[str, Any]]:
    """unique_id -> {lower column name: (index, name, type)} from catalog.json, if any."""
    if not (root / _CATALOG).is_file():
        return {}
    data = _load_json(root / _CATALOG, _CATALOG, issues)
    out: dict[str, dict[str, Any]] = {}
    for section in ("nodes", "sources"):
        for unique_id, entry in ((data or {}).get(section) or {}).items():
            columns = (entry or {}).get("columns") or {}
            out[unique_id] = {
                str(c.get("name") or k).lower(): c for k, c in columns.items()
                if isinstance(c, Mapping)
            }
    return out


class _ManifestReader:
    def __init__(self, project: DbtProject, data: Mapping[str, Any],
                 catalog: Mapping[str, dict[str, Any]], dialect: str | None) -> None:
        self.project = project
        self.data = data
        self.catalog = catalog
        self.dialect = dialect
        self.specs: dict[str, NodeSpec] = {}
        self.configs: dict[str, dict[str, Any]] = {}
        self.source_ids: dict[tuple[str, str], str] = {}
        self._by_name: dict[str, list[NodeSpec]] | None = None
        self.jinja: DbtJinja | None = None
        self._columns_of: ColumnsOf = lambda relation: None
        self._incremental = False

    def nodes(self) -> list[NodeSpec]:
        tests: list[Mapping[str, Any]] = []
        for unique_id, raw in (self.data.get("nodes") or {}).items():
            kind = raw.get("resource_type")
            if kind in ("model", "seed", "snapshot"):
                spec = self._node(unique_id, raw)
                if spec is not None:
                    self.specs[unique_id] = spec
            elif kind == "test":
                tests.append(raw)
        for unique_id, raw in (self.data.get("sources") or {}).items():
            spec = self._source(unique_id, raw)
            if spec is not None:
                self.specs[unique_id] = spec
        for raw in tests:
            self._attach_test(raw)
        return list(self.specs.values())

    def _node(self, unique_id: str, raw: Mapping[str, Any]) -> NodeSpec | None:
        config = dict(raw.get("config") or {})
        if config.get("enabled") is False:
            return None
        kind = str(raw["resource_type"])
        materialized = {"seed": "seed", "snapshot": "snapshot"}.get(
            kind, str(config.get("materialized") or "view"))
        relation = None
        if materialized != "ephemeral":
            relation = Relation.create(raw.get("database"), raw.get("schema"),
                                       raw.get("alias") or raw.get("name"), dialect=self.dialect)
        compiled = raw.get("compiled_code", raw.get("compiled_sql"))
        python = raw.get("language") == "python"
        if python:
            compiled = None  # a Python model's code is not SQL; its lineage is table level
        if compiled is not None and not raw.get("extra_ctes_injected", True):
            compiled = _inject(raw.get("extra_ctes") or [], str(compiled))
        raw_code = raw.get("raw_code", raw.get("raw_sql"))
        contract = config.get("contract") or raw.get("contract") or {}
        self.configs[unique_id] = config
        meta = {**(config.get("meta") or {}), **(raw.get("meta") or {})}
        spec = NodeSpec(
            unique_id=unique_id,
            resource_type=kind,
            name=str(raw.get("name")),
            package=str(raw.get("package_name") or self.project.name),
            relation=relation,
            materialized=materialized,
            file=raw.get("original_file_path"),
            description=raw.get("description") or None,
            columns=self._columns(unique_id, raw),
            meta=meta,
            tags=[str(t) for t in raw.get("tags") or config.get("tags") or []],
            contract_enforced=bool(isinstance(contract, Mapping) and contract.get("enforced")),
            sql=str(compiled) if compiled is not None else None,
            ctes_injected=compiled is not None,
            depends_on=list((raw.get("depends_on") or {}).get("nodes") or []),
            source_text=str(raw_code) if raw_code is not None else None,
        )
        if kind == "seed" or python:
            spec.source_text = None
        if kind == "seed" and spec.file:
            self._seed_header(spec)
        return spec

    def _seed_header(self, spec: NodeSpec) -> None:
        """Without catalog.json a seed's columns are still its CSV header."""
        try:
            with (self.project.root / str(spec.file)).open(encoding="utf-8-sig",
                                                           newline="") as handle:
                header = next(csv.reader(handle), [])
        except (OSError, UnicodeDecodeError, csv.Error):
            return
        columns = {k.strip().lower(): ColumnSpec(k.strip().lower()) for k in header}
        for key, column in spec.columns.items():
            columns[key] = column if key not in columns or column.data_type else replace(
                column, data_type=columns[key].data_type)
        spec.columns = columns

    def _source(self, unique_id: str, raw: Mapping[str, Any]) -> NodeSpec | None:
        config = raw.get("config") or {}
        if config.get("enabled") is False:
            return None
        meta = {**(raw.get("source_meta") or {}), **(raw.get("meta") or {})}
        freshness = raw.get("freshness", config.get("freshness"))
        loaded_at = raw.get("loaded_at_field") or config.get("loaded_at_field")
        key = (str(raw.get("source_name") or "").lower(), str(raw.get("name")).lower())
        self.source_ids[key] = unique_id
        return NodeSpec(
            unique_id=unique_id,
            resource_type="source",
            name=str(raw.get("name")),
            package=str(raw.get("package_name") or self.project.name),
            relation=Relation.create(raw.get("database"), raw.get("schema"),
                                     raw.get("identifier") or raw.get("name"),
                                     dialect=self.dialect),
            materialized="source",
            file=raw.get("original_file_path"),
            description=raw.get("description") or None,
            columns=self._columns(unique_id, raw),
            meta=meta,
            tags=[str(t) for t in raw.get("tags") or []],
            freshness=freshness_of(freshness, loaded_at),
        )

    def _columns(self, unique_id: str, raw: Mapping[str, Any]) -> dict[str, ColumnSpec]:
        declared = {
            str(c.get("name") or k).lower(): c
            for k, c in (raw.get("columns") or {}).items() if isinstance(c, Mapping)
        }
        observed = self.catalog.get(unique_id, {})
        out: dict[str, ColumnSpec] = {}
        for key, column in sorted(observed.items(), key=lambda kv: kv[1].get("index") or 0):
            spec = declared.get(key, {})
            out[key] = ColumnSpec(key, spec.get("description") or None,
                                  column.get("type") or spec.get("data_type"), *column_marks(spec))
        for key, spec in declared.items():
            out.setdefault(key, ColumnSpec(key, spec.get("description") or None,
                                           spec.get("data_type") or None, *column_marks(spec)))
        return out

    def _attach_test(self, raw: Mapping[str, Any]) -> None:
        metadata = raw.get("test_metadata")
        config = raw.get("config") or {}
        if not isinstance(metadata, Mapping) or config.get("enabled") is False:
            return  # singular tests are SQL files of their own, not declared checks
        depends = list((raw.get("depends_on") or {}).get("nodes") or [])
        kwargs = dict(metadata.get("kwargs") or {})
        attached = raw.get("attached_node") or self._tested_node(kwargs, depends)
        spec = self.specs.get(str(attached)) if attached else None
        if spec is None:
            return
        other = next((self.specs[d] for d in depends if d != attached and d in self.specs), None)
        to_dataset = other.relation.dotted if other is not None and other.relation else None
        test = manifest_test(raw, to_dataset=to_dataset)
        if test is not None:
            spec.tests.append(test)

    def _tested_node(self, kwargs: Mapping[str, Any], depends: list[str]) -> str | None:
        """Manifests before ``attached_node`` name the tested model in ``kwargs.model``."""
        match = _REF_IN_KWARG.search(str(kwargs.get("model") or ""))
        if match:
            name = match.group(2) or match.group(1)
            for dep in depends:
                if dep in self.specs and self.specs[dep].name == name:
                    return dep
        return depends[0] if depends else None

    # -- models the manifest has not compiled ----------------------------------------------

    def enable_rendering(self, cli_vars: Mapping[str, Any] | None, incremental: bool,
                         issues: list[ParseIssue]) -> None:
        project = self.project
        self.jinja = DbtJinja(project_name=project.name, target=project.target,
                              dialect=self.dialect, vars=project_vars(project, cli_vars),
                              docs={})
        issues.extend(load_packages(project, self.jinja))
        issues.extend(self.jinja.load_macros(project.root, project.macro_paths))
        self._incremental = incremental
        for spec in self.specs.values():
            if spec.sql is None and spec.source_text is not None and spec.executable:
                spec.render = self._render

    def _render(self, node: NodeSpec, columns_of: ColumnsOf) -> tuple[str, list[ParseIssue]]:
        assert self.jinja is not None and node.source_text is not None
        self._columns_of = columns_of
        file = node.file or node.unique_id
        config = self.configs.get(node.unique_id, {})
        template = self.jinja.template(node.source_text, file)
        this = node.relation or Relation(None, None, f"{CTE_PREFIX}{node.name.lower()}",
                                         type="cte")
        result = self.jinja.render(
            template, file=file, resolver=self, config=ModelConfig(config), this=this,
            node={"name": node.name, "unique_id": node.unique_id, "config": config,
                  "resource_type": node.resource_type, "package_name": node.package},
            incremental=self._incremental and node.materialized == "incremental",
            source=node.source_text,
        )
        return result.sql, result.notes

    def ref(self, name: str, package: str | None, version: Any) -> Relation:
        if self._by_name is None:
            self._by_name = {}
            for candidate in self.specs.values():
                if candidate.resource_type != "source":
                    self._by_name.setdefault(candidate.name.lower(), []).append(candidate)
        for spec in self._by_name.get(name.lower(), []):
            if package is None or spec.package == package:
                if spec.relation is None:
                    return Relation(None, None, f"{CTE_PREFIX}{spec.name.lower()}", type="cte")
                return spec.relation
        raise CompileProblem(f"ref({name!r}): no model, seed or snapshot named {name!r}")

    def source(self, source_name: str, table_name: str) -> Relation:
        spec = self.specs.get(self.source_ids.get((source_name.lower(), table_name.lower()), ""))
        if spec is not None and spec.relation is not None:
            return spec.relation
        raise CompileProblem(f"source({source_name!r}, {table_name!r}) is not defined")

    def columns(self, relation: Relation) -> list[Column] | None:
        return self._columns_of(relation)


def _inject(extra_ctes: list[Any], sql: str) -> str:
    """Prepend ``extra_ctes`` ([{id, sql}]) that dbt did not inject itself."""
    bodies = [str(c.get("sql") or "").strip() for c in extra_ctes if isinstance(c, Mapping)]
    bodies = [b for b in bodies if b]
    if not bodies:
        return sql
    stripped = sql.lstrip()
    if stripped[:4].lower() == "with" and not stripped[4:5].isalnum():
        return f"with {', '.join(bodies)}, {stripped[4:].lstrip()}"
    return f"with {', '.join(bodies)}\n{sql}"
