{#-
    "Now" for every time window of the project (recency, lapsing, triggers, caps), as a
    UTC timestamp. var omniplay__as_of pins it (replays, tests, simulated datasets:
    `omniplay build` sets it from a generated dataset's manifest); unset, it is the time
    the build started, so all models of one build share one clock.
-#}
{% macro as_of_timestamp() -%}
    {%- set pinned = var('omniplay__as_of', none) -%}
    {%- if pinned -%}
        cast('{{ pinned }}' as {{ dbt.type_timestamp() }})
    {%- else -%}
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as {{ dbt.type_timestamp() }})
    {%- endif -%}
{%- endmacro %}
