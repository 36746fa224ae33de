{#-
    The sum of an amount column, exact and so reproducible: each value is summed as a
    decimal with 6 places and the total returned as a double. A sum of doubles depends on
    the order the rows arrive in, which parallel engines (DuckDB's threads, Spark's
    partitions) vary from run to run: the last bits of totals, and any rank or quintile
    over them, changed between builds of the same data. Amounts of a trillion or more
    fail the cast loudly instead of losing precision.
-#}
{% macro sum_money(amount) -%}
    cast(sum(cast({{ amount }} as decimal(18, 6))) as {{ omniplay.type_double() }})
{%- endmacro %}
