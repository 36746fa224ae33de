{#-
    The distinct oriented edges `edges` with `is_finished`: true for every edge of a
    component that is already a star, i.e. its root r (the `lo`) is nobody's child and each
    child of r touches no other edge. Both passes leave such a star unchanged, so it can
    leave the working set; when no edge is left, the solver has converged.
-#}
{% macro cc_flag_finished_sql(edges) -%}
with endpoints as (
    select hi as node from {{ edges }}
    union all
    select lo as node from {{ edges }}
),

degrees as (
    select
        node,
        count(*) as degree
    from endpoints
    group by node
),

with_child_degree as (
    select
        edges.hi,
        edges.lo,
        degrees.degree as hi_degree
    from {{ edges }} as edges
    inner join degrees
        on degrees.node = edges.hi
),

{#- r has as many edges as children exactly when it is nobody's child itself. -#}
finished_roots as (
    select with_child_degree.lo
    from with_child_degree
    inner join degrees
        on degrees.node = with_child_degree.lo
    group by with_child_degree.lo, degrees.degree
    having max(with_child_degree.hi_degree) = 1 and count(*) = degrees.degree
)

select
    with_child_degree.hi,
    with_child_degree.lo,
    finished_roots.lo is not null as is_finished
from with_child_degree
left join finished_roots
    on finished_roots.lo = with_child_degree.lo
{%- endmacro %}
