{#-
    Large-star on the oriented edges `edges` (hi > lo): every node u links each larger
    neighbour v to m(u), the smallest of u and its neighbours. For the edge (v, u) that is
    (v, m(u)), and m(u) is u's smallest lower neighbour if it has one. One output row per
    input edge; duplicates are left for the small-star's union to remove.
-#}
{% macro cc_large_star_sql(edges) -%}
with smallest_neighbour as (
    select
        hi as node,
        min(lo) as smallest
    from {{ edges }}
    group by hi
)

select
    edges.hi,
    coalesce(smallest_neighbour.smallest, edges.lo) as lo
from {{ edges }} as edges
left join smallest_neighbour
    on smallest_neighbour.node = edges.lo
{%- endmacro %}
