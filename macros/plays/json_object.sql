{#- A JSON object from a list of (key, SQL expression) pairs; keys are plain names. -#}
{% macro json_object(pairs) -%}
    {{ return(adapter.dispatch('json_object', 'omniplay')(pairs)) }}
{%- endmacro %}

{% macro default__json_object(pairs) -%}
    json_build_object(
        {%- for key, expression in pairs %}
        '{{ key }}', {{ expression }}{{ "," if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}

{% macro duckdb__json_object(pairs) -%}
    json_object(
        {%- for key, expression in pairs %}
        '{{ key }}', {{ expression }}{{ "," if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}
