{#- A `timestamp with time zone` as a UTC wall-clock `timestamp` (the type every staged `_at` column has). -#}
{% macro to_utc(timestamp_tz) -%}
    {{ return(adapter.dispatch('to_utc', 'omniplay')(timestamp_tz)) }}
{%- endmacro %}

{% macro default__to_utc(timestamp_tz) -%}
    ({{ timestamp_tz }} at time zone 'UTC')
{%- endmacro %}
