{#- Event badge scan follow-up: the profile's badge was scanned at an event in the last
    var('omniplay__trigger_badge_scan_days') days. One row per profile: the latest scan,
    with its event code and venue store. Fires at the scan. -#}
with

customer_events as (

    select * from {{ ref('fct_customer_events') }}

),

as_of as (

    select {{ omniplay.as_of_timestamp() }} as as_of_at

),

scans as (

    select
        customer_events.*,
        row_number() over (
            partition by customer_events.profile_id
            order by customer_events.occurred_at desc, customer_events.event_id desc
        ) as scan_rank

    from customer_events
    cross join as_of
    where customer_events.profile_id is not null
        and customer_events.event_type = 'badge_scan'
        and customer_events.occurred_at <= as_of.as_of_at
        and customer_events.occurred_at > {{ dbt.dateadd('day', -1 * var('omniplay__trigger_badge_scan_days'), 'as_of.as_of_at') }}

),

final as (

    select
        profile_id,
        'badge_scan_follow_up' as trigger_name,
        occurred_at as fired_at,
        occurred_at as reference_at,
        cast(null as {{ dbt.type_string() }}) as product_id,
        store_id,
        campaign_id as detail,
        event_id as reference_event_id

    from scans
    where scan_rank = 1

)

select * from final
