{#- The identity guards' audit: every cut edge and why, plus identifiers that stayed
    out of the graph and components still over a per-type limit. -#}
with

edges as (

    select * from {{ ref('int_identity_edges') }}

),

nodes as (

    select * from {{ ref('int_identity_nodes') }}

),

registry as (

    select * from {{ ref('int_identity_profile_registry') }}

),

cut_edges as (

    select
        edges.cut_reason as guard,
        edges.type_a || ':' || edges.type_b as detail,
        edges.type_a || ':' || nodes_a.identifier_value as node_a,
        edges.type_b || ':' || nodes_b.identifier_value as node_b,
        cast(null as {{ dbt.type_string() }}) as profile_id,
        edges.records as evidence

    from edges
    inner join nodes as nodes_a
        on edges.node_a = nodes_a.node
    inner join nodes as nodes_b
        on edges.node_b = nodes_b.node
    where not edges.is_linked

),

{#- Limits are enforced per identifier; a merge through a longer path can still put two
    anchors of one type in a profile. Those profiles are reported, never silently kept. -#}
over_limit_profiles as (

    select
        'unresolved_limit_' || identifier_type as guard,
        cast(count(*) as {{ dbt.type_string() }}) || ' ' || identifier_type || ' in one profile' as detail,
        cast(null as {{ dbt.type_string() }}) as node_a,
        cast(null as {{ dbt.type_string() }}) as node_b,
        profile_id,
        count(*) as evidence

    from registry
    where identifier_type in ('{{ var("omniplay__identity_limits").keys() | join("', '") }}')
    group by profile_id, identifier_type
    having count(*) > max(case identifier_type
        {%- for identifier_type, limit in var('omniplay__identity_limits').items() %}
        when '{{ identifier_type }}' then {{ limit | int }}
        {%- endfor %}
    end)

),

final as (

    select * from cut_edges
    union all
    select * from over_limit_profiles

)

select * from final
