{#- A time of day from text 'HH:MM[:SS]', as a value that adds to a date to give a timestamp:
    `time` on DuckDB and PostgreSQL; Spark has no time type, so there an interval since midnight. -#}
{% macro cast_time_of_day(text) -%}
    {{ return(adapter.dispatch('cast_time_of_day', 'omniplay')(text)) }}
{%- endmacro %}

{% macro default__cast_time_of_day(text) -%}
    cast({{ text }} as time)
{%- endmacro %}

{#- Spark reads an interval only as H:M:S, so 'HH:MM' gets its seconds first. -#}
{% macro spark__cast_time_of_day(text) -%}
    cast(
        case when {{ text }} like '%:%:%' then {{ text }} else concat({{ text }}, ':00') end
        as interval hour to second
    )
{%- endmacro %}
