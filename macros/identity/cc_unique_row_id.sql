{#- A unique bigint for each row of a select, in no particular order (dense on DuckDB and
    PostgreSQL). Spark refuses row_number() without an order, and an order would put every
    row through one partition: there monotonically_increasing_id(), unique but not dense. -#}
{% macro cc_unique_row_id() -%}
    {{ return(adapter.dispatch('cc_unique_row_id', 'omniplay')()) }}
{%- endmacro %}

{% macro default__cc_unique_row_id() -%}
    row_number() over ()
{%- endmacro %}

{% macro spark__cc_unique_row_id() -%}
    monotonically_increasing_id()
{%- endmacro %}
