{#- Create the scratch table `relation` from `sql`: a temporary table by default. -#}
{% macro cc_create_scratch_table(relation, sql) -%}
    {{ return(adapter.dispatch('cc_create_scratch_table', 'omniplay')(relation, sql)) }}
{%- endmacro %}

{% macro default__cc_create_scratch_table(relation, sql) -%}
    {%- do omniplay.cc_run_sql("create temporary table " ~ relation ~ " as\n" ~ sql) -%}
{%- endmacro %}

{#- Autovacuum never analyzes temporary tables: without statistics the planner guesses row counts and can pick nested loops. -#}
{% macro postgres__cc_create_scratch_table(relation, sql) -%}
    {%- do omniplay.cc_run_sql("create temporary table " ~ relation ~ " as\n" ~ sql) -%}
    {%- do omniplay.cc_run_sql("analyze " ~ relation) -%}
{%- endmacro %}
