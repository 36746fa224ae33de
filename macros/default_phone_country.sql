{#-
    SQL literal of the country that dials national phone numbers on records with no
    country of their own (web accounts, SMS events, phone consent): var
    omniplay__default_phone_country, e.g. 'US'; `null` when unset, so such numbers only
    normalize when written in international form.
-#}
{% macro default_phone_country() -%}
    {{ return(adapter.dispatch('default_phone_country', 'omniplay')()) }}
{%- endmacro %}

{% macro default__default_phone_country() -%}
    {%- set country = var('omniplay__default_phone_country', none) -%}
    {%- if country is none or country | trim == '' -%}
        cast(null as {{ dbt.type_string() }})
    {%- else -%}
        {{ dbt.string_literal(country | trim | upper) }}
    {%- endif -%}
{%- endmacro %}
