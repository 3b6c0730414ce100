"""Hostile dbt projects: scanning one must never run its code nor leak the environment.

Each attempt is written into a real model (line 2 of ``models/attack.sql``) of a copy of
the ``erp`` example project, which is then scanned. Every attempt, had it escaped, would
create a marker file (``os.system('touch ...')``) or print a secret environment
variable into the compiled SQL. For each one: (1) no marker and no secret anywhere in
the batch, (2) the model is an issue naming its file and line, (3) every other model
still has its lineage (the same column edges as a clean scan).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lineage.cli import app
from lineage.model import LineageBatch
from parsers.dbt import load_dbt_project

ERP = Path(__file__).resolve().parents[1] / "parsers" / "dbt" / "dbt_projects" / "erp"
SECRET_NAME = "SILVERLINE_ADVERSARIAL_SECRET"
SECRET_VALUE = "hunter2-9f3c61"
ATTACK_FILE = "models/attack.sql"

# CMD: a Jinja string literal, the shell command; INNER: a template that runs it when a
# *non-sandboxed* environment renders it (what jinja2's Template class compiles).
INNER = "\"{{ cycler.__init__.__globals__.os.system(CMD) }}\""
_SUBCLASS_LOOP = (
    "{%% for c in %s %%}{%% if c.__name__ == '_wrap_close' %%}"
    "{{ c.__init__.__globals__['system'](CMD) }}{%% endif %%}{%% endfor %%}"
)
_LEAK = "'{0.__init__.__globals__[os].environ[" + SECRET_NAME + "]}'"

ATTEMPTS: list[tuple[str, str]] = [
    ("modules.datetime.sys", "{{ modules.datetime.sys.modules['os'].system(CMD) }}"),
    ("modules[datetime][sys]", "{{ modules['datetime']['sys'].modules['os'].system(CMD) }}"),
    ("modules.re.sys", "{{ modules.re.sys.modules['os'].system(CMD) }}"),
    ("modules.re.enum.sys", "{{ modules.re.enum.sys.modules['os'].system(CMD) }}"),
    ("modules.re._compile.__globals__",
     "{{ modules.re._compile.__globals__['enum'].sys.modules['os'].system(CMD) }}"),
    ("modules.re.compile.__globals__",
     "{{ modules.re.compile.__globals__['enum'].sys.modules['os'].system(CMD) }}"),
    ("modules.itertools.__loader__",
     "{{ modules.itertools.__loader__.load_module('posix').system(CMD) }}"),
    ("modules.pytz.os", "{{ modules.pytz.os.system(CMD) }}"),
    ("modules.values()",
     "{% for m in modules.values() %}{{ m.sys.modules['os'].system(CMD) }}{% endfor %}"),
    ("cycler.__init__.__globals__.os", "{{ cycler.__init__.__globals__.os.system(CMD) }}"),
    ("lipsum.__globals__", "{{ lipsum.__globals__['os'].system(CMD) }}"),
    ("joiner.__init__.__globals__", "{{ joiner.__init__.__globals__['os'].system(CMD) }}"),
    ("namespace.__init__.__globals__",
     "{{ namespace.__init__.__globals__['os'].system(CMD) }}"),
    ("self.__init__.__globals__",
     "{{ self.__init__.__globals__['__builtins__']['__import__']('os').system(CMD) }}"),
    ("self._TemplateReference__context",
     "{{ self._TemplateReference__context.environment.template_class(" + INNER
     + ").render() }}"),
    ("''.__class__.__mro__[1].__subclasses__()",
     _SUBCLASS_LOOP % "''.__class__.__mro__[1].__subclasses__()"),
    ("().__class__.__bases__[0].__subclasses__()",
     _SUBCLASS_LOOP % "().__class__.__bases__[0].__subclasses__()"),
    ("request.application",
     "{{ request.application.__globals__.__builtins__.__import__('os').system(CMD) }}"),
    ("config.__class__",
     "{{ config.__class__.get.__globals__['sys'].modules['os'].system(CMD) }}"),
    ("'{0.__class__}'.format(x)", "{{ '{0.__class__}'.format(config) }}"),
    ("str.format leaking os.environ", "{{ " + _LEAK + ".format(cycler) }}"),
    ("str.format_map leaking os.environ",
     "{{ '{c.__init__.__globals__[os].environ[" + SECRET_NAME
     + "]}'.format_map({'c': cycler}) }}"),
    ("str.format through |attr", "{{ (" + _LEAK + "|attr('format'))(cycler) }}"),
    ("str.format called natively by starmap",
     "{{ modules.itertools.starmap(" + _LEAK + ".format, [[cycler]])|list }}"),
    ("attr('__class__') chain",
     _SUBCLASS_LOOP % "(()|attr('__class__')|attr('__base__')|attr('__subclasses__'))()"),
    ("|attr('__globals__')", "{{ (lipsum|attr('__globals__'))['os'].system(CMD) }}"),
    ("|map(attribute='__globals__')",
     "{{ ([lipsum]|map(attribute='__globals__')|first)['os'].system(CMD) }}"),
    ("|map(attribute='__init__') alone", "{{ [cycler]|map(attribute='__init__')|list }}"),
    ("__class__ is defined", "{% if config.__class__ is defined %}{% endif %}"),
    ("__import__('os')", "{{ __import__('os').system(CMD) }}"),
    ("exceptions.__class__",
     "{{ exceptions.__class__.warn.__globals__['sys'].modules['os'].system(CMD) }}"),
    ("env_var.__globals__", "{{ env_var.__globals__['sys'].modules['os'].system(CMD) }}"),
    ("var.__globals__", "{{ var.has_var.__globals__['sys'].modules['os'].system(CMD) }}"),
    ("this (Relation) dunders",
     "{{ this.render.__globals__['re'].enum.sys.modules['os'].system(CMD) }}"),
    ("ref() Relation __class__",
     "{{ ref('stg_loc_a101').__class__.render.__globals__['re'].enum.sys.modules['os']"
     ".system(CMD) }}"),
    ("api.Column dunders",
     "{{ api.Column.is_string.__globals__['re'].enum.sys.modules['os'].system(CMD) }}"),
    ("adapter.__class__",
     "{{ adapter.__class__.quote.__globals__['sys'].modules['os'].system(CMD) }}"),
    ("adapter._scope", "{{ adapter._scope.owner.env_vars['" + SECRET_NAME + "'] }}"),
    ("macro.definition -> unsandboxed template_class",
     "{{ generate_schema_name.definition.template.environment.template_class(" + INNER
     + ").render() }}"),
    ("doc.__self__ -> environment",
     "{{ doc.__self__.environment.template_class(" + INNER + ").render() }}"),
    ("dbt_utils._host", "{{ dbt_utils._host.owner.env_vars['" + SECRET_NAME + "'] }}"),
    ("fast path: private name", "{{ dbt_utils._host() }}"),
    ("fast path: dunder call", "{{ ref.__call__('stg_loc_a101') }}"),
]


def _project(tmp_path: Path) -> tuple[Path, Path]:
    project = tmp_path / "erp"
    shutil.copytree(ERP, project)
    return project, tmp_path / "marker"


def _fill(snippet: str, marker: Path) -> str:
    return snippet.replace("CMD", f"'touch {marker}'")


def _write_attack(project: Path, snippet: str) -> None:
    (project / ATTACK_FILE).write_text(
        f"select 1 as attacked\n-- {snippet}\n", encoding="utf-8"
    )


def _everything(batch: LineageBatch) -> str:
    parts = [str(i) for i in batch.issues] + [repr(i.text) for i in batch.issues]
    parts += [repr(job) for job in batch.jobs]
    return "\n".join(parts)


@pytest.fixture(scope="module")
def clean_edges(tmp_path_factory: pytest.TempPathFactory) -> set[object]:
    project, _ = _project(tmp_path_factory.mktemp("clean"))
    batch = load_dbt_project(project, dialect="redshift")
    assert not batch.issues
    assert batch.edges
    return set(batch.edges)


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_NAME, SECRET_VALUE)


def _assert_contained(batch: LineageBatch, marker: Path, clean_edges: set[object],
                      file: str = ATTACK_FILE, line: int | None = 2) -> None:
    assert not marker.exists(), "the project's code ran during the scan"
    assert SECRET_VALUE not in _everything(batch), "an environment variable leaked"
    issues = [i for i in batch.issues if i.file == file]
    assert issues, f"no issue for {file}: {[str(i) for i in batch.issues]}"
    if line is not None:
        assert any(i.line == line for i in issues), [str(i) for i in issues]
    assert clean_edges <= set(batch.edges), "other models lost lineage"


@pytest.mark.parametrize(("label", "snippet"), ATTEMPTS, ids=[a[0] for a in ATTEMPTS])
def test_escape_attempt_in_a_model_is_contained(
    tmp_path: Path, clean_edges: set[object], label: str, snippet: str
) -> None:
    project, marker = _project(tmp_path)
    _write_attack(project, _fill(snippet, marker))
    batch = load_dbt_project(project, dialect="redshift")
    _assert_contained(batch, marker, clean_edges)


def test_escape_attempt_in_a_macro_names_the_model_and_the_macro(
    tmp_path: Path, clean_edges: set[object]
) -> None:
    project, marker = _project(tmp_path)
    (project / "macros" / "evil.sql").write_text(
        "{% macro evil() %}\n"
        + _fill("{{ modules.datetime.sys.modules['os'].system(CMD) }}", marker)
        + "\n{% endmacro %}\n", encoding="utf-8"
    )
    _write_attack(project, "{{ evil() }}")
    batch = load_dbt_project(project, dialect="redshift")
    _assert_contained(batch, marker, clean_edges)
    issue = next(i for i in batch.issues if i.file == ATTACK_FILE)
    assert "macros/evil.sql:2" in issue.message


def test_escape_attempt_in_a_yaml_description_is_an_issue_of_that_file(
    tmp_path: Path, clean_edges: set[object]
) -> None:
    project, marker = _project(tmp_path)
    schema = project / "models" / "silver" / "schema.yml"
    text = schema.read_text(encoding="utf-8")
    payload = _fill("{{ cycler.__init__.__globals__.os.system(CMD) }}", marker)
    schema.write_text(text.replace("description: ", f'description: "{payload}" ', 1),
                      encoding="utf-8")
    batch = load_dbt_project(project, dialect="redshift")
    _assert_contained(batch, marker, clean_edges, file="models/silver/schema.yml", line=None)


def test_escape_attempt_in_dbt_project_yml_is_contained(tmp_path: Path) -> None:
    project, marker = _project(tmp_path)
    path = project / "dbt_project.yml"
    payload = _fill("{{ env_var.__globals__['sys'].modules['os'].system(CMD) }}", marker)
    path.write_text(path.read_text(encoding="utf-8") + f'\nvars:\n  evil: "{payload}"\n',
                    encoding="utf-8")
    batch = load_dbt_project(project, dialect="redshift")
    assert not marker.exists()
    assert batch.edges


def test_lineage_scan_command_contains_the_attempt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project, marker = _project(tmp_path)
    _write_attack(project, _fill("{{ modules.datetime.sys.modules['os'].system(CMD) }}",
                                 marker))
    monkeypatch.chdir(tmp_path)  # caches and the default catalog stay in tmp_path
    result = CliRunner().invoke(app, [
        "scan", str(project), "--dialect", "redshift", "--format", "json",
        "--catalog", f"sqlite:///{tmp_path / 'catalog.db'}",
    ])
    assert result.exit_code == 0, result.output
    assert not marker.exists()
    assert f"{ATTACK_FILE}:2" in result.output
    assert '"edges": 33' in result.stdout


# -- what dbt documents keeps working ------------------------------------------------------

POSITIVE: list[tuple[str, str, str]] = [
    ("datetime.now", "{{ modules.datetime.datetime.now().year >= 2024 }}", "True"),
    ("date.strftime", "{{ modules.datetime.date(2024, 1, 1).strftime('%Y') }}", "2024"),
    ("timedelta", "{{ (modules.datetime.datetime(2024, 1, 4) - modules.datetime.timedelta(3))"
                  ".isoformat() }}", "2024-01-01T00:00:00"),
    ("timezone", "{{ modules.datetime.datetime(2024, 1, 1, tzinfo=modules.datetime.timezone"
                 ".utc).isoformat() }}", "2024-01-01T00:00:00+00:00"),
    ("re.sub", "{{ modules.re.sub('[0-9]+', 'n', 'a1b22') }}", "anbn"),
    ("re.match flags", "{% set re = modules.re %}"
                       "{{ re.match('s3://[a-z]+', 'S3://X', re.IGNORECASE) is not none }}",
     "True"),
    ("re.findall", "{{ modules.re.findall('[a-z]', 'a1b2') | join(',') }}", "a,b"),
    ("itertools.chain", "{{ modules.itertools.chain([1, 2], [3]) | list }}", "[1, 2, 3]"),
    ("itertools.product", "{{ modules.itertools.product('ab', repeat=2) | map('join')"
                          " | join(',') }}", "aa,ab,ba,bb"),
    ("str.format", "{{ '{}-{}'.format(1, 2) }}", "1-2"),
]


@pytest.mark.parametrize(("label", "expression", "expected"), POSITIVE,
                         ids=[p[0] for p in POSITIVE])
def test_documented_modules_still_work_in_a_model(
    tmp_path: Path, label: str, expression: str, expected: str
) -> None:
    project, _ = _project(tmp_path)
    (project / "models" / "uses_modules.sql").write_text(
        f"select '{expression}' as v\n", encoding="utf-8"
    )
    batch = load_dbt_project(project, dialect="redshift")
    assert not batch.issues, [str(i) for i in batch.issues]
    job = next(j for j in batch.jobs if j.name.endswith("uses_modules"))
    assert f"'{expected}' as v" in repr(job)


def test_pytz_is_there_when_installed(tmp_path: Path) -> None:
    pytest.importorskip("pytz")
    project, _ = _project(tmp_path)
    (project / "models" / "uses_pytz.sql").write_text(
        "{% set dt = modules.datetime.datetime(2002, 10, 27, 6, 0, 0) %}"
        "select '{{ modules.pytz.utc }}' as u, "
        "'{{ modules.pytz.timezone('US/Eastern').localize(dt) }}' as e\n", encoding="utf-8"
    )
    batch = load_dbt_project(project, dialect="redshift")
    assert not batch.issues, [str(i) for i in batch.issues]
    job = next(j for j in batch.jobs if j.name.endswith("uses_pytz"))
    assert "'UTC' as u" in repr(job) and "'2002-10-27 06:00:00-05:00' as e" in repr(job)


def test_the_secret_is_really_in_the_environment() -> None:
    # The leak attempts above would be vacuous if the variable were not set.
    assert os.environ[SECRET_NAME] == SECRET_VALUE
