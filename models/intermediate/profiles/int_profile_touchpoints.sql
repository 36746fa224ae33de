{{ config(materialized='view') }}
{#-
    Every behavioural touch (web and app events, store transactions, e-mail and SMS
    engagement, event badge scans) with the profile it resolves to, or null when none of
    its identifiers is in the identity map. Feeds profile activity and match-rate KPIs.
    Web and app events (every clickstream source, int_web_events_unioned), e-mail and SMS
    are resolved once, in the unified event stream (fct_customer_events; web: user_id,
    then device_id, then cookie_id), not joined to the identity map again; a view, so
    the 20M touches are never written a second time.
-#}
with

customer_events as (

    select * from {{ ref('fct_customer_events') }}

),

identity_map as (

    select * from {{ ref('dim_identity_map') }}

),

pos_transactions as (

    select * from {{ ref('stg_pos__transactions') }}

),

badge_scans as (

    select * from {{ ref('stg_events__badge_scans') }}

),

stream_touches as (

    select
        profile_id,
        channel,
        event_type,
        occurred_at,
        order_id,
        revenue,
        cast(null as {{ dbt.type_string() }}) as store_id

    from customer_events
    where channel in ('web', 'app', 'email', 'sms')

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

    select * from stream_touches
    union all
    select * from store_touches
    union all
    select * from event_touches

)

select * from final
