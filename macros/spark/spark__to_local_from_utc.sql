{#- Spark: the UTC timestamp `utc_timestamp` as the wall-clock time in IANA zone `timezone`. -#}
{% macro spark__to_local_from_utc(utc_timestamp, timezone) -%}
    from_utc_timestamp({{ utc_timestamp }}, {{ timezone }})
{%- endmacro %}
