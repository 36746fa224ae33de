{{ config(materialized='connected_components', cc_integer_nodes=true) }}
{#-
    Connected components of the guarded identity graph (large-star/small-star, see
    macros/identity/connected_components.sql). Every node that is not excluded appears,
    isolated ones through a self-loop; `component` is the smallest node of its component,
    a canonical label only: stable profile ids are assigned in int_identity_profile_registry.
    The nodes are int_identity_observations' dense bigint ids, so the solver uses them as
    they are (cc_integer_nodes) instead of numbering them again.
-#}
with

nodes as (

    select * from {{ ref('int_identity_nodes') }}

),

edges as (

    select * from {{ ref('int_identity_edges') }}

),

linked_edges as (

    select node_a, node_b
    from edges
    where is_linked

),

isolated_nodes as (

    select node as node_a, node as node_b
    from nodes
    where not is_excluded

),

final as (

    select * from linked_edges
    union all
    select * from isolated_nodes

)

select * from final
