{#- A filter on `alias` (a scan of `relation`) keeping the rows where `condition` (written
    against `alias`) holds. On DuckDB the rows are picked by row id: the condition is
    evaluated in a scan of only the columns it names, and the reader's other columns are
    fetched for the picked rows alone. A condition a scan cannot apply itself (a semi-join
    on a subquery) otherwise makes DuckDB read every column the reader needs for every
    row of the table before the join discards most of them. -#}
{% macro rows_where(relation, alias, condition) -%}
    {{ return(adapter.dispatch('rows_where', 'omniplay')(relation, alias, condition)) }}
{%- endmacro %}

{% macro default__rows_where(relation, alias, condition) -%}
    ({{ condition }})
{%- endmacro %}

{#- The subquery scans `relation` under the same alias, so the condition reads the same. -#}
{% macro duckdb__rows_where(relation, alias, condition) -%}
    {{ alias }}.rowid in (select {{ alias }}.rowid from {{ relation }} as {{ alias }} where {{ condition }})
{%- endmacro %}
