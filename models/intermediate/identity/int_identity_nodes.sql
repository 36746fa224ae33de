{#-
    One row per identifier of the graph (`node`: its dense id from
    int_identity_observations) with when it was first and last seen, and whether the
    guards excluded it from linking altogether (a shared or junk value gets no profile:
    it would otherwise become a contactable profile of its own).
-#}
with

observations as (

    select * from {{ ref('int_identity_observations') }}

),

edges as (

    select * from {{ ref('int_identity_edges') }}

),

shared_nodes as (

    select node_a as node from edges where cut_reason = 'shared_value'
    union
    select node_b as node from edges where cut_reason = 'shared_value'

),

{#- An edge is cut as shared_value from the shared end only; the anchor end keeps its
    other links, so only nodes that are themselves over the anchor threshold count. -#}
over_threshold as (

    select shared_nodes.node
    from shared_nodes
    inner join (
        select node_a as node, type_a as node_type, node_b as neighbor, type_b as neighbor_type from edges
        union all
        select node_b, type_b, node_a, type_a from edges
    ) as directed
        on shared_nodes.node = directed.node
    where directed.node_type not in ('{{ omniplay.identity_identifier_types()[:3] | join("', '") }}')
        and directed.neighbor_type in ('{{ omniplay.identity_identifier_types()[:3] | join("', '") }}')
    group by shared_nodes.node
    having count(distinct directed.neighbor) > {{ var('omniplay__identity_max_anchors_per_identifier') | int }}

),

nodes as (

    select
        node_id as node,
        min(identifier_type) as identifier_type,
        min(identifier_value) as identifier_value,
        min(first_observed_at) as first_seen_at,
        max(observed_at) as last_seen_at,
        count(*) as records

    from observations
    group by node_id

),

final as (

    select
        nodes.*,
        over_threshold.node is not null as is_excluded

    from nodes
    left join over_threshold
        on nodes.node = over_threshold.node

)

select * from final
