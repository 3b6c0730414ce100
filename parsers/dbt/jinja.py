"""dbt's Jinja, rendered without dbt.

A sandboxed jinja2 environment (``parsers.dbt.sandbox``: rendering never runs the
project's code) with dbt's context: ``ref``, ``source``, ``config``,
``var``, ``env_var``, ``is_incremental``, ``this``, ``target``, ``adapter``, ``log``,
``return``, ``exceptions``, ``modules``, the cross-database macros (``dbt.*``), the
common ``dbt_utils`` macros, and the project's own macros (every ``{% macro %}`` of every
``.sql`` file under ``macro-paths``; macros may call macros)::

    jinja = DbtJinja(project_name="erp", target=Target(database="dev", schema="public"))
    jinja.load_macros(Path("erp"), ["macros"])
    template = jinja.template(Path("erp/models/x.sql").read_text(), "models/x.sql")
    result = jinja.render(template, file="models/x.sql", resolver=my_resolver)

Unknown variables are errors (``StrictUndefined``): a typo must not render as ''.
Nothing queries a warehouse: ``execute`` is False, so dbt code guarded by
``{% if execute %}`` takes its parse-time branch, ``run_query`` returns None and
``statement`` blocks render nothing. Errors are ``RenderError``s whose ``line`` is the
line of the model file (a failure inside a macro also names the macro's file and line).
"""

from __future__ import annotations

import datetime
import os
import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, UndefinedError
from jinja2.exceptions import SecurityError

from lineage.errors import InputError
from lineage.model import ParseIssue
from parsers.dbt.context import (
    MacroCall,
    MacroDef,
    MacroReturn,
    ModelConfig,
    RenderScope,
    Resolver,
    Target,
    VarFunction,
    env_var_function,
    macro_definition,
)
from parsers.dbt.literal_template import FastTemplate
from parsers.dbt.relation import Column, CompileProblem, Relation
from parsers.dbt.sandbox import BudgetExceeded, DbtSandbox, Internal, RenderBudget, metered
from parsers.sql.files import find_files

__all__ = [
    "DbtJinja",
    "FastTemplate",
    "ModelConfig",
    "RecordingResolver",
    "RenderBudget",
    "RenderError",
    "RenderResult",
    "Resolver",
    "Target",
    "extract_blocks",
    "render_value",
]

_BLOCK_START = re.compile(r"{%-?\s*(macro|test|materialization|snapshot|docs)\s+(.*?)-?%}", re.S)
_COMMENT = re.compile(r"{#.*?#}", re.S)
_NAME = re.compile(r"\s*(\w+)")


class RenderError(InputError):
    """A model (or macro, or YAML value) whose Jinja does not compile or render."""

    def __init__(
        self, message: str, *, file: str | None = None, line: int | None = None,
        text: str | None = None,
    ) -> None:
        self.text = text
        super().__init__(message, file=file, line=line)

    def to_issue(self) -> ParseIssue:
        """The error as a ``ParseIssue`` for a ``LineageBatch``."""
        return ParseIssue(self.message, self.line, None, self.text, file=self.file)


class RecordingResolver:
    """Parse-time resolver: records what a model refers to, returns placeholders."""

    def __init__(self, database: str | None, schema: str, dialect: str | None = None) -> None:
        self._database = database
        self._schema = schema
        self._dialect = dialect
        self.refs: list[tuple[str | None, str]] = []
        self.sources: list[tuple[str, str]] = []

    def ref(self, name: str, package: str | None, version: Any) -> Relation:
        self.refs.append((package, name))
        return Relation(self._database, self._schema, name.lower(), self._dialect)

    def source(self, source_name: str, table_name: str) -> Relation:
        self.sources.append((source_name, table_name))
        return Relation(self._database, source_name.lower(), table_name.lower(), self._dialect)

    def columns(self, relation: Relation) -> list[Column] | None:
        return None


@dataclass
class RenderResult:
    """Rendered SQL, what the model's ``config(...)`` calls set, and notes (parts rendered
    approximately, such as a ``star`` over a relation of unknown columns)."""

    sql: str
    config_calls: dict[str, Any]
    notes: list[ParseIssue] = field(default_factory=list)


class _Environment(DbtSandbox):
    """The sandbox, plus access to ``_private`` macros through a package namespace."""

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(value, MacroCall) and not attr.startswith("__"):
            return not isinstance(obj, Internal)
        return super().is_safe_attribute(obj, attr, value)


def _as_bool(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).strip().lower() == "true"


def _as_number(value: Any) -> Any:
    text = str(value).strip()
    try:
        return int(text)
    except ValueError:
        return float(text)


def render_value(
    text: str, *, vars: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None,
    target: Target | None = None, allow_secrets: bool = False,
) -> str:
    """Render one YAML value (profiles.yml, dbt_project.yml) with env_var/var/target.

    Raises:
        RenderError: the value does not render (a missing env var without default, ...).
    """
    if "{{" not in text and "{%" not in text:
        return text
    environment = _Environment(undefined=StrictUndefined)
    context = {
        "env_var": env_var_function(env if env is not None else os.environ, allow_secrets),
        "var": VarFunction(vars or {}),
        "target": (target or Target()).as_context(),
    }
    try:
        with metered(RenderBudget()):
            return str(environment.from_string(text).render(context))
    except (TemplateSyntaxError, UndefinedError, CompileProblem, TypeError, BudgetExceeded,
            OverflowError) as exc:
        raise RenderError(_describe(exc)) from exc


def extract_blocks(text: str) -> Iterator[tuple[str, str, str, int]]:
    """Top-level ``{% macro|test|materialization|snapshot|docs %}`` blocks of a file.

    Yields ``(kind, header, block_text, start_line)``; the header is what follows the
    keyword (``name(args)``). Comments are blanked first so a commented-out macro is not
    read; line numbers are those of the file.
    """
    clean = _COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
    position = 0
    while True:
        start = _BLOCK_START.search(clean, position)
        if start is None:
            return
        kind = start.group(1)
        end = re.compile(r"{%-?\s*end" + kind + r"\s*-?%}").search(clean, start.end())
        if end is None:
            line = clean.count("\n", 0, start.start()) + 1
            raise RenderError(f"{{% {kind} %}} block is never closed", line=line)
        yield kind, start.group(2).strip(), text[start.start() : end.end()], (
            clean.count("\n", 0, start.start()) + 1
        )
        position = end.end()


class DbtJinja(Internal):
    """The dbt Jinja environment of one project: macros, vars, target, docs.

    ``Internal``: it holds the environment variables and the compiled macros, so no
    template may reach it (``doc`` is one of its bound methods).
    """

    def __init__(
        self,
        *,
        project_name: str,
        target: Target | None = None,
        dialect: str | None = None,
        vars: Mapping[str, Any] | None = None,
        env: Mapping[str, str] | None = None,
        docs: Mapping[str, str] | None = None,
        budget: RenderBudget | None = None,
    ) -> None:
        self.project_name = project_name
        self.budget = budget or RenderBudget()
        self.target = target or Target()
        self.dialect = dialect
        self.vars = dict(vars or {})
        self.env_vars = env if env is not None else os.environ
        self.docs = dict(docs or {})
        self.environment = _Environment(
            undefined=StrictUndefined, extensions=["jinja2.ext.do"], keep_trailing_newline=True
        )
        self.environment.filters.update(
            as_bool=_as_bool, as_native=lambda v: v, as_number=_as_number, as_text=str
        )
        # Global macros (the project's over dbt's built-ins), and each package's own.
        self.macros: dict[str, MacroDef] = {}
        self._builtin_names: set[str] = set()
        self.packages: dict[str, dict[str, MacroDef]] = {}
        self._template_files: set[str] = set()
        self.invocation_id = str(uuid.uuid4())
        self.started = datetime.datetime.now(datetime.timezone.utc)
        self.add_macros(_BUILTIN_MACROS, "<dbt>/builtins.sql", builtin=True)

    # -- macros ----------------------------------------------------------------------------

    def load_macros(
        self, root: Path, paths: Sequence[str], package: str | None = None
    ) -> list[ParseIssue]:
        """Load every macro of every ``.sql`` file under ``root/<path>`` for each path.

        ``package`` puts them in that package's namespace (``dbt_utils.x``) instead of
        the global one. Files are named relative to ``root`` in errors. Returns one
        issue per file or macro that does not compile; the rest still load.
        """
        issues: list[ParseIssue] = []
        for folder in paths:
            for path in find_files(root / folder):
                rel = path.relative_to(root).as_posix()
                try:
                    text = path.read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError) as exc:
                    issues.append(ParseIssue(f"cannot read macro file: {exc}", file=rel))
                    continue
                issues.extend(self.add_macros(text, rel, package=package))
        return issues

    def add_macros(
        self, text: str, file: str, *, package: str | None = None, builtin: bool = False
    ) -> list[ParseIssue]:
        """Compile the ``{% macro %}`` (and ``{% test %}``) blocks of one file's text."""
        issues: list[ParseIssue] = []
        try:
            blocks = list(extract_blocks(text))
        except RenderError as exc:
            return [ParseIssue(exc.message, exc.line, file=file)]
        for kind, header, block, line in blocks:
            if kind not in ("macro", "test"):
                continue
            match = _NAME.match(header)
            if match is None:
                issues.append(ParseIssue(f"{kind} without a name", line, file=file))
                continue
            name = match.group(1)
            if kind == "test":
                # A generic test is a macro named test_<name>, as dbt registers it.
                name = f"test_{name}"
                block = _BLOCK_START.sub(
                    lambda m: "{% macro test_" + m.group(2) + "%}", block, count=1
                )
                block = re.sub(r"{%-?\s*endtest\s*-?%}\s*$", "{% endmacro %}", block)
            try:
                template = self._compile("\n" * (line - 1) + block, file)
            except RenderError as exc:
                issues.append(exc.to_issue())
                continue
            definition = MacroDef(name, template, file, package)
            if package is not None:
                self.packages.setdefault(package, {})[name] = definition
            elif builtin or name not in self.macros or name in self._builtin_names:
                self.macros[name] = definition
                if builtin:
                    self._builtin_names.add(name)
                else:
                    self._builtin_names.discard(name)
        return issues

    def project_macro(self, name: str) -> bool:
        """Whether the project (not dbt's built-ins) defines macro ``name``."""
        return name in self.macros and name not in self._builtin_names

    # -- templates ---------------------------------------------------------------------------

    def template(self, source: str, file: str) -> Template | FastTemplate:
        """Compile a model's text; ``file`` names it in errors.

        A model whose only Jinja is calls with literal arguments (``ref``, ``source``,
        ``config``, ``dbt_utils.star(ref('x'))``, a project macro) and ``this`` is not
        compiled by jinja2 at all: compiling costs ten times more than rendering, and
        most models of big projects are such models.

        Raises:
            RenderError: a syntax error, with the line of ``file``.
        """
        fast = FastTemplate.parse(source, file)
        return fast if fast is not None else self._compile(source, file)

    def _compile(self, source: str, file: str) -> Template:
        self._template_files.add(file)
        try:
            code = self.environment.compile(source, name=file, filename=file)
        except TemplateSyntaxError as exc:
            raise RenderError(
                f"Jinja syntax error: {exc.message}", file=file, line=exc.lineno,
                text=_line_of(source, exc.lineno),
            ) from exc
        return self.environment.template_class.from_code(
            self.environment, code, self.environment.make_globals(None)
        )

    def render(
        self,
        template: Template | FastTemplate,
        *,
        file: str,
        resolver: Resolver | None = None,
        node: Mapping[str, Any] | None = None,
        config: ModelConfig | None = None,
        this: Relation | None = None,
        incremental: bool = False,
        parse_only: bool = False,
        source: str | None = None,
    ) -> RenderResult:
        """Render a model (or any template): the SQL, the config it set, and notes.

        Args:
            parse_only: dbt's parse phase: helpers that need columns render placeholders.
            incremental: the value of ``is_incremental()``.
            source: the template text, to quote the failing line in errors.

        Raises:
            RenderError: the template fails; ``line`` is the line in ``file``.
        """
        with metered(self.budget):
            sql, calls, notes = self._render(
                template, file, source, resolver, node, config, this, incremental, parse_only
            )
        limit = self.budget.max_output_bytes
        if limit is not None and len(sql) > limit:
            raise RenderError(
                f"the rendered model has {len(sql)} characters, past the budget of {limit}",
                file=file,
            )
        return RenderResult(sql, calls, notes)

    def _render(
        self, template: Template | FastTemplate, file: str, source: str | None,
        resolver: Resolver | None, node: Mapping[str, Any] | None, config: ModelConfig | None,
        this: Relation | None, incremental: bool, parse_only: bool,
    ) -> tuple[str, dict[str, Any], list[ParseIssue]]:
        config = config if config is not None else ModelConfig()
        scope = RenderScope(self, file, resolver, config, node or {}, this, incremental, parse_only)
        if isinstance(template, FastTemplate):
            calls = dict(config.calls)
            try:
                sql = template.render(scope.context, scope.set_line, self.environment)
                return sql, dict(config.calls), scope.notes
            except Exception:
                # Let jinja2 render it again: its error carries the line of the model.
                config.calls = calls
                scope = RenderScope(self, file, resolver, config, node or {}, this, incremental,
                               parse_only)
                compiled = self._compile(template.source, file)
        else:
            compiled = template
        try:
            sql = self._generate(compiled, scope.context)
        except MacroReturn as ret:
            sql = "" if ret.value is None else str(ret.value)
        except Exception as exc:
            raise self._error(exc, file, source) from exc
        return sql, dict(config.calls), scope.notes

    def _generate(self, compiled: Template, context: Mapping[str, Any]) -> str:
        """``compiled.render(context)``, stopping once the output passes its budget."""
        limit = self.budget.max_output_bytes
        parts: list[str] = []
        size = 0
        try:
            for part in compiled.root_render_func(compiled.new_context(dict(context))):
                size += len(part)
                if limit is not None and size > limit:
                    raise BudgetExceeded(
                        f"the rendered model passed the budget of {limit} characters"
                    )
                parts.append(part)
        except Exception:
            self.environment.handle_exception()
        return "".join(parts)

    def call_macro(
        self,
        name: str,
        *args: Any,
        file: str,
        resolver: Resolver | None = None,
        node: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        """Call a project (or built-in) macro outside a model, e.g. generate_schema_name.

        Raises:
            RenderError: the macro fails or does not exist.
        """
        scope = RenderScope(self, file, resolver, ModelConfig(), node or {}, None, False, False)
        macro = scope.context.get(name)
        if not isinstance(macro, MacroCall):
            raise RenderError(f"macro {name!r} is not defined", file=file)
        try:
            try:
                with metered(self.budget):
                    return macro(*args, **kwargs)
            except Exception:
                self.environment.handle_exception()
        except Exception as exc:
            raise self._error(exc, macro_definition(macro).file, None) from exc

    def evaluate(self, expression: str, *, file: str, resolver: Resolver | None = None) -> Any:
        """The value of one Jinja expression (``ref('x')`` in a relationships test).

        Raises:
            RenderError: it does not compile or evaluate.
        """
        self._template_files.add(file)
        scope = RenderScope(self, file, resolver, ModelConfig(), {}, None, False, False)
        try:
            function = self.environment.compile_expression(expression)
            with metered(self.budget):
                return function(**scope.context)
        except Exception as exc:
            raise self._error(exc, file, None) from exc

    def doc(self, name: str, package: str | None = None) -> str:
        """The text of a ``{% docs name %}`` block."""
        key = name if package is None else f"{package}.{name}"
        if key in self.docs:
            return self.docs[key]
        if name in self.docs:
            return self.docs[name]
        raise CompileProblem(f"doc {name!r} is not defined in any {{% docs %}} block")

    def render_text(self, text: str, *, file: str, resolver: Resolver | None = None) -> str:
        """Render a YAML string (a description with ``doc()``, a name with ``var()``).

        Raises:
            RenderError: it does not render.
        """
        if "{{" not in text and "{%" not in text:
            return text
        template = self._compile(text, file)
        return self.render(template, file=file, resolver=resolver, source=text).sql

    # -- errors --------------------------------------------------------------------------------

    def _error(self, exc: BaseException, file: str, source: str | None) -> RenderError:
        if isinstance(exc, RenderError):
            return exc
        frames: list[tuple[str, int]] = []
        traceback = exc.__traceback__
        while traceback is not None:
            name = traceback.tb_frame.f_code.co_filename
            if name in self._template_files:
                frames.append((name, traceback.tb_lineno))
            traceback = traceback.tb_next
        if isinstance(exc, TemplateSyntaxError) and exc.filename:
            frames.append((exc.filename, exc.lineno))
        line = next((n for f, n in reversed(frames) if f == file), None)
        message = _describe(exc)
        if frames and frames[-1][0] != file:
            message += f" (in {frames[-1][0]}:{frames[-1][1]})"
        text = _line_of(source, line) if source and line else None
        return RenderError(message, file=file, line=line, text=text)


def _line_of(source: str | None, line: int | None) -> str | None:
    if not source or not line:
        return None
    lines = source.splitlines()
    return lines[line - 1].strip()[:200] if 0 < line <= len(lines) else None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, CompileProblem):
        return str(exc)
    if isinstance(exc, UndefinedError):
        return f"undefined name: {exc.message}"
    if isinstance(exc, TemplateSyntaxError):
        return f"Jinja syntax error: {exc.message}"
    if isinstance(exc, SecurityError):
        return f"refused by the sandbox (a scan runs no project code): {exc}"
    if isinstance(exc, BudgetExceeded):
        return f"render budget exceeded: {exc}"
    return f"{type(exc).__name__}: {exc}"


# dbt's default naming macros, verbatim in behaviour, so a project override can call them.
_BUILTIN_MACROS = """
{% macro default__generate_schema_name(custom_schema_name, node) -%}
    {%- set default_schema = target.schema -%}
    {%- if custom_schema_name is none -%}
        {{ default_schema }}
    {%- else -%}
        {{ default_schema }}_{{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
{% macro generate_schema_name(custom_schema_name=none, node=none) -%}
    {{ default__generate_schema_name(custom_schema_name, node) }}
{%- endmacro %}
{% macro generate_schema_name_for_env(custom_schema_name, node) -%}
    {%- set default_schema = target.schema -%}
    {%- if target.name == 'prod' and custom_schema_name is not none -%}
        {{ custom_schema_name | trim }}
    {%- else -%}
        {{ default_schema }}
    {%- endif -%}
{%- endmacro %}
{% macro default__generate_alias_name(custom_alias_name=none, node=none) -%}
    {%- if custom_alias_name -%}
        {{ custom_alias_name | trim }}
    {%- elif node.version -%}
        {{ return(node.name ~ "_v" ~ (node.version | replace(".", "_"))) }}
    {%- else -%}
        {{ node.name }}
    {%- endif -%}
{%- endmacro %}
{% macro generate_alias_name(custom_alias_name=none, node=none) -%}
    {{ default__generate_alias_name(custom_alias_name, node) }}
{%- endmacro %}
{% macro default__generate_database_name(custom_database_name=none, node=none) -%}
    {%- set default_database = target.database -%}
    {%- if custom_database_name is none -%}
        {{ default_database }}
    {%- else -%}
        {{ custom_database_name | trim }}
    {%- endif -%}
{%- endmacro %}
{% macro generate_database_name(custom_database_name=none, node=none) -%}
    {{ default__generate_database_name(custom_database_name, node) }}
{%- endmacro %}
{% macro get_where_subquery(relation) -%}
    {{ return(relation) }}
{%- endmacro %}
"""
