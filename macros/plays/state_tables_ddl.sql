{#- The send ledger (`sends`), run log (`runs`), provider opt-outs and guardrail resumes as portable
    `create ... if not exists` statements: the same DDL as activation/ledger.py `ddl()`
    (the activation engine's), replicated here because dbt cannot import it;
    tests/decisions/test_state_ddl.py checks the two agree column for column. -#}
{% macro state_tables_ddl(schema) -%}
    {{ return(adapter.dispatch('state_tables_ddl', 'omniplay')(schema)) }}
{%- endmacro %}

{% macro default__state_tables_ddl(schema) -%}
    {%- set tables = {
        'sends': [
            ('message_id', 'varchar(128) not null primary key'),
            ('status', 'varchar(16) not null'),
            ('attempts', 'integer not null'),
            ('provider_message_id', 'varchar(256)'),
            ('error_code', 'varchar(64)'),
            ('error_message', 'varchar(1024)'),
            ('first_attempt_at', 'timestamp'),
            ('finished_at', 'timestamp'),
            ('run_id', 'varchar(64) not null'),
            ('play_id', 'varchar(128)'),
            ('profile_id', 'varchar(128)'),
            ('channel', 'varchar(16)'),
            ('destination', 'varchar(128)'),
            ('batch_id', 'varchar(64)'),
            ('updated_at', 'timestamp not null'),
        ],
        'runs': [
            ('run_id', 'varchar(64) not null'),
            ('play_id', 'varchar(128) not null'),
            ('started_at', 'timestamp not null'),
            ('finished_at', 'timestamp'),
            ('outcome', 'varchar(16) not null'),
            ('planned', 'integer not null'),
            ('sent', 'integer not null'),
            ('rejected', 'integer not null'),
            ('failed', 'integer not null'),
            ('ambiguous', 'integer not null'),
            ('deferred', 'integer not null'),
            ('expired', 'integer not null'),
            ('error_message', 'varchar(1024)'),
        ],
        'opt_outs': [
            ('opt_out_id', 'varchar(128) not null primary key'),
            ('identifier_type', 'varchar(16) not null'),
            ('identifier_value', 'varchar(256) not null'),
            ('channel', 'varchar(16) not null'),
            ('action', 'varchar(32) not null'),
            ('source', 'varchar(32) not null'),
            ('profile_id', 'varchar(128)'),
            ('message_id', 'varchar(128)'),
            ('occurred_at', 'timestamp not null'),
        ],
        'play_resumes': [
            ('resume_id', 'varchar(64) not null primary key'),
            ('play_id', 'varchar(128) not null'),
            ('resumed_at', 'timestamp not null'),
            ('resumed_by', 'varchar(128)'),
            ('note', 'varchar(1024)'),
        ],
    } -%}
    {%- set quoted = '"' ~ schema ~ '"' -%}
    {%- set statements = ['create schema if not exists ' ~ quoted] -%}
    {%- for table in ['sends', 'runs', 'opt_outs', 'play_resumes'] -%}
        {%- set body = [] -%}
        {%- for name, type in tables[table] -%}
            {%- do body.append(name ~ ' ' ~ type) -%}
        {%- endfor -%}
        {%- do statements.append('create table if not exists ' ~ quoted ~ '.' ~ table ~ ' (\n    ' ~ body | join(',\n    ') ~ '\n)') -%}
    {%- endfor -%}
    {{ return(statements) }}
{%- endmacro %}
