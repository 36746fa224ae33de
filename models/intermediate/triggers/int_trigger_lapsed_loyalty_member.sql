{#- Lapsed loyalty member: a profile holding an active loyalty membership whose journey
    stage is `lapsed` now (no purchase for var('omniplay__journey_lapse_days') days).
    Fires when the profile lapsed; detail: the membership tier. -#}
with

current_stages as (

    select * from {{ ref('int_profile_current_stage') }}

),

loyalty_members as (

    select * from {{ ref('stg_loyalty__members') }}

),

identity_map as (

    select * from {{ ref('dim_identity_map') }}

),

active_members as (

    select
        identity_map.profile_id,
        loyalty_members.loyalty_id,
        loyalty_members.tier,
        loyalty_members.home_store_id,
        row_number() over (
            partition by identity_map.profile_id
            order by loyalty_members.enrolled_at desc, loyalty_members.loyalty_id
        ) as membership_rank

    from loyalty_members
    inner join identity_map
        on identity_map.identifier_type = 'loyalty_id'
        and loyalty_members.loyalty_id = identity_map.identifier_value
    where loyalty_members.status = 'active'

),

final as (

    select
        current_stages.profile_id,
        'lapsed_loyalty_member' as trigger_name,
        current_stages.journey_stage_since as fired_at,
        current_stages.journey_stage_since as reference_at,
        cast(null as {{ dbt.type_string() }}) as product_id,
        active_members.home_store_id as store_id,
        active_members.tier as detail,
        cast(null as {{ dbt.type_string() }}) as reference_event_id

    from current_stages
    inner join active_members
        on current_stages.profile_id = active_members.profile_id
        and active_members.membership_rank = 1
    where current_stages.journey_stage = 'lapsed'

)

select * from final
