{#- Append the rows of `sql` (columns `hi`, `lo`) to the scratch table `relation` (dispatched; Spark would rebuild a view). -#}
{% macro cc_insert_into_scratch(relation, sql) -%}
    {{ return(adapter.dispatch('cc_insert_into_scratch', 'omniplay')(relation, sql)) }}
{%- endmacro %}

{% macro default__cc_insert_into_scratch(relation, sql) -%}
    {%- do omniplay.cc_run_sql("insert into " ~ relation ~ " (hi, lo)\n" ~ sql) -%}
{%- endmacro %}

{#- The table was analyzed empty: refresh its statistics so the final joins are not planned for zero rows. -#}
{% macro postgres__cc_insert_into_scratch(relation, sql) -%}
    {%- do omniplay.cc_run_sql("insert into " ~ relation ~ " (hi, lo)\n" ~ sql) -%}
    {%- do omniplay.cc_run_sql("analyze " ~ relation) -%}
{%- endmacro %}
