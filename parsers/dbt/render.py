"""Reading a dbt project by rendering its Jinja, as ``dbt compile`` would, without dbt.

Two passes, like dbt's parse and compile: the first renders every model with a
recording ``ref``/``source``/``config`` to learn its config and dependencies (a model's
relation name depends on its ``config(schema=..., alias=...)``, so every model must be
seen before any ``ref`` can be resolved); the second, run by ``dbt_batch`` in
dependency order, renders with the real relations and the upstream columns that
``dbt_utils.star`` and ``union_relations`` need.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from jinja2 import Template

from lineage.model import ParseIssue
from parsers.dbt.batch import CTE_PREFIX, ColumnsOf, NodeSpec
from parsers.dbt.columns import ColumnSpec, declared_columns
from parsers.dbt.detect import is_dbt_project
from parsers.dbt.jinja import (
    DbtJinja,
    FastTemplate,
    ModelConfig,
    RecordingResolver,
    RenderError,
    extract_blocks,
)
from parsers.dbt.memo import FirstPass, RenderMemo, SecondPass
from parsers.dbt.project import (
    DbtProject,
    Properties,
    data_tests,
    folder_config,
    freshness_of,
    mapping,
    merge_config,
    project_vars,
    read_properties,
    read_yaml,
)
from parsers.dbt.relation import Column, CompileProblem, Relation
from parsers.dbt.sandbox import RenderBudget
from parsers.sql.files import find_files

__all__ = ["ProjectRenderer", "load_packages", "render_project"]

_PY_REF = re.compile(r"dbt\.ref\(\s*['\"]([^'\"]+)['\"]\s*(?:,\s*['\"]([^'\"]+)['\"]\s*)?\)")
_PY_SOURCE = re.compile(r"dbt\.source\(\s*['\"]([^'\"]+)['\"]\s*,\s*['\"]([^'\"]+)['\"]\s*\)")
_PY_MATERIALIZED = re.compile(r"materialized\s*=\s*['\"](\w+)['\"]")


@dataclass
class _Model:
    """A model or snapshot between the two passes."""

    name: str
    resource_type: str
    file: str
    fqn: list[str]
    text: str
    props: dict[str, Any]
    base_config: dict[str, Any]
    language: str = "sql"
    template: Template | FastTemplate | None = None
    config: dict[str, Any] = field(default_factory=dict)
    config_calls: dict[str, Any] = field(default_factory=dict)
    refs: list[tuple[str | None, str]] = field(default_factory=list)
    sources: list[tuple[str, str]] = field(default_factory=list)
    failed: bool = False
    relation: Relation | None = None
    memo_key: str | None = None  # its key in the render memo, when it can have one

    @property
    def unique_id(self) -> str:
        return f"{self.resource_type}.{self.fqn[0]}.{self.name}"


def load_packages(project: DbtProject, jinja: DbtJinja) -> list[ParseIssue]:
    """Load the macros of installed packages (``dbt_packages/<pkg>``) into namespaces."""
    issues: list[ParseIssue] = []
    base = project.root / project.packages_path
    if not base.is_dir():
        return issues
    for folder in sorted(p for p in base.iterdir() if is_dbt_project(p)):
        raw, issue = read_yaml(folder / "dbt_project.yml", project.root)
        if issue is not None or not isinstance(raw, Mapping):
            issues.extend([issue] if issue else [])
            continue
        name = str(raw.get("name") or folder.name)
        paths = raw.get("macro-paths") or ["macros"]
        rel = folder.relative_to(project.root).as_posix()
        issues.extend(jinja.load_macros(project.root, [f"{rel}/{p}" for p in paths],
                                        package=name))
    return issues


def render_project(
    project: DbtProject,
    *,
    cli_vars: Mapping[str, Any] | None,
    incremental: bool,
    issues: list[ParseIssue],
    budget: RenderBudget | None = None,
    memo: RenderMemo | None = None,
) -> list[NodeSpec]:
    """The nodes of ``project`` (models, seeds, snapshots, sources), ready for
    ``build_batch``; problems are appended to ``issues``. ``memo``: what the last scan's
    renders gave (``parsers.dbt.memo``), used where still sound, and kept up to date."""
    renderer = ProjectRenderer(project, cli_vars=cli_vars, incremental=incremental,
                               issues=issues, budget=budget, memo=memo)
    return renderer.nodes()


class ProjectRenderer:
    """Renders one project's models; also the ``Resolver`` of their second pass."""

    def __init__(self, project: DbtProject, *, cli_vars: Mapping[str, Any] | None,
                 incremental: bool, issues: list[ParseIssue],
                 budget: RenderBudget | None = None, memo: RenderMemo | None = None) -> None:
        self.project = project
        self.incremental = incremental
        self.issues = issues
        self.memo = memo
        folders = [*project.model_paths, *project.seed_paths, *project.snapshot_paths,
                   *project.docs_paths, *project.macro_paths]
        self.props: Properties = read_properties(project.root, list(dict.fromkeys(folders)),
                                                 issues)
        self.jinja = DbtJinja(
            project_name=project.name, target=project.target, dialect=project.dialect,
            vars=project_vars(project, cli_vars), docs=self.props.docs, budget=budget,
        )
        issues.extend(load_packages(project, self.jinja))
        issues.extend(self.jinja.load_macros(project.root, project.macro_paths))
        if memo is not None:
            vars_ = project_vars(project, cli_vars)
            settings = repr((project.name, project.target, project.dialect, incremental,
                             sorted(vars_.items(), key=lambda kv: str(kv[0]))))  # fmt: skip
            memo.start(project.root, settings, project.model_paths)
        self.models: dict[str, _Model] = {}
        self.by_name: dict[str, NodeSpec] = {}
        self.sources: dict[tuple[str, str], NodeSpec] = {}
        self.disabled: set[str] = set()
        self._test_props: dict[str, tuple[Mapping[str, Any], str]] = {}
        self._names: dict[str, str] = {}  # lower-case resource name -> its file
        self._columns_of: ColumnsOf = lambda relation: None

    # -- the Resolver of the second pass --------------------------------------------------------

    def ref(self, name: str, package: str | None, version: Any) -> Relation:
        node = self.by_name.get(name.lower())
        if node is None:
            if name.lower() in self.disabled:
                raise CompileProblem(f"ref({name!r}) points at a disabled model")
            raise CompileProblem(f"ref({name!r}): no model, seed or snapshot named {name!r}")
        if node.relation is None:
            return Relation(None, None, f"{CTE_PREFIX}{node.name.lower()}", type="cte")
        return node.relation

    def source(self, source_name: str, table_name: str) -> Relation:
        node = self.sources.get((source_name.lower(), table_name.lower()))
        if node is None or node.relation is None:
            raise CompileProblem(f"source({source_name!r}, {table_name!r}) is not defined")
        return node.relation

    def columns(self, relation: Relation) -> list[Column] | None:
        return self._columns_of(relation)

    # -- reading ---------------------------------------------------------------------------------

    def nodes(self) -> list[NodeSpec]:
        self._read_models()
        self._read_snapshots()
        nodes: list[NodeSpec] = []
        for model in self.models.values():
            self._finish_config(model)
            if model.config.get("enabled") is False:
                self.disabled.add(model.name.lower())
                continue
            model.relation = self._relation(model)
            spec = self._model_spec(model)
            nodes.append(spec)
            self.by_name.setdefault(model.name.lower(), spec)
        for spec in self._seeds():
            nodes.append(spec)
            self.by_name.setdefault(spec.name.lower(), spec)
        for source_name, spec in self._sources():
            nodes.append(spec)
            self.sources[(source_name, spec.name.lower())] = spec
        by_id = {n.unique_id: n for n in nodes}
        for model in self.models.values():
            found = by_id.get(model.unique_id)
            if found is None:
                continue
            found.depends_on = [d for d in self._depends_on(model) if d in by_id]
            props_file = self.props.models.get(model.name, ({}, None))[1]
            self._test_props[found.unique_id] = (model.props, props_file or model.file)
        # Tests last: a relationships test may point at any model, seed or source.
        for unique_id, (props, file) in self._test_props.items():
            if unique_id in by_id:
                by_id[unique_id].tests = self._tests(props, file)
        self._check_relations(nodes)
        return nodes

    def _read_models(self) -> None:
        root = self.project.root
        for folder in self.project.model_paths:
            base = root / folder
            for path in find_files(base, (".sql", ".py")):
                rel = path.relative_to(root).as_posix()
                name = path.stem
                fqn = [self.project.name, *path.relative_to(base).parent.parts, name]
                if self._duplicate(name, rel):
                    continue
                try:
                    text = path.read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError) as exc:
                    self.issues.append(ParseIssue(f"cannot read model: {exc}", file=rel))
                    continue
                props, _ = self.props.models.get(name, ({}, None))
                base_config = merge_config(
                    folder_config(self.project.configs.get("models"), fqn), _yaml_config(props)
                )
                model = _Model(name, "model", rel, fqn, text, props, base_config,
                               language="python" if path.suffix == ".py" else "sql")
                self._first_pass(model)
                self.models[model.unique_id] = model

    def _read_snapshots(self) -> None:
        root = self.project.root
        for folder in self.project.snapshot_paths:
            base = root / folder
            for path in find_files(base):
                rel = path.relative_to(root).as_posix()
                try:
                    text = path.read_text(encoding="utf-8")
                    blocks = list(extract_blocks(text))
                except (OSError, UnicodeDecodeError) as exc:
                    self.issues.append(ParseIssue(f"cannot read snapshot: {exc}", file=rel))
                    continue
                except RenderError as exc:
                    self.issues.append(ParseIssue(exc.message, exc.line, file=rel))
                    continue
                for kind, header, block, line in blocks:
                    if kind != "snapshot":
                        continue
                    name = header.split()[0] if header else path.stem
                    inner = block[block.index("%}") + 2 : block.rindex("{%")]
                    body = "\n" * (line - 1) + inner
                    self._add_snapshot(name, rel, path.relative_to(base).parent.parts, body)
        for name, (props, rel) in self.props.snapshots.items():
            relation = props.get("relation")
            if relation and f"snapshot.{self.project.name}.{name}" not in self.models:
                expression = relation if "{{" in str(relation) else "{{ " + str(relation) + " }}"
                self._add_snapshot(name, rel, (), f"select * from {expression}")

    def _add_snapshot(self, name: str, rel: str, dirs: Sequence[str], body: str) -> None:
        if self._duplicate(name, rel):
            return
        fqn = [self.project.name, *dirs, name]
        props, _ = self.props.snapshots.get(name, ({}, None))
        base_config = merge_config(
            folder_config(self.project.configs.get("snapshots"), fqn), _yaml_config(props)
        )
        model = _Model(name, "snapshot", rel, fqn, body, props, base_config)
        self._first_pass(model)
        self.models[model.unique_id] = model

    def _duplicate(self, name: str, rel: str) -> bool:
        other = self._names.setdefault(name.lower(), rel)
        if other == rel:
            return False
        self.issues.append(ParseIssue(
            f"two resources are named {name!r} (also {other}); this one is skipped", file=rel
        ))
        return True

    def _first_pass(self, model: _Model) -> None:
        """dbt's parse: record config, refs and sources; render errors become issues."""
        if model.language == "python":
            model.refs = [(m.group(2) and m.group(1), m.group(2) or m.group(1))
                          for m in _PY_REF.finditer(model.text)]
            model.sources = [(m.group(1), m.group(2)) for m in _PY_SOURCE.finditer(model.text)]
            found = _PY_MATERIALIZED.search(model.text)
            model.base_config.setdefault("materialized", "table")
            if found:
                model.base_config["materialized"] = found.group(1)
            return
        memo = self.memo
        if memo is not None:
            model.memo_key = memo.model_key(model.file, model.resource_type, model.fqn,
                                            model.text, model.base_config)  # fmt: skip
            kept = memo.first(model.memo_key) if model.memo_key else None
            if kept is not None:
                model.config_calls = dict(kept.config_calls)
                model.refs = list(kept.refs)
                model.sources = list(kept.sources)
                return
        target = self.project.target
        recorder = RecordingResolver(target.database, target.schema, self.project.dialect)
        config = ModelConfig(model.base_config)
        try:
            model.template = self.jinja.template(model.text, model.file)
            result = self.jinja.render(
                model.template, file=model.file, resolver=recorder, config=config,
                node=self._node_dict(model), parse_only=True, source=model.text,
                this=Relation(target.database, target.schema, model.name.lower()),
            )
        except RenderError as exc:
            self.issues.append(exc.to_issue())
            model.failed = True
            model.config_calls = config.calls
        else:
            model.config_calls = result.config_calls
        model.refs = recorder.refs
        model.sources = recorder.sources
        if memo is not None and model.memo_key and not model.failed:
            memo.remember_first(model.memo_key, FirstPass(dict(model.config_calls),
                                                          model.refs, model.sources))  # fmt: skip

    def _finish_config(self, model: _Model) -> None:
        model.config = merge_config(model.base_config, model.config_calls)
        if model.resource_type == "snapshot":
            model.config["materialized"] = "snapshot"
        model.config.setdefault("materialized", "view")

    # -- naming ------------------------------------------------------------------------------------

    def _relation(self, model: _Model) -> Relation | None:
        config = model.config
        if config.get("materialized") == "ephemeral":
            return None
        node = self._node_dict(model)
        target = self.project.target
        if model.resource_type == "snapshot" and config.get("target_schema"):
            # Legacy snapshot configs name the schema verbatim (no generate_schema_name).
            database = config.get("target_database") or target.database
            schema = str(config["target_schema"])
        else:
            database = self._name("generate_database_name", config.get("database"), node)
            schema = self._name("generate_schema_name", config.get("schema"), node) or (
                target.schema
            )
        alias = self._name("generate_alias_name", config.get("alias"), node) or model.name
        return Relation.create(database, schema, alias, dialect=self.project.dialect)

    def _name(self, macro: str, custom: Any, node: Mapping[str, Any]) -> str | None:
        """dbt's ``generate_*_name``: the project's macro if it defines one, else dbt's
        default rule (``<target schema>_<custom schema>`` for schemas)."""
        target = self.project.target
        if self.jinja.project_macro(macro):
            try:
                value = self.jinja.call_macro(macro, custom, node, file=str(node.get(
                    "original_file_path")), resolver=self)
                return str(value).strip() or None
            except RenderError as exc:
                self.issues.append(exc.to_issue())
        text = str(custom).strip() if custom is not None else None
        if macro == "generate_schema_name":
            return target.schema if text is None else f"{target.schema}_{text}"
        if macro == "generate_database_name":
            return target.database if text is None else text
        if text:
            return text
        version = node.get("version")
        name = str(node["name"])
        return f"{name}_v{str(version).replace('.', '_')}" if version else name

    def _node_dict(self, model: _Model) -> dict[str, Any]:
        return {
            "name": model.name,
            "alias": model.config.get("alias") or model.name,
            "unique_id": model.unique_id,
            "resource_type": model.resource_type,
            "package_name": self.project.name,
            "original_file_path": model.file,
            "path": "/".join([*model.fqn[1:-1], Path(model.file).name]),
            "fqn": model.fqn,
            "config": model.config or model.base_config,
            "tags": list((model.config or model.base_config).get("tags") or []),
            "version": None,
            "raw_code": model.text,
            "language": model.language,
        }

    # -- nodes ----------------------------------------------------------------------------

    def _describe(self, text: Any, file: str | None) -> str | None:
        if not isinstance(text, str) or not text.strip():
            return None
        try:
            return self.jinja.render_text(text, file=file or "", resolver=self).strip()
        except RenderError as exc:
            self.issues.append(ParseIssue(f"description: {exc.message}", exc.line, file=file))
            return text.strip()

    def _describer(self, file: str | None) -> Callable[[str], str]:
        return lambda text: self._describe(text, file) or ""

    def _model_spec(self, model: _Model) -> NodeSpec:
        config = model.config
        props_file = self.props.models.get(model.name, ({}, None))[1] or model.file
        contract = config.get("contract")
        spec = NodeSpec(
            unique_id=model.unique_id,
            resource_type=model.resource_type,
            name=model.name,
            package=self.project.name,
            relation=model.relation,
            materialized=str(config.get("materialized") or "view"),
            file=model.file,
            description=self._describe(model.props.get("description"), props_file),
            columns=declared_columns(model.props.get("columns"),
                                     self._describer(props_file)),
            meta=dict(config.get("meta") or {}),
            tags=[str(t) for t in config.get("tags") or []],
            contract_enforced=bool(isinstance(contract, Mapping) and contract.get("enforced")),
            source_text=model.text,
            failed=model.failed or model.language == "python",
        )
        if model.language == "sql" and not model.failed:
            spec.render = self._second_pass
        return spec

    def _second_pass(self, node: NodeSpec, columns_of: ColumnsOf) -> tuple[str, list[ParseIssue]]:
        model = self.models[node.unique_id]
        self._columns_of = columns_of
        this = model.relation or Relation(None, None, f"{CTE_PREFIX}{model.name.lower()}",
                                          type="cte")
        incremental = self.incremental and model.config.get("materialized") == "incremental"
        memo, key = self.memo, model.memo_key
        stage = memo.stage_key(model.config, this, incremental) if memo and key else None
        if memo is not None and key is not None and stage is not None:
            found = memo.second(key, stage, self)
            if found is not None:
                return found.sql, list(found.notes)
        if model.template is None:  # its first pass came from the memo
            model.template = self.jinja.template(model.text, model.file)
        recorder = memo.recorder(self) if memo is not None and stage is not None else None
        result = self.jinja.render(
            model.template, file=model.file, resolver=recorder or self,
            config=ModelConfig(model.config), node=self._node_dict(model), this=this,
            source=model.text, incremental=incremental,
        )
        if memo is not None and key and stage and recorder is not None and recorder.complete:
            memo.remember_second(key, SecondPass(stage, recorder.calls, result.sql,
                                                 result.notes))  # fmt: skip
        return result.sql, result.notes

    def _depends_on(self, model: _Model) -> list[str]:
        out: list[str] = []
        for _package, name in model.refs:
            node = self.by_name.get(name.lower())
            if node is not None:
                out.append(node.unique_id)
        for source_name, table_name in model.sources:
            node = self.sources.get((source_name.lower(), table_name.lower()))
            if node is not None:
                out.append(node.unique_id)
        return list(dict.fromkeys(out))

    def _tests(self, props: Mapping[str, Any], file: str | None) -> list[Any]:
        label = file or ""

        def resolve_to(expression: str) -> str:
            text = expression.strip()
            if text.startswith("{{") and text.endswith("}}"):
                text = text[2:-2]
            value = self.jinja.evaluate(text, file=label, resolver=self)
            return value.dotted if isinstance(value, Relation) else str(value)

        tests = []
        for key in ("tests", "data_tests"):
            found, problems = data_tests(props.get(key), None, resolve_to)
            tests.extend(found)
            self.issues.extend(ParseIssue(p, file=label) for p in problems)
            for column in props.get("columns") or []:
                if not isinstance(column, Mapping) or not column.get("name"):
                    continue
                found, problems = data_tests(column.get(key), str(column["name"]).lower(),
                                             resolve_to)
                tests.extend(found)
                self.issues.extend(ParseIssue(p, file=label) for p in problems)
        return tests

    def _seeds(self) -> list[NodeSpec]:
        out: list[NodeSpec] = []
        root = self.project.root
        for folder in self.project.seed_paths:
            base = root / folder
            for path in find_files(base, (".csv",)):
                rel = path.relative_to(root).as_posix()
                name = path.stem
                fqn = [self.project.name, *path.relative_to(base).parent.parts, name]
                props, props_file = self.props.seeds.get(name, ({}, None))
                config = merge_config(folder_config(self.project.configs.get("seeds"), fqn),
                                      _yaml_config(props))
                if config.get("enabled") is False or self._duplicate(name, rel):
                    continue
                model = _Model(name, "seed", rel, fqn, "", props, config, config=config)
                spec = NodeSpec(
                    unique_id=model.unique_id, resource_type="seed", name=name,
                    package=self.project.name, relation=self._relation(model),
                    materialized="seed", file=rel,
                    description=self._describe(props.get("description"), props_file),
                    columns=self._seed_columns(path, rel, props, props_file, config),
                    meta=dict(config.get("meta") or {}),
                    tags=[str(t) for t in config.get("tags") or []],
                )
                self._test_props[spec.unique_id] = (props, props_file or rel)
                out.append(spec)
        return out


    def _seed_columns(self, path: Path, rel: str, props: Mapping[str, Any],
                      props_file: str | None, config: Mapping[str, Any]) -> dict[str, ColumnSpec]:
        declared = declared_columns(props.get("columns"),
                                    self._describer(props_file))
        types = {str(k).lower(): str(v) for k, v in (config.get("column_types") or {}).items()}
        try:
            with path.open(encoding="utf-8-sig", newline="") as handle:
                header = next(csv.reader(handle), [])
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            self.issues.append(ParseIssue(f"cannot read seed: {exc}", file=rel))
            header = []
        columns: dict[str, ColumnSpec] = {}
        for raw in header:
            key = raw.strip().lower()
            spec = declared.get(key, ColumnSpec(key))
            columns[key] = replace(spec, name=key, data_type=types.get(key) or spec.data_type)
        for key, spec in declared.items():
            columns.setdefault(key, spec)
        return columns

    def _sources(self) -> list[tuple[str, NodeSpec]]:
        out: list[tuple[str, NodeSpec]] = []
        target = self.project.target
        for entry, rel in self.props.sources:
            source_name = str(entry["name"])
            source_config = mapping(entry.get("config"))
            database = self._text(entry.get("database"), rel) or target.database
            schema = self._text(entry.get("schema"), rel) or source_name
            source_meta = {**(entry.get("meta") or {}), **(source_config.get("meta") or {})}
            source_tags = [*(entry.get("tags") or []), *(source_config.get("tags") or [])]
            freshness = source_config.get("freshness", entry.get("freshness"))
            loaded_at = source_config.get("loaded_at_field", entry.get("loaded_at_field"))
            dirs = Path(rel).parent.parts[1:]
            for table in entry.get("tables") or []:
                if not isinstance(table, Mapping) or not table.get("name"):
                    self.issues.append(ParseIssue(
                        f"a table of source {source_name!r} has no name", file=rel))
                    continue
                name = str(table["name"])
                config = mapping(table.get("config"))
                fqn = [self.project.name, *dirs, source_name, name]
                project_config = folder_config(self.project.configs.get("sources"), fqn)
                if config.get("enabled", project_config.get("enabled", True)) is False:
                    continue
                identifier = self._text(table.get("identifier"), rel) or name
                meta = {**(project_config.get("meta") or {}), **source_meta,
                        **(table.get("meta") or {}), **(config.get("meta") or {})}
                table_fresh = config.get("freshness", table.get("freshness", freshness))
                if "freshness" in table and table["freshness"] is None:
                    table_fresh = None
                field_name = config.get("loaded_at_field", table.get("loaded_at_field", loaded_at))
                spec = NodeSpec(
                    unique_id=f"source.{self.project.name}.{source_name}.{name}",
                    resource_type="source", name=name, package=self.project.name,
                    relation=Relation.create(database, schema, identifier,
                                             dialect=self.project.dialect),
                    materialized="source", file=rel,
                    description=self._describe(table.get("description"), rel),
                    columns=declared_columns(table.get("columns"), self._describer(rel)),
                    meta=meta,
                    tags=[str(t) for t in [*(project_config.get("tags") or []), *source_tags,
                                           *(table.get("tags") or []),
                                           *(config.get("tags") or [])]],
                    freshness=freshness_of(table_fresh, field_name),
                )
                self._test_props[spec.unique_id] = (table, rel)
                out.append((source_name.lower(), spec))
        return out

    def _text(self, value: Any, file: str) -> str | None:
        if value is None:
            return None
        try:
            return self.jinja.render_text(str(value), file=file).strip() or None
        except RenderError as exc:
            self.issues.append(exc.to_issue())
            return str(value)

    def _check_relations(self, nodes: Sequence[NodeSpec]) -> None:
        seen: dict[str, NodeSpec] = {}
        for node in nodes:
            if node.relation is None or node.resource_type == "source":
                continue
            other = seen.setdefault(node.relation.dotted, node)
            if other is not node:
                self.issues.append(ParseIssue(
                    f"{node.name} and {other.name} are both built as {node.relation.dotted}",
                    file=node.file,
                ))


def _yaml_config(props: Mapping[str, Any]) -> dict[str, Any]:
    """A properties entry's config: its ``config:`` plus the legacy top-level keys."""
    config: dict[str, Any] = {}
    for key in ("meta", "tags", "docs", "access", "group"):
        if props.get(key) is not None:
            config[key] = props[key]
    nested = props.get("config")
    if isinstance(nested, Mapping):
        config = merge_config(config, nested)
    return config

