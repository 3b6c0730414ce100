"""A dbt project's files: dbt_project.yml, profiles.yml, properties YAML and docs blocks.

Configs follow dbt's precedence: ``dbt_project.yml`` folder configs (general to
specific, ``+key`` or a known config key), then a properties file's ``config:``, then
the model's own ``{{ config(...) }}``. ``tags`` accumulate and ``meta`` (and other dict
configs) merge across levels; every other key is overridden.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lineage.errors import ConfigError
from lineage.model import DataTest, Freshness, ParseIssue, is_secret_key
from parsers.dbt.detect import is_dbt_project
from parsers.dbt.jinja import RenderError, Target, extract_blocks, render_value
from parsers.sql.files import find_files

__all__ = [
    "ADAPTER_DIALECTS",
    "MAX_YAML_ALIAS_NODES",
    "DbtProject",
    "Properties",
    "YamlAliasBomb",
    "canonical_json",
    "data_tests",
    "folder_config",
    "freshness_of",
    "load_yaml",
    "mapping",
    "merge_config",
    "owners_of",
    "project_vars",
    "read_project",
    "read_properties",
    "read_yaml",
]

# dbt adapter type -> sqlglot dialect.
ADAPTER_DIALECTS = {
    "redshift": "redshift", "postgres": "postgres", "snowflake": "snowflake",
    "bigquery": "bigquery", "databricks": "databricks", "spark": "spark", "glue": "spark",
    "duckdb": "duckdb", "trino": "trino", "starburst": "trino", "athena": "athena",
    "sqlserver": "tsql", "synapse": "tsql", "fabric": "fabric", "mysql": "mysql",
    "clickhouse": "clickhouse", "oracle": "oracle", "teradata": "teradata", "hive": "hive",
    "materialize": "materialize", "risingwave": "risingwave", "doris": "doris",
    "exasol": "exasol", "dremio": "dremio",
}
_DIALECT_ADAPTERS = {"tsql": "sqlserver"}

# Config keys whose value is a mapping: under a folder they are configs, not subfolders.
_DICT_CONFIGS = frozenset({
    "meta", "docs", "contract", "persist_docs", "grants", "quoting", "column_types",
    "partition_by", "labels", "freshness", "snapshot_meta_column_names", "vars",
})
_LIST_CONFIGS = frozenset({"tags", "pre-hook", "post-hook", "pre_hook", "post_hook"})
_TEST_CONFIG_KEYS = frozenset({
    "name", "config", "severity", "where", "limit", "warn_if", "error_if", "tags", "meta",
    "store_failures", "store_failures_as", "enabled", "description", "fail_calc", "alias",
    "schema", "database",
})
# libyaml's loader when built in: properties files of big projects load ten times faster.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
#: Nodes that aliases may add to a YAML document once expanded: real anchors (a shared
#: config block reused a few dozen times) stay far below; a "billion laughs" file of nine
#: nested anchors expands to 10**9 and would hang whatever walks the loaded value.
MAX_YAML_ALIAS_NODES = 100_000
# Profile keys never exposed to templates: the names lineage.model.is_secret_key knows (pass, pwd,
# api_key ...) plus any key holding one of these words (keyfile_json, private_key_path).
_SECRET_WORDS = ("password", "secret", "token", "private_key", "keyfile", "passphrase")


@dataclass
class DbtProject:
    """What dbt_project.yml (and profiles.yml) say about a project."""

    root: Path
    name: str
    profile: str | None = None
    model_paths: list[str] = field(default_factory=lambda: ["models"])
    seed_paths: list[str] = field(default_factory=lambda: ["seeds"])
    snapshot_paths: list[str] = field(default_factory=lambda: ["snapshots"])
    macro_paths: list[str] = field(default_factory=lambda: ["macros"])
    docs_paths: list[str] = field(default_factory=list)
    packages_path: str = "dbt_packages"
    vars: dict[str, Any] = field(default_factory=dict)
    configs: dict[str, Any] = field(default_factory=dict)
    target: Target = field(default_factory=Target)
    dialect: str | None = None


def read_yaml(path: Path, root: Path) -> tuple[Any, ParseIssue | None]:
    """A YAML file's content, or an issue naming the file (relative to root) and line."""
    rel = _rel(path, root)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, ParseIssue(f"cannot read file: {exc}", file=rel)
    try:
        return load_yaml(text), None
    except YamlAliasBomb as exc:
        mark = exc.node.start_mark
        lines = text.splitlines()
        line_text = lines[mark.line].strip()[:200] if mark.line < len(lines) else None
        message = f"{exc}; the file was not loaded"
        return None, ParseIssue(message, mark.line + 1, mark.column + 1, line_text, file=rel)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        column = mark.column + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        if context and context_mark is not None:
            # "while scanning a quoted scalar": where the unfinished construct starts.
            problem += f" ({context} started on line {context_mark.line + 1})"
        text_line = text.splitlines()[line - 1].strip() if line and line <= len(
            text.splitlines()) else None
        return None, ParseIssue(f"invalid YAML: {problem}", line, column, text_line, file=rel)


class YamlAliasBomb(yaml.YAMLError):
    """A document whose aliases expand beyond ``MAX_YAML_ALIAS_NODES``, or contain
    themselves: refused, since whatever walks the loaded value would never finish."""

    def __init__(self, message: str, node: yaml.Node) -> None:
        super().__init__(message)
        self.node = node


def load_yaml(text: str) -> Any:
    """One YAML document, with the fast loader; aliases are measured before construction.

    Raises:
        YamlAliasBomb: the aliases expand past ``MAX_YAML_ALIAS_NODES`` nodes.
        yaml.YAMLError: the text is not valid YAML.
    """
    if "&" not in text:  # no anchor, no alias: the fast path
        return yaml.load(text, Loader=_LOADER)
    loader = _LOADER(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node, {}, set(), [0])
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _expanded_size(
    node: yaml.Node, sizes: dict[int, int], open_nodes: set[int], through_aliases: list[int]
) -> int:
    """Nodes under ``node`` once every alias is expanded; counts what aliases add."""
    key = id(node)
    known = sizes.get(key)
    if known is not None:  # a node met again is an alias: its whole subtree is copied
        through_aliases[0] += known
        if through_aliases[0] > MAX_YAML_ALIAS_NODES:
            raise YamlAliasBomb(
                f"YAML aliases expand to more than {MAX_YAML_ALIAS_NODES} nodes", node
            )
        return known
    if key in open_nodes:
        raise YamlAliasBomb("YAML alias refers to a node that contains it", node)
    size = 1
    if isinstance(node, yaml.SequenceNode):
        open_nodes.add(key)
        for child in node.value:
            size += _expanded_size(child, sizes, open_nodes, through_aliases)
        open_nodes.discard(key)
    elif isinstance(node, yaml.MappingNode):
        open_nodes.add(key)
        for pair in node.value:
            for child in pair:
                size += _expanded_size(child, sizes, open_nodes, through_aliases)
        open_nodes.discard(key)
    sizes[key] = size
    return size


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _paths(raw: Mapping[str, Any], key: str, legacy: str | None, default: list[str]) -> list[str]:
    value = raw.get(key, raw.get(legacy) if legacy else None)
    if value is None:
        return list(default)
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def read_project(
    root: Path,
    *,
    target: str | None = None,
    database: str | None = None,
    schema: str | None = None,
    dialect: str | None = None,
) -> tuple[DbtProject, list[ParseIssue]]:
    """Read dbt_project.yml and, when present, the project's own profiles.yml.

    Raises:
        ConfigError: no dbt_project.yml, or it is not valid YAML / has no ``name``.
    """
    file = root / "dbt_project.yml"
    if not is_dbt_project(root):
        raise ConfigError("not a dbt project: no dbt_project.yml", file=str(root))
    raw, issue = read_yaml(file, root)
    if issue is not None:
        raise ConfigError(issue.message, file=str(file), line=issue.line)
    if not isinstance(raw, Mapping) or not isinstance(raw.get("name"), str):
        raise ConfigError("dbt_project.yml must be a mapping with a 'name'", file=str(file))
    issues: list[ParseIssue] = []
    project = DbtProject(
        root=root,
        name=raw["name"],
        profile=raw.get("profile") if isinstance(raw.get("profile"), str) else None,
        model_paths=_paths(raw, "model-paths", "source-paths", ["models"]),
        seed_paths=_paths(raw, "seed-paths", "data-paths", ["seeds"]),
        snapshot_paths=_paths(raw, "snapshot-paths", None, ["snapshots"]),
        macro_paths=_paths(raw, "macro-paths", None, ["macros"]),
        docs_paths=_paths(raw, "docs-paths", None, []),
        packages_path=str(raw.get("packages-install-path") or "dbt_packages"),
        vars=dict(raw.get("vars") or {}) if isinstance(raw.get("vars"), Mapping) else {},
    )
    for key in ("models", "seeds", "snapshots", "sources", "data_tests", "tests"):
        section = raw.get(key)
        if isinstance(section, Mapping):
            project.configs[key] = _render_tree(section, project, issues)
    project.dialect = dialect
    project.target, profile_dialect = _read_profile(
        root, project, target, database, schema, issues
    )
    project.dialect = dialect or profile_dialect
    return project, issues


def _render_tree(tree: Mapping[str, Any], project: DbtProject,
                 issues: list[ParseIssue]) -> dict[str, Any]:
    """Folder configs with ``{{ env_var(...) }}`` / ``{{ var(...) }}`` values rendered."""
    out: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, Mapping):
            out[key] = _render_tree(value, project, issues)
        elif isinstance(value, str) and "hook" not in key:
            try:
                out[key] = render_value(value, vars=project.vars)
            except RenderError as exc:
                issues.append(ParseIssue(f"{key}: {exc.message}", file="dbt_project.yml"))
                out[key] = value
        else:
            out[key] = value
    return out


def _read_profile(
    root: Path, project: DbtProject, target: str | None, database: str | None,
    schema: str | None, issues: list[ParseIssue],
) -> tuple[Target, str | None]:
    file = root / "profiles.yml"
    outputs: Mapping[str, Any] = {}
    profile_target: str | None = None
    if file.is_file():
        raw, issue = read_yaml(file, root)
        if issue is not None:
            issues.append(issue)
        elif isinstance(raw, Mapping):
            profile = raw.get(project.profile or project.name)
            if profile is None and len([k for k in raw if k != "config"]) == 1:
                profile = next(v for k, v in raw.items() if k != "config")
            if isinstance(profile, Mapping):
                outputs = profile.get("outputs") or {}
                profile_target = _value(profile.get("target"), "target", issues)
            else:
                issues.append(ParseIssue(
                    f"profile {project.profile or project.name!r} not found", file="profiles.yml"
                ))
    name = target or profile_target or "dev"
    output = outputs.get(name) if isinstance(outputs, Mapping) else None
    if file.is_file() and outputs and output is None:
        issues.append(ParseIssue(f"target {name!r} not found in the profile",
                                 file="profiles.yml"))
    if not isinstance(output, Mapping):
        adapter = _DIALECT_ADAPTERS.get(project.dialect or "", project.dialect or "postgres")
        return Target(name=name, database=database or "dev", schema=schema or "public",
                      type=adapter, profile_name=project.profile), None
    values = {
        str(k): _value(v, str(k), issues) for k, v in output.items()
        if not is_secret_key(str(k)) and not any(w in str(k).lower() for w in _SECRET_WORDS)
    }
    adapter = str(values.get("type") or "postgres")
    profile_database = (
        values.get("dbname") or values.get("database") or values.get("project")
        or values.get("catalog")
    )
    if profile_database is None and adapter == "duckdb":
        path = str(values.get("path") or "memory")
        profile_database = "memory" if path == ":memory:" else Path(path).stem
    profile_schema = values.get("schema") or values.get("dataset") or "public"
    threads = values.get("threads")
    return Target(
        name=name,
        database=database or (str(profile_database) if profile_database else None),
        schema=schema or str(profile_schema),
        type=adapter,
        profile_name=project.profile,
        threads=int(threads) if isinstance(threads, int) else 1,
        extra=values,
    ), ADAPTER_DIALECTS.get(adapter)


def _value(value: Any, key: str, issues: list[ParseIssue]) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return render_value(value)
    except RenderError as exc:
        issues.append(ParseIssue(f"{key}: {exc.message}", file="profiles.yml"))
        return None


def project_vars(project: DbtProject, cli_vars: Mapping[str, Any] | None,
                 package: str | None = None) -> dict[str, Any]:
    """The vars a model of ``package`` sees: global, then the project's scope, then CLI."""
    scope = package or project.name
    out = {k: v for k, v in project.vars.items() if k != scope or not isinstance(v, Mapping)}
    scoped = project.vars.get(scope)
    if isinstance(scoped, Mapping):
        out.update(scoped)
    out.update(cli_vars or {})
    return out


def merge_config(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """dbt's config merge: tags and hooks accumulate, dicts update, the rest override."""
    out = dict(base)
    for key, value in override.items():
        key = key.lstrip("+")
        if key in _LIST_CONFIGS:
            items = [value] if isinstance(value, str) else list(value or [])
            current = out.get(key) or []
            current = [current] if isinstance(current, str) else list(current)
            out[key] = current + [i for i in items if i not in current]
        elif isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


def folder_config(tree: Mapping[str, Any] | None, fqn: Sequence[str]) -> dict[str, Any]:
    """The configs that dbt_project.yml gives the node at ``fqn`` ([project, dirs.., name])."""
    config: dict[str, Any] = {}
    level: Mapping[str, Any] | None = tree
    for part in (None, *fqn):
        if part is not None:
            child = level.get(part) if level is not None else None
            if not isinstance(child, Mapping):
                break
            level = child
        if level is None:
            break
        own = {
            k: v for k, v in level.items()
            if k.startswith("+") or not isinstance(v, Mapping) or k in _DICT_CONFIGS
        }
        config = merge_config(config, own)
    return config


@dataclass
class Properties:
    """The properties YAML files: entries by resource type and name, plus docs blocks."""

    models: dict[str, tuple[dict[str, Any], str]] = field(default_factory=dict)
    seeds: dict[str, tuple[dict[str, Any], str]] = field(default_factory=dict)
    snapshots: dict[str, tuple[dict[str, Any], str]] = field(default_factory=dict)
    sources: list[tuple[dict[str, Any], str]] = field(default_factory=list)
    docs: dict[str, str] = field(default_factory=dict)


def read_properties(root: Path, folders: Sequence[str], issues: list[ParseIssue]) -> Properties:
    """Read every ``*.yml``/``*.yaml`` and ``*.md`` under ``folders`` (project-relative)."""
    props = Properties()
    seen: set[Path] = set()
    for folder in folders:
        for path in find_files(root / folder, (".md", ".yml", ".yaml")):
            if path in seen or path.name == "dbt_project.yml":
                continue
            seen.add(path)
            if path.suffix == ".md":
                _read_docs(path, root, props, issues)
            elif path.suffix in (".yml", ".yaml"):
                _read_properties_file(path, root, props, issues)
    return props


def _read_docs(path: Path, root: Path, props: Properties, issues: list[ParseIssue]) -> None:
    try:
        text = path.read_text(encoding="utf-8")
        for kind, header, block, _line in extract_blocks(text):
            if kind == "docs":
                name = header.split()[0] if header else ""
                body = block[block.index("%}") + 2 : block.rindex("{%")]
                props.docs[name] = body.strip()
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        issues.append(ParseIssue(f"cannot read docs file: {exc}", file=_rel(path, root)))
    except RenderError as exc:
        issues.append(ParseIssue(exc.message, exc.line, file=_rel(path, root)))


def _read_properties_file(path: Path, root: Path, props: Properties,
                          issues: list[ParseIssue]) -> None:
    raw, issue = read_yaml(path, root)
    rel = _rel(path, root)
    if issue is not None:
        issues.append(issue)
        return
    if not isinstance(raw, Mapping):
        return
    for key, target in (("models", props.models), ("seeds", props.seeds),
                        ("snapshots", props.snapshots)):
        for entry in _entries(raw.get(key), key, rel, issues):
            name = str(entry["name"])
            if name in target:
                issues.append(ParseIssue(
                    f"{key[:-1]} {name!r} is described twice (also in {target[name][1]})",
                    file=rel,
                ))
                continue
            target[name] = (entry, rel)
    props.sources.extend((entry, rel) for entry in _entries(raw.get("sources"), "sources",
                                                            rel, issues))


def _entries(value: Any, key: str, rel: str, issues: list[ParseIssue]) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        issues.append(ParseIssue(f"'{key}' must be a list", file=rel))
        return []
    out = []
    for entry in value:
        if isinstance(entry, Mapping) and isinstance(entry.get("name"), str):
            out.append(dict(entry))
        else:
            issues.append(ParseIssue(f"an entry of '{key}' has no name: {entry!r:.80}",
                                     file=rel))
    return out


def mapping(value: Any) -> Mapping[str, Any]:
    """``value`` if it is a mapping, else an empty one (YAML gives ``None`` for ``key:``)."""
    return value if isinstance(value, Mapping) else {}


def canonical_json(value: Any) -> str:
    """``value`` as canonical JSON (sorted keys; dates and the like as text)."""
    return json.dumps(value if value is not None else {}, sort_keys=True, default=str)


def owners_of(*metas: Mapping[str, Any] | None) -> tuple[str, ...]:
    """Owners named by ``meta.owner`` / ``meta.owners`` (a string, a list, or a mapping)."""
    owners: list[str] = []
    for meta in metas:
        if not isinstance(meta, Mapping):
            continue
        for key in ("owner", "owners"):
            value = meta.get(key)
            values = [value] if isinstance(value, str | Mapping) else list(value or [])
            for item in values:
                # An owner may be {name: ..., email: ...}: the email identifies them.
                owner = item.get("email") or item.get("name") if isinstance(item, Mapping) else item
                if owner and str(owner) not in owners:
                    owners.append(str(owner))
    return tuple(owners)


def freshness_of(value: Any, loaded_at_field: str | None) -> Freshness | None:
    """dbt's ``freshness: {warn_after: {count: 24, period: hour}}`` as ``Freshness('24h')``."""
    def after(rule: Any) -> str | None:
        if not isinstance(rule, Mapping) or rule.get("count") is None:
            return None
        period = str(rule.get("period") or "hour")
        return f"{rule['count']}{period[0]}"

    if not isinstance(value, Mapping):
        return Freshness(loaded_at_field) if loaded_at_field else None
    warn, error = after(value.get("warn_after")), after(value.get("error_after"))
    if warn is None and error is None and loaded_at_field is None:
        return None
    return Freshness(loaded_at_field, warn, error)


def data_tests(
    entries: Any, column: str | None, resolve_to: Any = None
) -> tuple[list[DataTest], list[str]]:
    """The ``tests:`` / ``data_tests:`` of a model or column as ``DataTest``s.

    ``resolve_to`` turns a relationships test's ``to`` (``ref('x')``) into a relation
    name, recorded as ``to_dataset``. Returns the tests and problems found.
    """
    tests: list[DataTest] = []
    problems: list[str] = []
    for entry in entries or []:
        if isinstance(entry, str):
            tests.append(DataTest(entry, column))
            continue
        if not isinstance(entry, Mapping) or not entry:
            problems.append(f"unreadable test {entry!r:.80}")
            continue
        if "test_name" in entry:
            name, args = str(entry["test_name"]), dict(entry)
            args.pop("test_name")
        else:
            name, raw_args = next(iter(entry.items()))
            args = dict(raw_args) if isinstance(raw_args, Mapping) else {}
        nested = args.pop("arguments", None)
        if isinstance(nested, Mapping):
            args.update(nested)
        config = mapping(args.get("config"))
        if args.get("enabled", config.get("enabled", True)) is False:
            continue
        severity = str(args.get("severity") or config.get("severity") or "error").lower()
        arguments = {k: v for k, v in args.items() if k not in _TEST_CONFIG_KEYS}
        if str(name) == "relationships" and resolve_to is not None and "to" in arguments:
            try:
                arguments["to_dataset"] = resolve_to(str(arguments["to"]))
            except RenderError as exc:
                problems.append(f"relationships test on {column}: {exc.message}")
        tests.append(DataTest(str(name), column, canonical_json(arguments), severity))
    return tests, problems
