{#- A UTC `timestamp` as the naive local wall-clock `timestamp` in IANA zone `timezone`
    (an expression). The inverse of omniplay.to_utc_from_local; DuckDB (ICU) and
    PostgreSQL share the `at time zone` form. -#}
{% macro to_local_from_utc(utc_timestamp, timezone) -%}
    {{ return(adapter.dispatch('to_local_from_utc', 'omniplay')(utc_timestamp, timezone)) }}
{%- endmacro %}

{% macro default__to_local_from_utc(utc_timestamp, timezone) -%}
    ((({{ utc_timestamp }}) at time zone 'UTC') at time zone {{ timezone }})
{%- endmacro %}
