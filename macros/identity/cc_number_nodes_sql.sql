{#-
    Select of every distinct non-null node of the edge table `input` (`node_a`, `node_b`)
    with a dense bigint `id`. The ids carry no order: components are labelled with the
    smallest node id (text) at the end, so any numbering gives the same answer. With
    `integer_nodes` the nodes are already unique integers (a model's dense ids): each is
    its own id, with no numbering pass.
-#}
{% macro cc_number_nodes_sql(input, integer_nodes=false) -%}
    {{ return(adapter.dispatch('cc_number_nodes_sql', 'omniplay')(input, integer_nodes)) }}
{%- endmacro %}

{% macro default__cc_number_nodes_sql(input, integer_nodes=false) -%}
with endpoints as (
    select node_a as node from {{ input }} where node_a is not null
    union
    select node_b as node from {{ input }} where node_b is not null
)

select
    node,
    {{ 'node' if integer_nodes else omniplay.cc_unique_row_id() }} as id
from endpoints
{%- endmacro %}
