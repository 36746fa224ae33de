{#- Spark: `regexp_like` with a Java regular expression. Spark string literals treat a
    backslash as an escape, so a pattern with `\` needs it doubled (spark__is_valid_email). -#}
{% macro spark__regexp_like(expression, pattern) -%}
    regexp_like({{ expression }}, {{ pattern }})
{%- endmacro %}
