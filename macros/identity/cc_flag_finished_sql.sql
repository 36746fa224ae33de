{#-
    The distinct oriented edges `edges` with `is_finished`: true for every edge of a
    component that is already a star, i.e. its root r (the `lo`) has no parent and every
    child of r is clean: r is its only parent and it has no children. Both passes leave
    such a star unchanged, so it can leave the working set; when no edge is left, the
    solver has converged. Needs distinct edges (child counts are edge counts).
-#}
{% macro cc_flag_finished_sql(edges) -%}
with parents as (
    select
        hi as node,
        count(*) as parent_count,
        min(lo) as parent
    from {{ edges }}
    group by hi
),

children as (
    select
        lo as node,
        count(*) as child_count
    from {{ edges }}
    group by lo
),

clean_children as (
    select
        parents.parent as root,
        count(*) as clean_count
    from parents
    left join children
        on children.node = parents.node
    where parents.parent_count = 1 and children.node is null
    group by parents.parent
),

finished_roots as (
    select clean_children.root
    from clean_children
    inner join children
        on children.node = clean_children.root
        and children.child_count = clean_children.clean_count
    left join parents
        on parents.node = clean_children.root
    where parents.node is null
)

select
    edges.hi,
    edges.lo,
    finished_roots.root is not null as is_finished
from {{ edges }} as edges
left join finished_roots
    on finished_roots.root = edges.lo
{%- endmacro %}
