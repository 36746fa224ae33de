{#- Spark has no temporary tables: scratch steps are Parquet tables (in the session's
    current database), which also cuts each round's lineage; cc_drop_scratch_tables drops
    them as soon as the next step exists. -#}
{% macro spark__cc_create_scratch_table(relation, sql) -%}
    {%- do omniplay.cc_run_sql("create table " ~ relation ~ " using parquet as\n" ~ sql) -%}
{%- endmacro %}
