{#- An email for matching and sending: lower(trim(email)), empty -> null (docs/sources.md). -#}
{% macro normalize_email(email) -%}
    {{ return(adapter.dispatch('normalize_email', 'omniplay')(email)) }}
{%- endmacro %}

{% macro default__normalize_email(email) -%}
    nullif(lower({{ omniplay.trim_text(email) }}), '')
{%- endmacro %}
