{#- Select of the distinct edges of `input` between two different nodes, as node ids oriented `hi` > `lo`
    (`integer_nodes`: the nodes are their own ids, see cc_number_nodes_sql, so no lookup of `nodes`). -#}
{% macro cc_orient_edges_sql(input, nodes, integer_nodes=false) -%}
{%- if integer_nodes -%}
select distinct
    greatest(node_a, node_b) as hi,
    least(node_a, node_b) as lo
from {{ input }}
where node_a <> node_b
{%- else -%}
select distinct
    greatest(a.id, b.id) as hi,
    least(a.id, b.id) as lo
from {{ input }} as edges
inner join {{ nodes }} as a
    on a.node = edges.node_a
inner join {{ nodes }} as b
    on b.node = edges.node_b
where a.id <> b.id
{%- endif -%}
{%- endmacro %}
