{#- 64-bit float type (dbt's type_float() is a 32-bit FLOAT on DuckDB, too coarse for money and coordinates). -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'omniplay')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double precision
{%- endmacro %}
