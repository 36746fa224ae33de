{#-
    The statements that create the round log `log_relation` (see cc_rounds_relation) and its
    schema when missing. The materialization runs them on every build; a project with
    several connected_components models building in parallel should also run them from
    `on-run-start`, so two models never race to create the table:
    `on-run-start: ["{{ omniplay.cc_create_rounds_table_sql(omniplay.cc_rounds_relation(schema='intermediate')) }}"]`
-#}
{% macro cc_create_rounds_table_sql(log_relation) -%}
create schema if not exists {{ log_relation.include(identifier=false) }};
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
