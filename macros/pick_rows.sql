{#- A WHERE predicate keeping the rows of `relation` (read as `alias`) for which
    `condition` holds, for a few rows scattered over a wide table. DuckDB: through row
    ids, so the condition is evaluated in a scan of its own columns and only the picked
    rows' other columns are fetched (30k of fct_customer_events' 21M rows: ~0.8 instead
    of ~2.7 CPU-s, when an OR or an IN subquery would otherwise read every column of
    every row). Elsewhere: the condition itself. -#}
{% macro pick_rows(relation, alias, condition) -%}
    {{ return(adapter.dispatch('pick_rows', 'omniplay')(relation, alias, condition)) }}
{%- endmacro %}

{% macro default__pick_rows(relation, alias, condition) -%}
    {{ condition }}
{%- endmacro %}

{% macro duckdb__pick_rows(relation, alias, condition) -%}
    {{ alias }}.rowid in (select {{ alias }}.rowid from {{ relation }} as {{ alias }} where {{ condition }})
{%- endmacro %}
