{#- The statement that creates the round log `log_relation` (see cc_rounds_relation) when it is missing. -#}
{% macro cc_create_rounds_table_sql(log_relation) -%}
create table if not exists {{ log_relation }} (
    model {{ dbt.type_string() }},
    invocation_id {{ dbt.type_string() }},
    build_started_at {{ dbt.type_timestamp() }},
    finished_at {{ dbt.type_timestamp() }},
    rounds {{ dbt.type_int() }},
    nodes {{ dbt.type_bigint() }},
    edges {{ dbt.type_bigint() }},
    components {{ dbt.type_bigint() }},
    largest_component {{ dbt.type_bigint() }},
    solver_seconds {{ dbt.type_numeric() }}
)
{%- endmacro %}
