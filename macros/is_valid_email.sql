{#- True when a normalized email has one @, no whitespace and a dot in the domain; false for null. -#}
{% macro is_valid_email(email) -%}
    {{ return(adapter.dispatch('is_valid_email', 'omniplay')(email)) }}
{%- endmacro %}

{% macro default__is_valid_email(email) -%}
    coalesce({{ omniplay.regexp_like(email, "'^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$'") }}, false)
{%- endmacro %}
