{#- on-run-start: create the activation state schema and its empty tables
    (omniplay.state_tables_ddl) when they are missing, so the decision models' sources
    over the send ledger exist on the first build, before any sync ran. Schema:
    var('omniplay__state_schema'). -#}
{% macro create_state_tables() -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set schema = var('omniplay__state_schema', 'omniplay_state') -%}
    {%- if not modules.re.match('^[A-Za-z_][A-Za-z0-9_]*$', schema) -%}
        {{ exceptions.raise_compiler_error("var omniplay__state_schema: '" ~ schema ~ "' is not a plain SQL identifier") }}
    {%- endif -%}
    {#- One statement at a time: Spark runs a single statement per call. -#}
    {%- for statement in omniplay.state_tables_ddl(schema) -%}
        {%- do run_query(statement) -%}
    {%- endfor -%}
    {{ return('') }}
{%- endmacro %}
