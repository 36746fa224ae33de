{#-
    A naive local wall-clock `timestamp` in IANA zone `timezone` (an expression, e.g. the
    store's timezone column) as a UTC `timestamp`. DuckDB (bundled ICU) and PostgreSQL
    share the SQL-standard `at time zone` form and agree on daylight-saving changes: a
    wall-clock time that happens twice is read as standard time (the later instant), one
    that never happens with the offset in force before the change.
-#}
{% macro to_utc_from_local(local_timestamp, timezone) -%}
    {{ return(adapter.dispatch('to_utc_from_local', 'omniplay')(local_timestamp, timezone)) }}
{%- endmacro %}

{% macro default__to_utc_from_local(local_timestamp, timezone) -%}
    ((({{ local_timestamp }}) at time zone {{ timezone }}) at time zone 'UTC')
{%- endmacro %}
