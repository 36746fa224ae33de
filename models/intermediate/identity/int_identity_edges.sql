{#-
    Edges of the identity graph with the guards applied. Within each record the centre
    identifier (strongest type) links to every other identifier of the record; one row
    per undirected pair, with its evidence. Guards, evaluated from both ends of an edge:

    - shared_value: a non-anchor identifier (email, phone, card, cookie, ...) seen with
      more than var omniplay__identity_max_anchors_per_identifier distinct person anchors
      (crm_id, loyalty_id, user_id) is a shared or junk value: it links nothing.
    - conflicting_anchors: a non-anchor identifier seen with more anchors of one type than
      that type's limit (a household e-mail on two CRM records) keeps only its edge to the
      strongest anchor; the weaker edges are cut.
    - limit_<type>: an anchor with more neighbours of a type than the type's limit
      (var omniplay__identity_limits) keeps the strongest ones.

    Strength: records observing the pair, then the most recent observation, then the id.
    Cut edges stay here with is_linked = false and the reason, for the audit.
-#}
{%- set anchor_types = omniplay.identity_identifier_types()[:3] -%}
{%- set limits = var('omniplay__identity_limits') -%}

with

observations as (

    select * from {{ ref('int_identity_observations') }}

),

{#- Each record links its centre to every other identifier it holds (one row per
    record and identifier, so the rows of a pair are its records). -#}
star_edges as (

    select
        centre_node_id as centre_node,
        centre_type,
        node_id as other_node,
        identifier_type as other_type,
        times_seen,
        observed_at

    from observations
    where node_id <> centre_node_id

),

pairs as (

    select
        case when centre_node < other_node then centre_node else other_node end as node_a,
        case when centre_node < other_node then centre_type else other_type end as type_a,
        case when centre_node < other_node then other_node else centre_node end as node_b,
        case when centre_node < other_node then other_type else centre_type end as type_b,
        count(*) as records,
        sum(times_seen) as observations,
        min(observed_at) as first_seen_at,
        max(observed_at) as last_seen_at

    from star_edges
    group by 1, 2, 3, 4

),

directed as (

    select node_a as node, type_a as node_type, node_b as neighbor, type_b as neighbor_type, records, observations, last_seen_at
    from pairs
    union all
    select node_b as node, type_b as node_type, node_a as neighbor, type_a as neighbor_type, records, observations, last_seen_at
    from pairs

),

per_type_counts as (

    select node, node_type, neighbor_type, count(*) as neighbors
    from directed
    group by node, node_type, neighbor_type

),

neighbor_counts as (

    select
        node,
        sum(case when neighbor_type in ('{{ anchor_types | join("', '") }}') then neighbors else 0 end) as anchor_neighbors,
        max(case
            {%- for identifier_type, limit in limits.items() if identifier_type in anchor_types %}
            when neighbor_type = '{{ identifier_type }}' and neighbors > {{ limit | int }} then 1
            {%- endfor %}
            else 0
        end) as has_anchor_conflict

    from per_type_counts
    where node_type not in ('{{ anchor_types | join("', '") }}')
    group by node

),

{#- Only the few identifiers over a threshold or limit can lose an edge: their edges
    alone are ranked (a window over every edge would sort all of them). -#}
shared_value_cuts as (

    select
        directed.node,
        directed.neighbor,
        'shared_value' as cut_reason

    from directed
    inner join neighbor_counts
        on directed.node = neighbor_counts.node
    where neighbor_counts.anchor_neighbors > {{ var('omniplay__identity_max_anchors_per_identifier') | int }}

),

{#- A non-anchor identifier seen with more anchors of one type than that type's limit
    keeps only its strongest anchor edge. -#}
conflicting_anchor_cuts as (

    select
        node,
        neighbor,
        'conflicting_anchors' as cut_reason

    from (
        select
            directed.node,
            directed.neighbor,
            row_number() over (
                partition by directed.node
                order by directed.records desc, directed.observations desc, directed.last_seen_at desc, directed.neighbor
            ) as rank_among_anchors
        from directed
        inner join neighbor_counts
            on directed.node = neighbor_counts.node
        where neighbor_counts.anchor_neighbors <= {{ var('omniplay__identity_max_anchors_per_identifier') | int }}
            and neighbor_counts.has_anchor_conflict = 1
            and directed.neighbor_type in ('{{ anchor_types | join("', '") }}')
    ) as ranked
    where rank_among_anchors > 1

),

{#- An anchor with more neighbours of a type than the type's limit keeps the strongest. -#}
over_limit_types as (

    select node, neighbor_type, neighbors
    from per_type_counts
    where node_type in ('{{ anchor_types | join("', '") }}')
        and (
            1 = 0
            {%- for identifier_type, limit in limits.items() %}
            or (neighbor_type = '{{ identifier_type }}' and neighbors > {{ limit | int }})
            {%- endfor %}
        )

),

limit_cuts as (

    select
        node,
        neighbor,
        'limit_' || neighbor_type as cut_reason

    from (
        select
            directed.node,
            directed.neighbor,
            directed.neighbor_type,
            row_number() over (
                partition by directed.node, directed.neighbor_type
                order by directed.records desc, directed.observations desc, directed.last_seen_at desc, directed.neighbor
            ) as rank_within_type
        from directed
        inner join over_limit_types
            on directed.node = over_limit_types.node
            and directed.neighbor_type = over_limit_types.neighbor_type
    ) as ranked
    where
        1 = 0
        {%- for identifier_type, limit in limits.items() %}
        or (neighbor_type = '{{ identifier_type }}' and rank_within_type > {{ limit | int }})
        {%- endfor %}

),

cuts as (

    select * from shared_value_cuts
    union all
    select * from conflicting_anchor_cuts
    union all
    select * from limit_cuts

),

final as (

    select
        pairs.node_a,
        pairs.type_a,
        pairs.node_b,
        pairs.type_b,
        pairs.records,
        pairs.observations,
        pairs.first_seen_at,
        pairs.last_seen_at,
        coalesce(from_a.cut_reason, from_b.cut_reason) is null as is_linked,
        coalesce(from_a.cut_reason, from_b.cut_reason) as cut_reason

    from pairs
    left join cuts as from_a
        on pairs.node_a = from_a.node
        and pairs.node_b = from_a.neighbor
    left join cuts as from_b
        on pairs.node_b = from_b.node
        and pairs.node_a = from_b.neighbor

)

select * from final
