"""dbt's Jinja rendered without dbt: context, macros, dbt-utils helpers, error lines."""

from __future__ import annotations

from typing import Any

import pytest
from jinja2 import Template

from lineage.model import TransformationSubtype
from parsers.dbt.jinja import (
    DbtJinja,
    ModelConfig,
    RecordingResolver,
    RenderError,
    RenderResult,
    Target,
    extract_blocks,
    render_value,
)
from parsers.dbt.relation import Column, CompileProblem, Relation
from parsers.sql import parse_sql


class FakeResolver:
    """Models and sources by name, with the columns the tests declare."""

    def __init__(self, dialect: str | None = None) -> None:
        self.relations = {
            "stg_customers": Relation("dev", "staging", "stg_customers", dialect),
            "stg_archive": Relation("dev", "staging", "stg_archive", dialect),
            "eph": Relation(None, None, "__dbt__cte__eph", type="cte"),
        }
        self.known: dict[str, list[Column]] = {
            "dev.staging.stg_customers": [
                Column("cid", "varchar(50)"), Column("gen", "char(1)"), Column("Extracted_At")
            ],
            "dev.staging.stg_archive": [Column("cid", "varchar(80)"), Column("archived_at")],
        }

    def ref(self, name: str, package: str | None, version: Any) -> Relation:
        if name not in self.relations:
            raise CompileProblem(f"ref({name!r}): no model named {name!r}")
        return self.relations[name]

    def source(self, source_name: str, table_name: str) -> Relation:
        return Relation("dev", source_name, table_name)

    def columns(self, relation: Relation) -> list[Column] | None:
        return self.known.get(relation.dotted)


def _jinja(**kwargs: Any) -> DbtJinja:
    kwargs.setdefault("project_name", "erp")
    kwargs.setdefault("target", Target(database="dev", schema="public", type="redshift"))
    kwargs.setdefault("dialect", "redshift")
    return DbtJinja(**kwargs)


def _render(sql: str, jinja: DbtJinja | None = None, **kwargs: Any) -> RenderResult:
    jinja = jinja or _jinja()
    kwargs.setdefault("resolver", FakeResolver())
    template = jinja.template(sql, "models/m.sql")
    return jinja.render(template, file="models/m.sql", source=sql, **kwargs)


def _error(sql: str, jinja: DbtJinja | None = None, **kwargs: Any) -> RenderError:
    with pytest.raises(RenderError) as info:
        _render(sql, jinja, **kwargs)
    return info.value


# -- the dbt context ---------------------------------------------------------------------------


def test_ref_and_source_render_plain_relation_names() -> None:
    sql = "select * from {{ ref('stg_customers') }} join {{ source('spectrum', 'cust') }}"
    assert _render(sql).sql == (
        "select * from dev.staging.stg_customers join dev.spectrum.cust"
    )


def test_ref_with_package_and_ephemeral_cte() -> None:
    assert _render("{{ ref('erp', 'stg_customers') }}").sql == "dev.staging.stg_customers"
    assert _render("{{ ref('eph') }}").sql == "__dbt__cte__eph"


def test_identifiers_that_need_quotes_are_quoted_per_dialect() -> None:
    relation = Relation("my-project", "analytics", "orders", "bigquery")
    assert str(relation) == "`my-project`.analytics.orders"
    assert str(Relation("dev", "my schema", "t", "postgres")) == 'dev."my schema".t'
    assert str(relation.include(database=False)) == "analytics.orders"
    assert relation.dotted == "my-project.analytics.orders"


def test_this_target_and_is_incremental() -> None:
    sql = (
        "select * from {{ this }} -- {{ target.name }} {{ target.schema }} {{ target.type }}\n"
        "{% if is_incremental() %}where x > (select max(x) from {{ this }}){% endif %}"
    )
    this = Relation("dev", "silver", "erp_customers")
    off = _render(sql, this=this).sql
    assert off == "select * from dev.silver.erp_customers -- dev public redshift\n"
    on = _render(sql, this=this, incremental=True).sql
    assert on.endswith("where x > (select max(x) from dev.silver.erp_customers)")


def test_var_with_default_project_value_and_missing() -> None:
    jinja = _jinja(vars={"backfill_date": "2024-06-01"})
    assert _render("{{ var('backfill_date') }}|{{ var('other', 'x') }}", jinja).sql == (
        "2024-06-01|x"
    )
    assert _render("{{ var('maybe', none) is none }}", jinja).sql == "True"
    assert _render("{{ var.has_var('backfill_date') }}", jinja).sql == "True"
    error = _error("select 1\nwhere d > '{{ var('start_date') }}'", jinja)
    assert error.line == 2
    assert "start_date" in error.message
    assert error.file == "models/m.sql"


def test_env_var_default_missing_and_secrets() -> None:
    jinja = _jinja(env={"ERP_SCHEMA": "raw", "DBT_ENV_SECRET_PW": "hunter2"})
    assert _render("{{ env_var('ERP_SCHEMA') }}.{{ env_var('NOPE', 'x') }}", jinja).sql == "raw.x"
    assert "NOPE" in _error("{{ env_var('NOPE') }}", jinja).message
    # Secrets may configure a connection, never reach compiled SQL (dbt's rule too).
    assert "secret" in _error("{{ env_var('DBT_ENV_SECRET_PW') }}", jinja).message


def test_config_calls_are_recorded_and_readable() -> None:
    config = ModelConfig({"materialized": "view", "schema": "staging"})
    sql = (
        "{{ config(materialized='incremental', unique_key='id') }}"
        "{{ config.get('materialized') }} {{ config.get('schema') }} {{ config.get('x', 'd') }}"
    )
    result = _render(sql, config=config)
    assert result.sql == "incremental staging d"
    assert result.config_calls == {"materialized": "incremental", "unique_key": "id"}


def test_parse_pass_records_refs_and_sources() -> None:
    recorder = RecordingResolver("dev", "public")
    _render(
        "select * from {{ ref('a') }} join {{ ref('pkg', 'b') }} join {{ source('s', 't') }}",
        resolver=recorder, parse_only=True,
    )
    assert recorder.refs == [(None, "a"), ("pkg", "b")]
    assert recorder.sources == [("s", "t")]


def test_unknown_names_are_errors_not_empty_strings() -> None:
    error = _error("select\n  {{ not_a_macro('x') }} as y")
    assert error.line == 2
    assert "not_a_macro" in error.message


def test_execute_is_false_and_run_query_is_a_no_op() -> None:
    sql = (
        "{% if execute %}{% set rows = run_query('select 1') %}{{ rows.columns[0] }}"
        "{% else %}fallback{% endif %}"
        "{% call statement('x', fetch_result=True) %}select 1{% endcall %}"
        "{{ log('hello', info=True) }}"
    )
    assert _render(sql).sql == "fallback"


def test_modules_and_helpers() -> None:
    sql = (
        "{{ modules.datetime.date(2024, 6, 1).isoformat() }} "
        "{{ modules.re.sub('a', 'b', 'aa') }} {{ fromjson('[1, 2]')[1] }} "
        "{{ tojson({'a': 1}) }} {{ 'x' | as_bool }}"
    )
    assert _render(sql).sql == '2024-06-01 bb 2 {"a": 1} False'


def test_do_extension_and_namespace() -> None:
    sql = (
        "{% set cols = [] %}{% do cols.append('a') %}{% do cols.append('b') %}"
        "{{ cols|join(',') }}"
    )
    assert _render(sql).sql == "a,b"


def test_sandbox_blocks_python_internals() -> None:
    error = _error("{{ ''.__class__.__mro__ }}")
    assert error.line == 1


def test_raise_compiler_error_is_a_render_error_on_its_line() -> None:
    error = _error("select 1\n{{ exceptions.raise_compiler_error('no customers table') }}")
    assert error.line == 2
    assert "no customers table" in error.message


def test_syntax_error_reports_its_line() -> None:
    jinja = _jinja()
    with pytest.raises(RenderError) as info:
        jinja.template("select 1\nfrom t\n{{ ref('x' }}\n", "models/m.sql")
    assert info.value.line == 3
    assert info.value.file == "models/m.sql"
    assert "syntax" in info.value.message.lower()


@pytest.mark.parametrize(
    "sql",
    [
        "select * from {{ ref('stg_customers') }}\nwhere 1 = 1\n",
        "{{ config(materialized='table', tags=['a'], meta={'owner': 'x'}) }}\nselect 1",
        "select {{ dbt_utils.star(ref('stg_customers'), except=['gen']) }} from {{ this }}",
        "select {{ dbt_utils.star(from=ref('stg_customers'), relation_alias='c') }} from x c",
        "select {{ dbt_utils.generate_surrogate_key(['a', 'b']) }}, {{ var('v', none) }}",
        "select '{{ source(\"s\", \"t\") }}' as label, {{ dbt.type_string() }}",
    ],
)
def test_models_without_jinja_tags_render_as_jinja2_would(sql: str) -> None:
    jinja = _jinja()
    this = Relation("dev", "silver", "m")
    fast = jinja.template(sql, "models/m.sql")
    assert not isinstance(fast, Template)  # rendered without compiling jinja2
    config = ModelConfig()
    result = jinja.render(fast, file="models/m.sql", resolver=FakeResolver(), this=this,
                          config=config)
    slow = jinja.template(sql + "{# force jinja2 #}", "models/m.sql")
    assert isinstance(slow, Template)
    expected = jinja.render(slow, file="models/m.sql", resolver=FakeResolver(), this=this)
    assert result.sql == expected.sql
    assert result.config_calls == expected.config_calls


def test_a_failing_fast_model_is_reported_by_jinja2_with_its_line() -> None:
    error = _error("select 1\nfrom {{ ref('missing') }}")
    assert error.line == 2
    assert "missing" in error.message


# -- project macros ----------------------------------------------------------------------------


MACROS = """
{# {% macro commented_out() %}x{% endmacro %} #}
{% macro clean_gender(column) -%}
    CASE {{ column }} WHEN 'M' THEN 'Male' WHEN 'F' THEN 'Female' ELSE {{ unknown() }} END
{%- endmacro %}

{% macro unknown() -%}
    {{ return("'Unknown'") }}
{%- endmacro %}

{% macro cents(column) -%}
    {{ return(adapter.dispatch('cents')(column)) }}
{%- endmacro %}
{% macro default__cents(column) %}({{ column }} / 100){% endmacro %}
{% macro redshift__cents(column) %}({{ column }}::decimal(18,2) / 100){% endmacro %}

{% macro broken(column) -%}
    {{ column }}
    {{ no_such_thing }}
{%- endmacro %}

{% test is_positive(model, column_name) %}
select * from {{ model }} where {{ column_name }} <= 0
{% endtest %}
"""


def _with_macros() -> DbtJinja:
    jinja = _jinja()
    assert jinja.add_macros(MACROS, "macros/util.sql") == []
    return jinja


def test_project_macros_call_macros_and_return_values() -> None:
    jinja = _with_macros()
    assert _render("{{ clean_gender('gen') }}", jinja).sql == (
        "CASE gen WHEN 'M' THEN 'Male' WHEN 'F' THEN 'Female' ELSE 'Unknown' END"
    )
    assert jinja.project_macro("clean_gender")
    assert not jinja.project_macro("commented_out")


def test_adapter_dispatch_prefers_the_adapter_implementation() -> None:
    jinja = _with_macros()
    assert _render("{{ cents('amount') }}", jinja).sql == "(amount::decimal(18,2) / 100)"
    duck = _jinja(target=Target(type="duckdb"), dialect="duckdb")
    duck.add_macros(MACROS, "macros/util.sql")
    assert _render("{{ cents('amount') }}", duck).sql == "(amount / 100)"


def test_generic_test_blocks_become_test_macros() -> None:
    jinja = _with_macros()
    assert _render("{{ test_is_positive('t', 'x') }}", jinja).sql.strip() == (
        "select * from t where x <= 0"
    )


def test_error_inside_a_macro_points_at_the_model_line_and_names_the_macro() -> None:
    jinja = _with_macros()
    error = _error("select\n  a,\n  {{ broken('b') }} as c\nfrom t", jinja)
    assert error.line == 3
    assert "no_such_thing" in error.message
    assert "macros/util.sql:" in error.message


def test_a_macro_that_does_not_compile_is_reported_and_the_others_load() -> None:
    jinja = _jinja()
    issues = jinja.add_macros(
        "{% macro good() %}ok{% endmacro %}\n\n{% macro bad() %}{{ x( }}{% endmacro %}",
        "macros/mixed.sql",
    )
    assert len(issues) == 1
    assert issues[0].file == "macros/mixed.sql"
    assert issues[0].line == 3
    assert _render("{{ good() }}", jinja).sql == "ok"


def test_project_macro_overrides_a_builtin_and_can_call_the_default() -> None:
    jinja = _jinja()
    assert not jinja.project_macro("generate_schema_name")
    jinja.add_macros(
        "{% macro generate_schema_name(custom_schema_name, node) -%}"
        "{%- if target.name == 'prod' -%}{{ custom_schema_name }}"
        "{%- else -%}{{ default__generate_schema_name(custom_schema_name, node) }}{%- endif -%}"
        "{%- endmacro %}",
        "macros/naming.sql",
    )
    assert jinja.project_macro("generate_schema_name")
    value = jinja.call_macro("generate_schema_name", "silver", {"name": "m"}, file="m.sql")
    assert value.strip() == "public_silver"


def test_package_macros_live_in_their_namespace() -> None:
    jinja = _jinja()
    jinja.add_macros(
        "{% macro shout(x) %}upper({{ my_pkg._inner(x) }}){% endmacro %}"
        "{% macro _inner(x) %}trim({{ x }}){% endmacro %}",
        "dbt_packages/my_pkg/macros/m.sql", package="my_pkg",
    )
    assert _render("{{ my_pkg.shout('name') }}", jinja).sql == "upper(trim(name))"
    assert "shout" in _error("{{ shout('name') }}", jinja).message


def test_extract_blocks_skips_comments_and_reports_unclosed_blocks() -> None:
    text = "{# {% macro hidden() %}{% endmacro %} #}\n{% macro a() %}x{% endmacro %}\n"
    blocks = list(extract_blocks(text))
    assert [(kind, header, line) for kind, header, _, line in blocks] == [("macro", "a()", 2)]
    with pytest.raises(RenderError) as info:
        list(extract_blocks("\n\n{% macro open() %}x"))
    assert info.value.line == 3


# -- dbt-utils and cross-database macros -------------------------------------------------------


def test_star_lists_columns_minus_except_case_insensitively() -> None:
    sql = "select {{ dbt_utils.star(ref('stg_customers'), except=['EXTRACTED_AT']) }} from x"
    assert _render(sql).sql == "select cid,\n  gen from x"


def test_star_with_alias_prefix_and_from_keyword() -> None:
    sql = (
        "{{ dbt_utils.star(from=ref('stg_customers'), relation_alias='c', "
        "except=['gen'], prefix='c_') }}"
    )
    assert _render(sql).sql == 'c.cid as c_cid,\n  c."Extracted_At" as "c_Extracted_At"'


def test_star_of_unknown_columns_renders_a_star_and_a_note() -> None:
    result = _render("select\n  {{ dbt_utils.star(source('s', 't')) }}\nfrom s.t")
    assert result.sql == "select\n  *\nfrom s.t"
    (note,) = result.notes
    assert note.line == 2
    assert note.file == "models/m.sql"
    assert "unknown" in note.message


def test_star_in_the_parse_pass_is_a_placeholder() -> None:
    sql = "{{ dbt_utils.star(ref('stg_customers')) }}"
    assert _render(sql, parse_only=True).sql == "*"


def test_generate_surrogate_key_is_dbt_utils_sql() -> None:
    sql = "{{ dbt_utils.generate_surrogate_key(['cid', 'gen']) }}"
    assert _render(sql).sql == (
        "md5(cast(coalesce(cast(cid as varchar), '_dbt_utils_surrogate_key_null_') || '-' || "
        "coalesce(cast(gen as varchar), '_dbt_utils_surrogate_key_null_') as varchar))"
    )
    bigquery = _jinja(target=Target(type="bigquery"), dialect="bigquery")
    assert _render(sql, bigquery).sql.startswith(
        "to_hex(md5(cast(concat(coalesce(cast(cid as string), "
    )


def test_surrogate_key_keys_mask_their_inputs() -> None:
    sql = _render(
        "select {{ dbt_utils.generate_surrogate_key(['cid']) }} as k from dev.s.t"
    ).sql
    statement = parse_sql(sql, dialect="redshift").statements[0]
    (lineage,) = statement.column_lineage
    (field,) = lineage.field_map()["k"]
    assert field.field == "cid"
    assert all(t.masking for t in field.transformations)


def test_old_surrogate_key_uses_empty_strings_for_nulls() -> None:
    assert _render("{{ dbt_utils.surrogate_key('a', 'b') }}").sql == (
        "md5(cast(coalesce(cast(a as varchar), '') || '-' || "
        "coalesce(cast(b as varchar), '') as varchar))"
    )


def test_union_relations_null_fills_missing_columns() -> None:
    sql = (
        "{{ dbt_utils.union_relations(relations=[ref('stg_customers'), ref('stg_archive')], "
        "exclude=['gen']) }}"
    )
    rendered = _render(sql).sql
    assert "cast('dev.staging.stg_customers' as varchar) as _dbt_source_relation" in rendered
    assert "cast(null as varchar(80))" not in rendered
    assert "cast(cid as varchar(80)) as cid" in rendered  # the widest string type wins
    assert "null as archived_at" in rendered
    assert "gen" not in rendered
    statement = parse_sql(f"select * from ({rendered}) as u", dialect="redshift").statements[0]
    fields = statement.column_lineage[0].field_map()
    assert {(i.dataset.name, i.field) for i in fields["archived_at"]} == {
        ("dev.staging.stg_archive", "archived_at")
    }
    assert {i.dataset.name for i in fields["cid"]} == {
        "dev.staging.stg_customers", "dev.staging.stg_archive"
    }


def test_union_relations_include_and_no_source_column() -> None:
    sql = (
        "{{ dbt_utils.union_relations([ref('stg_customers'), ref('stg_archive')], "
        "include=['cid'], source_column_name=none) }}"
    )
    rendered = _render(sql).sql
    assert "_dbt_source_relation" not in rendered
    assert rendered.count("cast(cid as varchar(80)) as cid") == 2


def test_cross_database_macros() -> None:
    sql = (
        "{{ dbt.type_string() }} {{ type_timestamp() }} {{ dbt.current_timestamp() }} "
        "{{ dbt.dateadd('day', 1, 'd') }} {{ dbt.datediff('a', 'b', 'day') }} "
        "{{ dbt_utils.safe_divide('a', 'b') }} {{ dbt_utils.group_by(2) }}"
    )
    assert _render(sql).sql == (
        "varchar timestamp getdate() dateadd(day, 1, d) datediff(day, a, b) "
        "( a ) / nullif( ( b ), 0) group by 1, 2"
    )


def test_an_unsupported_dbt_utils_macro_says_so() -> None:
    error = _error("select\n{{ dbt_utils.date_spine('day', 'a', 'b') }}")
    assert error.line == 2
    assert "dbt_utils.date_spine" in error.message


def test_descriptions_render_doc_blocks() -> None:
    jinja = _jinja(docs={"customers": "One row per customer."})
    text = jinja.render_text("{{ doc('customers') }}", file="models/schema.yml")
    assert text == "One row per customer."
    with pytest.raises(RenderError) as info:
        jinja.render_text("{{ doc('nope') }}", file="models/schema.yml")
    assert "nope" in info.value.message


def test_render_value_for_profiles() -> None:
    env = {"HOST": "db.internal"}
    assert render_value("{{ env_var('HOST') }}:5439", env=env) == "db.internal:5439"
    assert render_value("plain") == "plain"
    with pytest.raises(RenderError):
        render_value("{{ env_var('MISSING') }}", env={})


def test_edges_of_a_rendered_model_are_what_the_parser_finds() -> None:
    jinja = _with_macros()
    sql = _render(
        "select {{ clean_gender('gen') }} as gender from {{ ref('stg_customers') }}", jinja
    ).sql
    lineage = parse_sql(sql, dialect="redshift").statements[0].column_lineage[0]
    (field,) = lineage.field_map()["gender"]
    assert (field.dataset.name, field.field) == ("dev.staging.stg_customers", "gen")
    assert field.transformations[0].subtype is TransformationSubtype.CONDITIONAL
