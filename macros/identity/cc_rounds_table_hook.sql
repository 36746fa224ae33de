{#-
    For `on-run-start`: create the round log's schema and return the statement that creates
    the round log (cc_rounds_relation with `schema`). The materialization creates the log on
    its own; a project with several connected_components models building in parallel should
    also use this hook, so two models never race to create the table:
    `on-run-start: ["{{ omniplay.cc_rounds_table_hook(schema='intermediate') }}"]`
-#}
{% macro cc_rounds_table_hook(schema=none) -%}
    {%- set log_relation = omniplay.cc_rounds_relation(schema=schema) -%}
    {%- if execute -%}
        {%- do adapter.create_schema(log_relation) -%}
    {%- endif -%}
    {{ return(omniplay.cc_create_rounds_table_sql(log_relation)) }}
{%- endmacro %}
