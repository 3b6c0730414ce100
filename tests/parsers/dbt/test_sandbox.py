"""The sandbox policy (``parsers.dbt.sandbox``) and the fast path's use of it."""

from __future__ import annotations

import datetime
import os
import re
from typing import Any

import pytest
from jinja2 import StrictUndefined
from jinja2.exceptions import SecurityError, UndefinedError

from parsers.dbt.builtins import CrossDbMacros
from parsers.dbt.context import ModelConfig, RenderScope
from parsers.dbt.jinja import DbtJinja, FastTemplate, Target
from parsers.dbt.sandbox import DbtSandbox, SafeNamespace, context_modules, exposable


def _sandbox() -> DbtSandbox:
    return DbtSandbox(undefined=StrictUndefined)


def _render(text: str, **context: Any) -> str:
    return str(_sandbox().from_string(text).render(context))


def test_modules_are_namespaces_of_the_documented_names_only() -> None:
    modules = context_modules()
    assert {"datetime", "re", "itertools"} <= set(modules)
    assert all(isinstance(m, SafeNamespace) for m in modules.values())
    assert modules["datetime"].date is datetime.date
    assert modules["re"].IGNORECASE is re.IGNORECASE
    assert dir(modules["itertools"]) == sorted(dir(modules["itertools"]))
    for name in ("sys", "_compile", "__loader__", "enum", "functools", "purge"):
        assert not hasattr(modules["re"], name)
    with pytest.raises(AttributeError):
        modules["re"].sub = None  # type: ignore[misc]


def test_pytz_is_absent_or_a_namespace() -> None:
    try:
        import pytz
    except ImportError:
        assert "pytz" not in context_modules()
        return
    assert context_modules()["pytz"].utc is pytz.utc
    assert not hasattr(context_modules()["pytz"], "os")


@pytest.mark.parametrize("value", [
    os, re, os.environ, eval, exec, __import__, open, getattr,
    _sandbox(), _sandbox().from_string("x"), DbtSandbox, type(_sandbox().from_string("x")),
    DbtJinja(project_name="p"), RenderScope,
])
def test_hidden_values(value: Any) -> None:
    assert not exposable(value)


@pytest.mark.parametrize("value", [
    1, "x", {"a": 1}, datetime.date(2024, 1, 1), datetime.datetime, re.compile("a"), len,
    context_modules()["re"],
])
def test_exposable_values(value: Any) -> None:
    assert exposable(value)


@pytest.mark.parametrize("text", [
    "{{ d.m }}", "{{ d['m'] }}", "{{ d.m.sep }}", "{{ [d]|map(attribute='m')|list }}",
    "{{ '{0[m]}'.format(d) }}", "{% for v in d.values() %}{{ v.sep }}{% endfor %}",
    "{% for v in d.values() %}{{ v['sep'] }}{% endfor %}",
    "{% for v in d.values() %}{{ v|attr('sep') }}{% endfor %}",
])
def test_modules_inside_containers_are_refused(text: str) -> None:
    with pytest.raises(SecurityError):
        _render(text, d={"m": os})


def test_a_hidden_callable_out_of_a_loop_is_not_called() -> None:
    with pytest.raises(SecurityError):
        _render("{% for f in d.values() %}{{ f('1 + 1') }}{% endfor %}", d={"f": eval})


def test_refusals_raise_at_once_even_where_an_undefined_would_pass() -> None:
    with pytest.raises(SecurityError):
        _render("{% if x.__class__ is defined %}{% endif %}", x=1)
    with pytest.raises(SecurityError):
        _render("{{ x.__class__ | default('ok') }}", x=1)


def test_a_missing_module_member_says_what_is_available() -> None:
    with pytest.raises(UndefinedError, match="only date, datetime"):
        _render("{{ m.sys }}", m=context_modules()["datetime"])
    assert _render("{{ m.sys is defined }}", m=context_modules()["datetime"]) == "False"


def test_the_fast_path_checks_calls_as_the_sandbox_does() -> None:
    class Refusing(DbtSandbox):
        def is_safe_callable(self, obj: Any) -> bool:
            return False

    template = FastTemplate.parse("select {{ dbt.type_string() }}", "m.sql")
    assert template is not None
    jinja = DbtJinja(project_name="p", target=Target(type="postgres"))
    scope = RenderScope(jinja, "m.sql", None, ModelConfig(), {}, None, False, False)
    assert template.render(scope.context, None, jinja.environment) == "select varchar"
    with pytest.raises(SecurityError):
        template.render(scope.context, None, Refusing())


def test_the_fast_path_reads_namespace_attributes_through_the_sandbox() -> None:
    class Refusing(DbtSandbox):
        def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
            return not isinstance(obj, CrossDbMacros)

    template = FastTemplate.parse("{{ dbt.type_string() }}", "m.sql")
    assert template is not None
    jinja = DbtJinja(project_name="p")
    scope = RenderScope(jinja, "m.sql", None, ModelConfig(), {}, None, False, False)
    with pytest.raises(SecurityError):
        template.render(scope.context, None, Refusing())


@pytest.mark.parametrize("text", [
    "{{ modules.datetime.sys.modules['os'].system('x') }}",
    "{{ a.b.c() }}", "{{ x[0]() }}", "{{ ref.__call__('x') }}", "{{ dbt_utils._host() }}",
    "{{ f()() }}", "{{ (lambda: 1)() }}", "{{ ref(**x) }}", "{{ ref(x.y) }}",
    "{{ modules }}",
])
def test_the_fast_path_leaves_anything_but_literal_calls_to_jinja(text: str) -> None:
    assert FastTemplate.parse(text, "m.sql") is None
