{#- One bound (`part` = 'start' or 'end') of the first daily local window
    [start_time, end_time) still open at `now_utc`, as a UTC timestamp: today's window
    when `now_utc` is before today's end (starting no earlier than now), else
    tomorrow's. `timezone` is an IANA zone expression; start/end are `time` expressions
    (constants or columns such as a store's opening hours). The wall-clock bounds are
    converted in the zone itself, so windows hold across DST changes. (Parenthesized:
    `at time zone` binds tighter than `+` on PostgreSQL.) -#}
{% macro local_window(part, now_utc, timezone, start_time, end_time) -%}
    {%- set local_now = omniplay.to_local_from_utc(now_utc, timezone) -%}
    {%- set today_start = "(cast(" ~ local_now ~ " as date) + " ~ start_time ~ ")" -%}
    {%- set today_end = "(cast(" ~ local_now ~ " as date) + " ~ end_time ~ ")" -%}
    {%- set open_today = "(" ~ local_now ~ " < " ~ today_end ~ ")" -%}
    {%- if part == 'start' -%}
        case
            when {{ open_today }} then greatest(
                {{ now_utc }},
                {{ omniplay.to_utc_from_local(today_start, timezone) }}
            )
            else {{ omniplay.to_utc_from_local('(' ~ dbt.dateadd('day', 1, today_start) ~ ')', timezone) }}
        end
    {%- elif part == 'end' -%}
        case
            when {{ open_today }} then {{ omniplay.to_utc_from_local(today_end, timezone) }}
            else {{ omniplay.to_utc_from_local('(' ~ dbt.dateadd('day', 1, today_end) ~ ')', timezone) }}
        end
    {%- else -%}
        {{ exceptions.raise_compiler_error("local_window: part must be 'start' or 'end'") }}
    {%- endif -%}
{%- endmacro %}
