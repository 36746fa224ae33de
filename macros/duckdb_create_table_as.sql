{#-
    DuckDB's table create (dbt-duckdb's duckdb__create_table_as), with one addition: a model
    configured `uncompressed_text: true` stores its text columns uncompressed (`using
    compression uncompressed`), whatever the database-wide setting. Its columns are read
    from the query (`describe`), the table is created with them, then filled. The large
    staging and identity tables hold mostly random ids (event, cookie, device ids) that
    DuckDB's dictionary/FSST compression barely shrinks at a high write cost; the other
    tables keep DuckDB's compression (smaller files, cheaper scattered reads). Every other
    case (temporary tables, contracts, partitioning, a SQL header, Python models) is
    dbt-duckdb's own create, unchanged. Only DuckDB reads the config.
-#}
{% macro duckdb__create_table_as(temporary, relation, compiled_code, language='sql', partitioned_by=none, sorted_by=none) -%}
    {%- if language == 'sql' and not temporary and config.get('uncompressed_text', false)
          and not config.get('contract').enforced and not config.get('sql_header', none)
          and not partitioned_by and not sorted_by -%}
        {{- omniplay.duckdb_create_table_uncompressed_text(relation, compiled_code) -}}
    {%- else -%}
        {{- dbt.duckdb__create_table_as(temporary, relation, compiled_code, language, partitioned_by, sorted_by) -}}
    {%- endif -%}
{%- endmacro %}

{#- `create table` with the query's columns, text ones uncompressed, then `insert` the rows. -#}
{% macro duckdb_create_table_uncompressed_text(relation, compiled_code) -%}
    {%- set columns = run_query('describe ' ~ compiled_code).rows if execute else [] -%}
    create table {{ relation }} (
    {%- for column in columns %}
        {{ adapter.quote(column[0]) }} {{ column[1] }}{{ ' using compression uncompressed' if column[1] == 'VARCHAR' }}
        {{- ',' if not loop.last }}
    {%- endfor %}
    );
    insert into {{ relation }}
    select * from (
        {{ compiled_code }}
    ) as model_rows
{%- endmacro %}
