{#- Spark: a `timestamp` is an instant shown in the session time zone, which omniplay's
    Spark session fixes to UTC, so the value is already the UTC wall clock. -#}
{% macro spark__to_utc(timestamp_tz) -%}
    cast({{ timestamp_tz }} as timestamp)
{%- endmacro %}
