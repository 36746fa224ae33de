{#- Spark: `dbt.dateadd` keeping fractions of a second. dbt-spark's own variant goes through
    `to_unix_timestamp`, whole seconds, so `added_at + 4 hours` lost its microseconds (trigger
    times in payloads, window bounds); `timestampadd` keeps them, as DuckDB and PostgreSQL do.
    A null timestamp gives null (dbt-spark's variant raises). -#}
{% macro spark__dateadd(datepart, interval, from_date_or_timestamp) -%}
    {%- set units = {'year': 'YEAR', 'quarter': 'QUARTER', 'month': 'MONTH', 'week': 'WEEK', 'day': 'DAY',
                     'hour': 'HOUR', 'minute': 'MINUTE', 'second': 'SECOND', 'millisecond': 'MILLISECOND',
                     'microsecond': 'MICROSECOND'} -%}
    {%- if datepart | lower not in units -%}
        {{ exceptions.raise_compiler_error("dateadd: datepart '" ~ datepart ~ "' is not supported on Spark") }}
    {%- endif -%}
    timestampadd({{ units[datepart | lower] }}, cast({{ interval }} as bigint), cast({{ from_date_or_timestamp }} as timestamp))
{%- endmacro %}
