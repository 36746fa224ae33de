{#
    Custom schemas are used as-is (`staging`, `marts`, ...) rather than prefixed with the
    target schema, so every engine has the same, predictable relation names that the
    activation engine and outside checks can rely on.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
