{#- The send ledger (`sends`), run log (`runs`), provider opt-outs and guardrail resumes as portable
    `create ... if not exists` statements: the same DDL as activation/ledger.py `ddl()`
    (the activation engine's), replicated here because dbt cannot import it;
    tests/decisions/test_state_ddl.py checks the two agree column for column. -#}
{% macro state_tables_ddl(schema) -%}
    {{ return(adapter.dispatch('state_tables_ddl', 'omniplay')(schema)) }}
{%- endmacro %}

{% macro default__state_tables_ddl(schema, unindexed_sends=false) -%}
    {%- set tables = omniplay.state_tables_columns() -%}
    {%- set quoted = '"' ~ schema ~ '"' -%}
    {%- set statements = ['create schema if not exists ' ~ quoted] -%}
    {%- for table in ['sends', 'runs', 'opt_outs', 'play_resumes'] -%}
        {%- set body = [] -%}
        {%- for name, type in tables[table] -%}
            {%- do body.append(name ~ ' ' ~ (type | replace(' primary key', '') if unindexed_sends and table == 'sends' else type)) -%}
        {%- endfor -%}
        {%- do statements.append('create table if not exists ' ~ quoted ~ '.' ~ table ~ ' (\n    ' ~ body | join(',\n    ') ~ '\n)') -%}
    {%- endfor -%}
    {{ return(statements) }}
{%- endmacro %}

{#- DuckDB: `sends` without its primary-key index (an in-memory ART that outgrows a sync's
    memory limit at a few million messages); activation/ledger.py ddl(schema, 'duckdb'). -#}
{% macro duckdb__state_tables_ddl(schema) -%}
    {{ return(omniplay.default__state_tables_ddl(schema, unindexed_sends=true)) }}
{%- endmacro %}
