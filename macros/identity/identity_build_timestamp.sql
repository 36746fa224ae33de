{#- When this build started, as a UTC timestamp literal: stamps assignments and merges. -#}
{% macro identity_build_timestamp() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}
