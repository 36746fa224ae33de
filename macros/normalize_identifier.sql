{#-
    An id (crm_id, loyalty_id, user_id, cookie_id, device_id, card_token, badge_id ...):
    trimmed text, upper-cased when `upper` is true, empty -> null. Junk placeholders are
    nulled separately against the identifier_blocklist seed (is_blocklisted).
-#}
{% macro normalize_identifier(identifier, upper=false) -%}
    {{ return(adapter.dispatch('normalize_identifier', 'omniplay')(identifier, upper)) }}
{%- endmacro %}

{% macro default__normalize_identifier(identifier, upper=false) -%}
    {%- set trimmed = omniplay.trim_text("cast(" ~ identifier ~ " as " ~ dbt.type_string() ~ ")") -%}
    nullif({{ "upper(" ~ trimmed ~ ")" if upper else trimmed }}, '')
{%- endmacro %}
