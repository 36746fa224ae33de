{#-
    Every behavioural touch (web and app events, store transactions, e-mail and SMS
    engagement, event badge scans) with the profile it resolves to, or null when none of
    its identifiers is in the identity map. Feeds profile activity and match-rate KPIs.
-#}
with

identity_map as (

    select * from {{ ref('dim_identity_map') }}

),

web_events as (

    select * from {{ ref('int_web_events_unioned') }}
    where is_customer_event

),

pos_transactions as (

    select * from {{ ref('stg_pos__transactions') }}

),

email_events as (

    select * from {{ ref('stg_email__events') }}

),

sms_events as (

    select * from {{ ref('stg_sms__events') }}

),

badge_scans as (

    select * from {{ ref('stg_events__badge_scans') }}

),

{#- A login names the person; a cookie or device only the browser or phone. -#}
web_touches as (

    select
        coalesce(by_user.profile_id, by_cookie.profile_id, by_device.profile_id) as profile_id,
        web_events.platform as channel,
        web_events.event_type,
        web_events.occurred_at,
        web_events.order_id,
        web_events.revenue,
        cast(null as {{ dbt.type_string() }}) as store_id

    from web_events
    left join identity_map as by_user
        on by_user.identifier_type = 'user_id'
        and web_events.user_id = by_user.identifier_value
    left join identity_map as by_cookie
        on by_cookie.identifier_type = 'cookie_id'
        and web_events.cookie_id = by_cookie.identifier_value
    left join identity_map as by_device
        on by_device.identifier_type = 'device_id'
        and web_events.device_id = by_device.identifier_value

),

store_touches as (

    select
        coalesce(by_loyalty.profile_id, by_card.profile_id) as profile_id,
        'store' as channel,
        case when pos_transactions.is_return then 'return' else 'purchase' end as event_type,
        pos_transactions.occurred_at,
        pos_transactions.transaction_id as order_id,
        pos_transactions.total_amount as revenue,
        pos_transactions.store_id

    from pos_transactions
    left join identity_map as by_loyalty
        on by_loyalty.identifier_type = 'loyalty_id'
        and pos_transactions.loyalty_id = by_loyalty.identifier_value
    left join identity_map as by_card
        on by_card.identifier_type = 'card_token'
        and pos_transactions.card_token = by_card.identifier_value

),

email_touches as (

    select
        identity_map.profile_id,
        'email' as channel,
        email_events.event_type,
        email_events.occurred_at,
        cast(null as {{ dbt.type_string() }}) as order_id,
        cast(null as {{ omniplay.type_double() }}) as revenue,
        cast(null as {{ dbt.type_string() }}) as store_id

    from email_events
    left join identity_map
        on identity_map.identifier_type = 'email'
        and email_events.email = identity_map.identifier_value

),

sms_touches as (

    select
        identity_map.profile_id,
        'sms' as channel,
        sms_events.event_type,
        sms_events.occurred_at,
        cast(null as {{ dbt.type_string() }}) as order_id,
        cast(null as {{ omniplay.type_double() }}) as revenue,
        cast(null as {{ dbt.type_string() }}) as store_id

    from sms_events
    left join identity_map
        on identity_map.identifier_type = 'phone'
        and sms_events.phone = identity_map.identifier_value

),

event_touches as (

    select
        identity_map.profile_id,
        'event' as channel,
        'badge_scan' as event_type,
        badge_scans.scanned_at as occurred_at,
        cast(null as {{ dbt.type_string() }}) as order_id,
        cast(null as {{ omniplay.type_double() }}) as revenue,
        cast(null as {{ dbt.type_string() }}) as store_id

    from badge_scans
    left join identity_map
        on identity_map.identifier_type = 'badge_id'
        and badge_scans.badge_id = identity_map.identifier_value

),

final as (

    select * from web_touches
    union all
    select * from store_touches
    union all
    select * from email_touches
    union all
    select * from sms_touches
    union all
    select * from event_touches

)

select * from final
