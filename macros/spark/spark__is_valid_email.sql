{#- Spark: the default's pattern with backslashes doubled (Spark string literals unescape them). -#}
{% macro spark__is_valid_email(email) -%}
    coalesce(regexp_like({{ email }}, '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$'), false)
{%- endmacro %}
