{#- Drop the scratch tables `relations` (a list) if they exist. -#}
{% macro cc_drop_scratch_tables(relations) -%}
    {{ return(adapter.dispatch('cc_drop_scratch_tables', 'omniplay')(relations)) }}
{%- endmacro %}

{% macro default__cc_drop_scratch_tables(relations) -%}
    {%- for relation in relations -%}
        {%- do omniplay.cc_run_sql("drop table if exists " ~ relation) -%}
    {%- endfor -%}
{%- endmacro %}
