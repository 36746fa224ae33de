{#- Spark: the state tables are append-only. Parquet tables cannot be updated in place, so
    each table `<t>` is a view over `<t>__log`, to which the activation engine appends a
    whole new row version (with a larger `_seq`) for every insert or update; the view
    shows the latest version per key. The same DDL as activation/ledger.py
    `ddl(schema, dialect='spark')`; docs/spark.md explains the design. -#}
{% macro spark__state_tables_ddl(schema) -%}
    {%- set tables = omniplay.state_tables_columns() -%}
    {%- set keys = {'sends': ['message_id'], 'runs': ['run_id', 'play_id'], 'opt_outs': ['opt_out_id'],
                     'play_resumes': ['resume_id']} -%}
    {%- set statements = ['create schema if not exists `' ~ schema ~ '`'] -%}
    {%- for table in ['sends', 'runs', 'opt_outs', 'play_resumes'] -%}
        {%- set body = [] -%}
        {%- set names = [] -%}
        {%- for name, type in tables[table] -%}
            {%- set base = type.split(' ')[0].split('(')[0] -%}
            {%- do body.append(name ~ ' ' ~ {'varchar': 'string', 'integer': 'int', 'timestamp': 'timestamp'}[base]) -%}
            {%- do names.append(name) -%}
        {%- endfor -%}
        {%- set log = '`' ~ schema ~ '`.`' ~ table ~ '__log`' -%}
        {%- do statements.append('create table if not exists ' ~ log ~ ' (\n    ' ~ body | join(',\n    ') ~ ',\n    _seq bigint\n) using parquet') -%}
        {%- do statements.append(
            'create or replace view `' ~ schema ~ '`.`' ~ table ~ '` as select ' ~ names | join(', ')
            ~ ' from (select *, row_number() over (partition by ' ~ keys[table] | join(', ')
            ~ ' order by _seq desc) as _rank from ' ~ log ~ ') where _rank = 1'
        ) -%}
    {%- endfor -%}
    {{ return(statements) }}
{%- endmacro %}
