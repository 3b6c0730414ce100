{% macro shout(expression) -%}
    upper({{ my_pkg._trimmed(expression) }})
{%- endmacro %}

{# A private helper: dbt reaches it only through the package's namespace. #}
{% macro _trimmed(expression) -%}
    trim({{ expression }})
{%- endmacro %}
