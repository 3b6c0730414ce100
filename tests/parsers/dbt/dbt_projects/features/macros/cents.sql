{% macro cents_to_dollars(column) -%}
    {{ return(adapter.dispatch('cents_to_dollars')(column)) }}
{%- endmacro %}

{% macro default__cents_to_dollars(column) -%}
    ({{ column }} / 100.0)
{%- endmacro %}

{% macro duckdb__cents_to_dollars(column) -%}
    round({{ column }} / 100.0, 2)
{%- endmacro %}
