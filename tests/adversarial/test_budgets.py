"""Budgets per item: a huge statement, an endless template or a YAML alias bomb costs its item.

Each hostile input is generated here. Whatever could run forever on a regression (a
template looping over ``modules.itertools.count()``, a "billion laughs" ``schema.yml``)
is loaded in a child process under a generous timeout, so a regression fails the test
instead of hanging the suite. For each one: the item is an issue naming its file and
line, and every other item still has its lineage.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from jinja2.sandbox import MAX_RANGE

from lineage.errors import ConfigError
from parsers.dbt import load_dbt_project
from parsers.dbt.jinja import DbtJinja, RenderBudget, RenderError
from parsers.dbt.project import read_yaml
from parsers.sql.files import ScanOptions, scan_sql
from parsers.sql.parse import DEFAULT_MAX_STATEMENT_BYTES, parse_sql

ERP = Path(__file__).resolve().parents[1] / "parsers" / "dbt" / "dbt_projects" / "erp"
REPO = Path(__file__).resolve().parents[2]

# -- 1. SQL: a statement past the size budget is refused before sqlglot parses it ------------


def _in_list(size: int) -> str:
    values = ",".join(str(i) for i in range(size // 7))
    return f"INSERT INTO gold.big SELECT a FROM bronze.t WHERE a IN ({values})"


def test_a_5_mb_in_list_is_one_statement_error_and_the_script_goes_on() -> None:
    big = _in_list(5_000_000)
    script = (
        "CREATE TABLE silver.a AS SELECT x AS y FROM bronze.s;\n"
        + big + ";\n"
        + "INSERT INTO silver.b SELECT y AS z FROM silver.a"
    )
    result = parse_sql(script, dialect="postgres", file="huge.sql")
    first, refused, last = result.statements
    assert first.ok and last.ok
    assert last.column_lineage and last.column_lineage[0].field_map()["z"][0].field == "y"
    (issue,) = refused.errors
    size = len(big.encode())
    assert issue.message == f"statement of {size} bytes exceeds the 1 MB budget; not parsed"
    assert (refused.file, refused.line, issue.line) == ("huge.sql", 2, 2)
    assert issue.text is not None and len(issue.text) <= 200
    assert not refused.sql or len(refused.sql) < size  # the text is not kept whole


def test_the_statement_budget_is_configurable() -> None:
    sql = "INSERT INTO t SELECT a FROM s WHERE a IN (1, 2, 3)"
    refused = parse_sql(sql, dialect="postgres", max_statement_bytes=20).statements[0]
    assert [e.message for e in refused.errors] == [
        f"statement of {len(sql)} bytes exceeds the 20 bytes budget; not parsed"
    ]
    assert parse_sql(sql, dialect="postgres", max_statement_bytes=None).statements[0].ok
    assert DEFAULT_MAX_STATEMENT_BYTES == 1_000_000


def test_a_script_cached_whole_is_still_checked_against_a_smaller_budget() -> None:
    sql = "INSERT INTO t2 SELECT a FROM s2 WHERE a IN (1, 2, 3, 4)"
    assert parse_sql(sql, dialect="postgres").statements[0].ok
    again = parse_sql(sql, dialect="postgres", max_statement_bytes=10).statements[0]
    assert not again.ok


def test_a_200_kb_insert_values_statement_still_parses() -> None:
    rows = ",\n".join(f"({i}, 'customer {i}', {i * 1.5})" for i in range(8000))
    sql = f"INSERT INTO silver.customers (id, name, score) VALUES\n{rows}"
    assert 200_000 < len(sql) < DEFAULT_MAX_STATEMENT_BYTES
    statement = parse_sql(sql, dialect="postgres").statements[0]
    assert statement.ok, statement.errors


def test_scan_options_pass_the_statement_budget(tmp_path: Path) -> None:
    path = tmp_path / "two.sql"
    path.write_text("SELECT 1 AS a;\nINSERT INTO t SELECT a FROM s WHERE a IN (1, 2, 3, 4, 5)\n")
    result = scan_sql([str(path)], ScanOptions(max_statement_bytes=40))
    ok, refused = result.statements
    assert ok.ok
    assert refused.file == str(path) and refused.line == 2
    assert "exceeds the 40 bytes budget" in refused.errors[0].message


# -- 2. Jinja: loops, iterators, time and output are bounded per model ------------------------

HOSTILE_MODELS: dict[str, str] = {
    "count": "{% for i in modules.itertools.count() %}{% endfor %}",
    "cycle": "{% for i in modules.itertools.cycle([1, 2]) %}{{ i }}{% endfor %}",
    "repeat": "{{ modules.itertools.repeat('x') | list }}",
    "product": "{% for p in modules.itertools.product(range(1000), repeat=4) %}{% endfor %}",
    "lipsum": "{{ lipsum(n=10**8) }}",
    "range": "{% for i in range(10**8) %}{% endfor %}",
    "busy": "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "busy_strings": "{% set s = 'x' * 100000 %}{% for a in s %}{% for b in s %}{% endfor %}"
                    "{% endfor %}",
    "repetition": "{{ 'x' * 10**10 }}",
    "power": "{{ 7 ** (10 ** 9) }}",
    "output": "{% for i in range(100000) %}{{ 'x' * 500 }}{% endfor %}",
    "recursion": "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
    "doubling": "{% set ns = namespace(s='x') %}{% for i in range(60) %}"
                "{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
}
EXPECTED = {
    "count": "modules.itertools.count went past the budget of 100000 items",
    "cycle": "modules.itertools.cycle went past the budget of 100000 items",
    "repeat": "modules.itertools.repeat went past the budget of 100000 items",
    "product": "modules.itertools.product went past the budget of 100000 items",
    "lipsum": "lipsum(n=100000000, min=20, max=100) exceeds the budget",
    "range": "MAX_RANGE",
    "busy": "longer than the 2 s budget per model",
    "busy_strings": "longer than the 2 s budget per model",
    "repetition": "a repetition of 10000000000 items exceeds the budget",
    "power": "exceeds the budget of 1,000,000 bits",
    "output": "passed the budget of 10000000 characters",
    "recursion": "RecursionError",
    "doubling": "a text of 16777216 characters exceeds the budget of 10000000",
}

# The child: load the project with a 2 s budget, print issues and edges as JSON.
_CHILD = textwrap.dedent("""
    import json, sys
    from parsers.dbt import load_dbt_project
    from parsers.dbt.jinja import RenderBudget
    batch = load_dbt_project(sys.argv[1], dialect="redshift", budget=RenderBudget(seconds=2))
    print(json.dumps({
        "issues": [[i.file, i.line, i.message] for i in batch.issues],
        "edges": sorted(repr(e) for e in batch.edges),
    }))
""")


def _load_in_child(project: Path, timeout: float = 240) -> dict[str, Any]:
    try:
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, str(project)], capture_output=True, text=True,
            cwd=REPO, timeout=timeout, check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"loading the project still ran after {timeout} s")
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def clean_edges() -> set[str]:
    batch = load_dbt_project(ERP, dialect="redshift")
    assert not batch.issues and batch.edges
    return {repr(e) for e in batch.edges}


def test_hostile_templates_each_cost_their_model(tmp_path: Path, clean_edges: set[str]) -> None:
    project = tmp_path / "erp"
    shutil.copytree(ERP, project)
    for name, snippet in HOSTILE_MODELS.items():
        (project / "models" / f"attack_{name}.sql").write_text(
            f"select 1 as attacked\n-- {snippet}\n", encoding="utf-8"
        )
    loaded = _load_in_child(project)
    by_file: dict[str, list[tuple[int | None, str]]] = {}
    for file, line, message in loaded["issues"]:
        by_file.setdefault(file, []).append((line, message))
    for name in HOSTILE_MODELS:
        found = by_file.get(f"models/attack_{name}.sql", [])
        assert any(EXPECTED[name] in message for _, message in found), (name, found)
        if name != "output":  # the output budget is checked on the text, not at a line
            assert any(line == 2 for line, _ in found), (name, found)
    assert clean_edges <= set(loaded["edges"]), "other models lost lineage"


def _jinja(**budget: Any) -> DbtJinja:
    return DbtJinja(project_name="p", budget=RenderBudget(**budget))


def _render(jinja: DbtJinja, source: str) -> str:
    return jinja.render(jinja.template(source, "models/m.sql"), file="models/m.sql").sql


def test_documented_loops_and_helpers_still_render() -> None:
    jinja = _jinja()
    assert MAX_RANGE == 100_000  # jinja2's own cap on range(), kept
    sql = _render(jinja, "{% for i in range(1000) %}{{ i }}{% if not loop.last %},{% endif %}"
                         "{% endfor %}")
    assert sql == ",".join(str(i) for i in range(1000))
    sql = _render(jinja, "{% for i in range(300) %}{% for j in range(300) %}{% endfor %}"
                         "{% endfor %}{{ range(100000) | length }}")
    assert sql == "100000"
    sql = _render(jinja, "{% for c in modules.itertools.islice(modules.itertools.count(5), 3) %}"
                         "{{ c }}{% endfor %}|{{ modules.itertools.repeat('a', 3) | join }}|"
                         "{% for a, b in modules.itertools.zip_longest([1], [2, 3]) %}"
                         "{{ a }}{{ b }}{% endfor %}|{{ loop is undefined }}")
    assert sql == "567|aaa|12None3|True"
    assert len(_render(jinja, "{{ lipsum(2, html=false) }}")) > 20
    assert _render(jinja, "{% for k, v in {'a': 1}.items() %}{{ loop.length }}{{ k }}{{ v }}"
                          "{% endfor %}{{ 'ab' * 3 }}{{ 2 ** 10 }}") == "1a1ababab1024"


def test_the_render_budget_is_configurable() -> None:
    with pytest.raises(RenderError, match="a loop over 11 items exceeds the budget of 10"):
        _render(_jinja(max_items=10), "{% for i in range(11) %}{% endfor %}")
    unbounded = _jinja(max_items=None)
    assert _render(unbounded, "{{ modules.itertools.repeat(1, 200000) | list | length }}") == (
        "200000"
    )
    with pytest.raises(RenderError, match="passed the budget of 100 characters"):
        _render(_jinja(max_output_bytes=100), "{{ 'y' * 50 }}{{ 'z' * 51 }}")
    with pytest.raises(RenderError, match="a text of 101 characters exceeds the budget of 100"):
        _render(_jinja(max_output_bytes=100), "{{ 'x' ~ ('y' * 50) ~ ('z' * 50) }}")
    with pytest.raises(RenderError, match=r"longer than the 0\.2 s budget"):
        _render(_jinja(seconds=0.2), "{% for i in range(100000) %}{% for j in range(100000) %}"
                                     "{% endfor %}{% endfor %}")


# -- 3. YAML: alias bombs are refused as their file's issue -----------------------------------


def _laughs(levels: int = 9) -> str:
    text = 'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
    previous = "a"
    for name in "bcdefghijklmnop"[: levels - 1]:
        text += f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]\n"
        previous = name
    return text


def test_a_billion_laughs_schema_yml_is_its_files_issue(
    tmp_path: Path, clean_edges: set[str]
) -> None:
    project = tmp_path / "erp"
    shutil.copytree(ERP, project)
    bomb = _laughs() + "version: 2\nmodels:\n  - name: stg_loc_a101\n    meta: {lol: *i}\n"
    (project / "models" / "bomb.yml").write_text(bomb, encoding="utf-8")
    (project / "models" / "loop.yml").write_text("version: 2\nx: &x [*x]\n", encoding="utf-8")
    loaded = _load_in_child(project)
    issues = {file: (line, message) for file, line, message in loaded["issues"]}
    line, message = issues["models/bomb.yml"]
    assert message == "YAML aliases expand to more than 100000 nodes; the file was not loaded"
    assert line is not None and 1 < line <= 9
    assert "contains it" in issues["models/loop.yml"][1]
    assert clean_edges <= set(loaded["edges"]), "other models lost lineage"


def test_an_alias_bomb_in_profiles_or_project_file_is_reported(tmp_path: Path) -> None:
    project = tmp_path / "erp"
    shutil.copytree(ERP, project)
    (project / "profiles.yml").write_text(_laughs() + "erp: *i\n", encoding="utf-8")
    batch = load_dbt_project(project, dialect="redshift")
    assert any(i.file == "profiles.yml" and "YAML aliases expand" in i.message
               for i in batch.issues), [str(i) for i in batch.issues]
    assert batch.edges
    (project / "dbt_project.yml").write_text(_laughs() + "name: erp\n", encoding="utf-8")
    # No project without its dbt_project.yml: the one error, with the file and line.
    with pytest.raises(ConfigError, match=r"dbt_project\.yml:5: YAML aliases expand"):
        load_dbt_project(project, dialect="redshift")


def test_small_anchors_of_real_projects_still_load(tmp_path: Path) -> None:
    path = tmp_path / "schema.yml"
    path.write_text(textwrap.dedent("""
        version: 2
        x-defaults: &defaults
          materialized: view
          tags: [nightly, "A & B"]
        models:
          - name: orders
            config: *defaults
          - name: customers
            config:
              <<: *defaults
              materialized: table
        sources:
          - name: erp
            freshness: &fresh {warn_after: {count: 12, period: hour}}
            tables:
              - {name: a, freshness: *fresh}
              - {name: b, freshness: *fresh}
    """), encoding="utf-8")
    value, issue = read_yaml(path, tmp_path)
    assert issue is None
    assert value["models"][0]["config"] == {"materialized": "view", "tags": ["nightly", "A & B"]}
    assert value["models"][1]["config"]["materialized"] == "table"
    assert value["sources"][0]["tables"][1]["freshness"]["warn_after"]["count"] == 12


def test_fromyaml_of_an_alias_bomb_gives_the_default() -> None:
    jinja = _jinja()
    text = _laughs().replace("\n", "\\n").replace('"', '\\"')
    assert _render(jinja, '{{ fromyaml("' + text + '", "refused") }}') == "refused"
    assert _render(jinja, "{{ fromyaml('a: &x 1\\nb: *x')['b'] }}") == "1"
