{#- The keyword that keeps a CTE inlined into each of its readers, where an engine would
    otherwise materialize a CTE read more than once (DuckDB, PostgreSQL): a copy of a
    large source costs more than scanning it again with only the columns each reader needs. -#}
{% macro inline_cte() -%}
    {{ return(adapter.dispatch('inline_cte', 'omniplay')()) }}
{%- endmacro %}

{% macro default__inline_cte() -%}
{%- endmacro %}

{% macro duckdb__inline_cte() -%}
    not materialized
{%- endmacro %}

{% macro postgres__inline_cte() -%}
    not materialized
{%- endmacro %}
