{#- Spark: ids from monotonically_increasing_id(), unique but not dense, assigned per
    partition without the single-partition sort an unordered row_number() would need
    (Spark refuses row_number() without an order). The solver only needs unique ids. -#}
{% macro spark__cc_number_nodes_sql(input) -%}
with endpoints as (
    select node_a as node from {{ input }} where node_a is not null
    union
    select node_b as node from {{ input }} where node_b is not null
)

select
    node,
    monotonically_increasing_id() as id
from endpoints
{%- endmacro %}
