"""The context of one dbt render: what ``ref``, ``config``, ``var``, ``adapter`` ... are.

``RenderScope`` builds the dict a model (or macro) is rendered with and is the
``HelperHost`` of the dbt-utils helpers. Project macros are bound to the scope
(``MacroCall``): calling one runs its compiled template with this scope's context, so
macros see the model's ``this``, ``config`` and each other, as in dbt.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import FrameType
from typing import TYPE_CHECKING, Any, Protocol

import yaml
from jinja2 import Template

from lineage.model import ParseIssue
from parsers.dbt.builtins import CrossDbMacros, DbtUtilsMacros
from parsers.dbt.relation import Column, CompileProblem, Relation
from parsers.dbt.sandbox import Internal, context_modules

if TYPE_CHECKING:
    from parsers.dbt.jinja import DbtJinja

__all__ = [
    "MacroCall",
    "MacroDef",
    "MacroReturn",
    "ModelConfig",
    "PackageNamespace",
    "RenderScope",
    "Resolver",
    "Target",
    "VarFunction",
    "current_line",
    "env_var_function",
    "macro_definition",
]

_MISSING = object()
_SECRET_PREFIX = "DBT_ENV_SECRET_"


@dataclass(frozen=True)
class Target:
    """dbt's ``target``: where models are built (from profiles.yml or the defaults)."""

    name: str = "dev"
    database: str | None = "dev"
    schema: str = "public"
    type: str = "postgres"
    profile_name: str | None = None
    threads: int = 1
    extra: Mapping[str, Any] = field(default_factory=dict)

    def as_context(self) -> dict[str, Any]:
        out = dict(self.extra)
        out.update(
            name=self.name, database=self.database, dbname=self.database, schema=self.schema,
            type=self.type, profile_name=self.profile_name, threads=self.threads,
            target_name=self.name,
        )
        return out


class ModelConfig:
    """The ``config`` object: ``config(...)`` records, ``config.get(...)`` reads.

    ``base`` is what the project files say; calls in the model override it.
    """

    def __init__(self, base: Mapping[str, Any] | None = None) -> None:
        self.base = dict(base or {})
        self.calls: dict[str, Any] = {}

    def __call__(self, *args: Any, **kwargs: Any) -> str:
        for arg in args:
            if isinstance(arg, Mapping):
                self.calls.update(arg)
        self.calls.update(kwargs)
        return ""

    def get(self, name: str, default: Any = None, validator: Any = None) -> Any:
        value = self.calls.get(name, self.base.get(name))
        return default if value is None else value

    def require(self, name: str, validator: Any = None) -> Any:
        value = self.get(name)
        if value is None:
            raise CompileProblem(f"config {name!r} is required")
        return value

    def set(self, name: str, value: Any) -> str:
        self.calls[name] = value
        return ""

    def persist_relation_docs(self) -> bool:
        return False

    def persist_column_docs(self) -> bool:
        return False


class Resolver(Protocol):
    """Where ``ref`` and ``source`` point, and what columns a relation has."""

    def ref(self, name: str, package: str | None, version: Any) -> Relation: ...

    def source(self, source_name: str, table_name: str) -> Relation: ...

    def columns(self, relation: Relation) -> list[Column] | None: ...


@dataclass(frozen=True)
class MacroDef(Internal):
    """A compiled macro; ``Internal``: its template's environment compiles unsandboxed
    ``template_class`` templates, so no template may reach it."""

    name: str
    template: Template
    file: str
    package: str | None  # None: the root project or dbt's built-ins


class MacroReturn(Exception):
    def __init__(self, value: Any) -> None:
        super().__init__()
        self.value = value


def env_var_function(env: Mapping[str, str], allow_secrets: bool) -> Callable[..., str]:
    def env_var(name: str, default: Any = _MISSING) -> str:
        if name.startswith(_SECRET_PREFIX) and not allow_secrets:
            # dbt's rule too: secrets may reach profiles.yml, never compiled SQL.
            raise CompileProblem(f"secret env var {name!r} is allowed only in profiles.yml")
        if name in env:
            return env[name]
        if default is not _MISSING:
            return str(default)
        raise CompileProblem(f"env var {name!r} is not set and has no default")

    return env_var


class VarFunction:
    """dbt's ``var``: ``var('x')``, ``var('x', default)``, ``var.has_var('x')``."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = values

    def __call__(self, name: str, default: Any = _MISSING) -> Any:
        if name in self._values:
            return self._values[name]
        if default is not _MISSING:
            return default
        raise CompileProblem(
            f"required var {name!r} is not set (dbt_project.yml vars, or vars=); "
            f"known vars: {sorted(self._values) or 'none'}"
        )

    def has_var(self, name: str) -> bool:
        return name in self._values


class MacroCall:
    """A macro bound to one render: calling it runs the macro in that render's context.

    Templates hold these, so everything but the call is private (the definition leads
    to the compiled template and its environment; see ``parsers.dbt.sandbox``).
    """

    __slots__ = ("_definition", "_scope")

    def __init__(self, definition: MacroDef, scope: RenderScope) -> None:
        self._definition = definition
        self._scope = scope

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        macro = self._scope.instantiate(self._definition)
        try:
            return str(macro(*args, **kwargs))
        except MacroReturn as ret:
            return ret.value


def macro_definition(macro: MacroCall) -> MacroDef:
    """The definition behind a bound macro (for Python callers; templates never see it)."""
    return macro._definition


class PackageNamespace:
    """``my_package.my_macro(...)``: a package's macros by attribute."""

    def __init__(self, scope: RenderScope, package: str) -> None:
        self._scope = scope
        self._package = package

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        macro = self._scope.package_macro(self._package, name)
        if macro is None:
            raise CompileProblem(f"macro {self._package}.{name} is not defined")
        return macro


class _Adapter:
    """The slice of dbt's ``adapter`` that needs no connection."""

    def __init__(self, scope: RenderScope) -> None:
        self._scope = scope

    def dispatch(
        self, macro_name: str, macro_namespace: str | None = None, packages: Any = None
    ) -> Callable[..., Any]:
        scope = self._scope
        adapter = scope.adapter_type
        prefixes = [adapter, "postgres", "default"] if adapter == "redshift" else [
            adapter, "default"
        ]
        names = [f"{p}__{macro_name}" for p in prefixes] + [macro_name]
        for candidate in names:
            found = scope.lookup(candidate, macro_namespace)
            if found is not None:
                return found
        where = f"{macro_namespace}." if macro_namespace else ""
        raise CompileProblem(f"adapter.dispatch: no implementation of {where}{macro_name}")

    def quote(self, identifier: Any) -> str:
        return f'"{identifier}"'

    def get_columns_in_relation(self, relation: Any) -> list[Column]:
        return self._scope.columns_of(relation) or []

    def get_relation(self, database: Any = None, schema: Any = None, identifier: Any = None
                     ) -> Relation | None:
        relation = Relation.create(database, schema, identifier, dialect=self._scope.dialect)
        return relation if self._scope.columns_of(relation) is not None else None

    def already_exists(self, schema: Any, name: Any) -> bool:
        return False

    def type(self) -> str:
        return self._scope.adapter_type

    def quote_as_configured(self, identifier: Any, quote_key: Any) -> str:
        return str(identifier)

    def check_schema_exists(self, database: Any, schema: Any) -> bool:
        return True


class _Exceptions:
    def raise_compiler_error(self, msg: Any, node: Any = None) -> None:
        raise CompileProblem(f"compilation error: {msg}")

    def raise_not_implemented(self, msg: Any) -> None:
        raise CompileProblem(f"not implemented: {msg}")

    def warn(self, msg: Any, node: Any = None) -> str:
        return ""

    def raise_contract_error(self, *args: Any) -> None:
        raise CompileProblem("contract error")


class RenderScope(Internal):
    """One render: the context dict, bound macros, notes (``HelperHost`` for the builtins).

    ``Internal``: it holds the project's Jinja and the resolver, never for templates.
    """

    def __init__(
        self, owner: DbtJinja, file: str, resolver: Resolver | None, config: ModelConfig,
        node: Mapping[str, Any], this: Relation | None, incremental: bool, parse_only: bool,
    ) -> None:
        self.owner = owner
        self.file = file
        self.resolver = resolver
        self.parse_only = parse_only
        self.dialect = owner.dialect
        self.adapter_type = owner.target.type
        self.notes: list[ParseIssue] = []
        self.line: int | None = None  # set by a FastTemplate, which has no Jinja frames
        self._modules: dict[int, dict[str, Any]] = {}
        self._package_contexts: dict[str, dict[str, Any]] = {}
        cross_db = CrossDbMacros(self)
        self.cross_db = cross_db
        self.dbt_utils = DbtUtilsMacros(self, cross_db)
        context: dict[str, Any] = dict(owner.environment.globals)
        context.update({name: getattr(cross_db, name) for name in cross_db.names()})
        context.update(self._base(config, node, this, incremental))
        for definition in owner.macros.values():
            context[definition.name] = MacroCall(definition, self)
        for package in owner.packages:
            if package != "dbt_utils" and package not in context:
                context[package] = PackageNamespace(self, package)
        self.context = context

    def _base(
        self, config: ModelConfig, node: Mapping[str, Any], this: Relation | None,
        incremental: bool,
    ) -> dict[str, Any]:
        owner = self.owner

        def ref(*args: str, version: Any = None, v: Any = None, package: Any = None) -> Relation:
            if not args or len(args) > 2:
                raise CompileProblem(f"ref() takes a model name (and a package), got {args!r}")
            name = args[-1]
            pkg = args[0] if len(args) == 2 else package
            if self.resolver is None:
                raise CompileProblem(f"ref({name!r}) is not available here")
            return self.resolver.ref(str(name), pkg, version if version is not None else v)

        def source(source_name: str, table_name: str) -> Relation:
            if self.resolver is None:
                raise CompileProblem(f"source({source_name!r}, {table_name!r}) is not available")
            return self.resolver.source(str(source_name), str(table_name))

        def do_return(value: Any = None) -> None:
            raise MacroReturn(value)

        def log(msg: Any = "", info: bool = False) -> str:
            return ""

        def noop(*args: Any, **kwargs: Any) -> str:
            return ""

        schema = this.schema if this is not None else owner.target.schema
        database = this.database if this is not None else owner.target.database
        return {
            "ref": ref,
            "source": source,
            "config": config,
            "var": VarFunction(owner.vars),
            "env_var": env_var_function(owner.env_vars, False),
            "is_incremental": lambda: incremental,
            "this": this,
            "target": owner.target.as_context(),
            "adapter": _Adapter(self),
            "api": {"Relation": _RelationApi(self.dialect), "Column": Column},
            "log": log,
            "print": log,
            "return": do_return,
            "statement": noop,
            "load_result": lambda *a, **k: None,
            "run_query": lambda *a, **k: None,
            "store_result": noop,
            "store_raw_result": noop,
            "set_sql_header": noop,
            "execute": False,
            "exceptions": _Exceptions(),
            "modules": dict(context_modules()),  # documented members only, no module
            "dbt_utils": self.dbt_utils,
            "dbt": self.cross_db,
            "model": dict(node),
            "graph": {"nodes": {}, "sources": {}, "exposures": {}, "metrics": {}},
            "project_name": owner.project_name,
            "database": database,
            "schema": schema,
            "fromjson": lambda s, default=None: _safe(json.loads, s, default),
            "tojson": lambda v, sort_keys=False: json.dumps(v, sort_keys=sort_keys, default=str),
            "fromyaml": lambda s, default=None: _safe(_load_yaml, s, default),
            "toyaml": lambda v, sort_keys=False: yaml.safe_dump(v, sort_keys=sort_keys),
            "zip": lambda *a: list(zip(*a, strict=False)),
            "set": lambda v: set(v),
            "try_set": lambda v, default=None: _safe(set, v, default),
            "local_md5": lambda s: hashlib.md5(str(s).encode(), usedforsecurity=False).hexdigest(),
            "invocation_id": owner.invocation_id,
            "run_started_at": owner.started,
            "flags": {"FULL_REFRESH": False, "WHICH": "compile", "STORE_FAILURES": False},
            "selected_resources": [],
            "dbt_version": "1.8.0",
            "doc": owner.doc,
        }

    # -- HelperHost ------------------------------------------------------------------------

    def columns_of(self, relation: Any) -> list[Column] | None:
        if self.resolver is None or not isinstance(relation, Relation):
            return None
        return self.resolver.columns(relation)

    def var(self, name: str, default: Any = None) -> Any:
        return self.owner.vars.get(name, default)

    def set_line(self, line: int) -> None:
        self.line = line

    def note(self, message: str) -> None:
        line = current_line(self.file) or self.line
        self.notes.append(ParseIssue(message, line, file=self.file))

    def package_macro(self, package: str, name: str) -> Callable[..., Any] | None:
        definition = self.owner.packages.get(package, {}).get(name)
        if definition is None:
            return None
        return MacroCall(definition, self)

    # -- macros --------------------------------------------------------------------------------

    def lookup(self, name: str, namespace: str | None) -> Callable[..., Any] | None:
        """A macro by name for ``adapter.dispatch``: the namespace's first, then global."""
        if namespace == "dbt_utils" and hasattr(DbtUtilsMacros, name):
            return getattr(self.dbt_utils, name)  # type: ignore[no-any-return]
        if namespace is not None and namespace != "dbt":
            found = self.package_macro(namespace, name)
            if found is not None:
                return found
        value = self.context.get(name)
        if isinstance(value, MacroCall) or (namespace in (None, "dbt") and callable(value)
                                             and hasattr(self.cross_db, name)):
            return value
        return None

    def instantiate(self, definition: MacroDef) -> Any:
        """The jinja2 macro object of ``definition``, its module run once per render."""
        module = self._modules.get(id(definition))
        if module is None:
            context_vars = self._context_for(definition.package)
            context = definition.template.new_context(context_vars, shared=True)
            for _ in definition.template.root_render_func(context):
                pass
            module = context.vars
            self._modules[id(definition)] = module
        return module[definition.name]

    def _context_for(self, package: str | None) -> dict[str, Any]:
        if package is None:
            return self.context
        context = self._package_contexts.get(package)
        if context is None:
            # Inside a package, its own macros are in scope unqualified, as in dbt.
            context = dict(self.context)
            for name, definition in self.owner.packages.get(package, {}).items():
                context[name] = MacroCall(definition, self)
            self._package_contexts[package] = context
        return context


class _RelationApi:
    def __init__(self, dialect: str | None) -> None:
        self._dialect = dialect

    def create(self, database: Any = None, schema: Any = None, identifier: Any = None,
               type: Any = None, **kwargs: Any) -> Relation:
        return Relation.create(database, schema, identifier, type, dialect=self._dialect)


def _load_yaml(text: Any) -> Any:
    # Aliases measured before they are expanded (a "billion laughs" gives the default).
    from parsers.dbt.project import load_yaml  # project -> jinja -> context

    return load_yaml(text) if isinstance(text, str) else yaml.safe_load(text)


def _safe(function: Callable[[Any], Any], value: Any, default: Any) -> Any:
    try:
        return function(value)
    except (ValueError, TypeError, yaml.YAMLError):
        return default


def current_line(file: str) -> int | None:
    """The model line being rendered, from the Jinja frames on the stack."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        template = frame.f_globals.get("__jinja_template__")
        if template is not None and frame.f_code.co_filename == file:
            line: int = template.get_corresponding_lineno(frame.f_lineno)
            return line
        frame = frame.f_back
    return None
