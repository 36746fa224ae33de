{#- The keyword that keeps a CTE from being inlined into its reader, where an engine
    inlines by substitution: PostgreSQL (12+) would otherwise fold fct_play_decisions'
    chain of steps into one expression tree that grows exponentially with the number
    of plays. DuckDB plans the chain well as it is: nothing there. -#}
{% macro materialized_cte() -%}
    {{ return(adapter.dispatch('materialized_cte', 'omniplay')()) }}
{%- endmacro %}

{% macro default__materialized_cte() -%}
{%- endmacro %}

{% macro postgres__materialized_cte() -%}
    materialized
{%- endmacro %}
