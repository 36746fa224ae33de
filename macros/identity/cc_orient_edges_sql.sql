{#- Select of the distinct edges of `input` between two different nodes, as node ids oriented `hi` > `lo`. -#}
{% macro cc_orient_edges_sql(input, nodes) -%}
select distinct
    greatest(a.id, b.id) as hi,
    least(a.id, b.id) as lo
from {{ input }} as edges
inner join {{ nodes }} as a
    on a.node = edges.node_a
inner join {{ nodes }} as b
    on b.node = edges.node_b
where a.id <> b.id
{%- endmacro %}
