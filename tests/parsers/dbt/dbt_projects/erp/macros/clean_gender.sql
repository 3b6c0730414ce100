{# The ERP's one-letter gender codes as the silver layer spells them. #}
{% macro clean_gender(column) -%}
    CASE {{ column }}
        WHEN 'M' THEN 'Male'
        WHEN 'F' THEN 'Female'
        ELSE {{ unknown_label() }}
    END
{%- endmacro %}

{% macro unknown_label() -%}
    {{ return("'Unknown'") }}
{%- endmacro %}
