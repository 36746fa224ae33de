{#-
    Small-star on the oriented edges `edges` (hi > lo): every node u links itself and each
    smaller neighbour v to m(u), the smallest of them, dropping the self-loop (m(u), m(u)).
    Distinct output (the union removes duplicates).
-#}
{% macro cc_small_star_sql(edges) -%}
with smallest_neighbour as (
    select
        hi as node,
        min(lo) as smallest
    from {{ edges }}
    group by hi
)

select
    node as hi,
    smallest as lo
from smallest_neighbour

union

select
    edges.lo as hi,
    smallest_neighbour.smallest as lo
from {{ edges }} as edges
inner join smallest_neighbour
    on smallest_neighbour.node = edges.hi
where edges.lo <> smallest_neighbour.smallest
{%- endmacro %}
