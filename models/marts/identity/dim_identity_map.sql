{#- Every resolved identifier and the unified profile it belongs to. -#}
with

registry as (

    select * from {{ ref('int_identity_profile_registry') }}

),

nodes as (

    select * from {{ ref('int_identity_nodes') }}

),

final as (

    select
        registry.identifier_type,
        registry.identifier_value,
        registry.profile_id,
        nodes.first_seen_at,
        nodes.last_seen_at,
        nodes.records,
        registry.assigned_at

    from registry
    inner join nodes
        on registry.node = nodes.node

)

select * from final
