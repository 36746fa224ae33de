{#- Spark: Parquet tables cannot delete rows, so the rows to keep are written to a new
    table that then replaces `relation`. Runs the statements itself (a hook may hold only
    one statement on Spark) and returns no SQL. -#}
{% macro spark__delete_where(relation, condition) -%}
    {%- if execute -%}
        {%- set kept = relation.incorporate(path={'identifier': relation.identifier ~ '__omniplay_kept'}) -%}
        {%- do run_query('drop table if exists ' ~ kept) -%}
        {%- do run_query('create table ' ~ kept ~ ' using parquet as select * from ' ~ relation
                         ~ ' where not coalesce(' ~ condition ~ ', false)') -%}
        {%- do run_query('drop table ' ~ relation) -%}
        {%- do run_query('alter table ' ~ kept ~ ' rename to ' ~ relation) -%}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}
