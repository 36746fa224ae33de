{#- New loyalty member: an active loyalty membership enrolled in the last
    var('omniplay__trigger_new_member_days') days. Fires at enrolment; detail: loyalty id. -#}
with

loyalty_members as (

    select * from {{ ref('stg_loyalty__members') }}

),

identity_map as (

    select * from {{ ref('dim_identity_map') }}

),

as_of as (

    select {{ omniplay.as_of_timestamp() }} as as_of_at

),

new_members as (

    select
        identity_map.profile_id,
        loyalty_members.loyalty_id,
        loyalty_members.enrolled_at,
        loyalty_members.home_store_id,
        row_number() over (
            partition by identity_map.profile_id
            order by loyalty_members.enrolled_at desc, loyalty_members.loyalty_id
        ) as membership_rank

    from loyalty_members
    inner join identity_map
        on identity_map.identifier_type = 'loyalty_id'
        and loyalty_members.loyalty_id = identity_map.identifier_value
    cross join as_of
    where loyalty_members.status = 'active'
        and loyalty_members.enrolled_at <= as_of.as_of_at
        and loyalty_members.enrolled_at > {{ dbt.dateadd('day', -1 * var('omniplay__trigger_new_member_days'), 'as_of.as_of_at') }}

),

final as (

    select
        profile_id,
        'new_loyalty_member' as trigger_name,
        enrolled_at as fired_at,
        enrolled_at as reference_at,
        cast(null as {{ dbt.type_string() }}) as product_id,
        home_store_id as store_id,
        loyalty_id as detail,
        cast(null as {{ dbt.type_string() }}) as reference_event_id

    from new_members
    where membership_rank = 1

)

select * from final
