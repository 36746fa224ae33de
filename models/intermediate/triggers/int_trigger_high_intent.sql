{#- High intent: at least var('omniplay__trigger_high_intent_min_interactions') product
    interactions (view, add to cart, wishlist, checkout) within
    var('omniplay__trigger_high_intent_window_hours') hours, the latest such burst in the
    last var('omniplay__trigger_high_intent_lookback_days') days, and no purchase since the
    burst ended. Fires at the interaction that completed the burst. -#}
{%- set min_interactions = var('omniplay__trigger_high_intent_min_interactions') -%}
{%- set window_hours = var('omniplay__trigger_high_intent_window_hours') -%}
{%- set lookback_days = var('omniplay__trigger_high_intent_lookback_days') -%}

with

customer_events as (

    select * from {{ ref('fct_customer_events') }}

),

as_of as (

    select {{ omniplay.as_of_timestamp() }} as as_of_at

),

{#- The window needs the hours before the lookback too, to count a burst that began there. -#}
recent_events as (

    select customer_events.*

    from customer_events
    cross join as_of
    where customer_events.profile_id is not null
        and customer_events.occurred_at <= as_of.as_of_at
        and customer_events.occurred_at > {{ dbt.dateadd('hour', -24 * lookback_days - window_hours, 'as_of.as_of_at') }}
        and customer_events.event_type in ('product_view', 'add_to_cart', 'wishlist_add', 'checkout', 'purchase')

),

interactions as (

    select
        profile_id,
        event_id,
        product_id,
        occurred_at,
        count(*) over (
            partition by profile_id
            order by occurred_at
            range between interval '{{ window_hours }} hours' preceding and current row
        ) as interactions_in_window

    from recent_events
    where event_type <> 'purchase'

),

bursts as (

    select
        interactions.*,
        row_number() over (partition by profile_id order by occurred_at desc, event_id desc) as burst_rank

    from interactions
    cross join as_of
    where interactions_in_window >= {{ min_interactions }}
        and occurred_at > {{ dbt.dateadd('day', -1 * lookback_days, 'as_of.as_of_at') }}

),

last_purchases as (

    select
        profile_id,
        max(occurred_at) as last_purchased_at

    from recent_events
    where event_type = 'purchase'
    group by profile_id

),

final as (

    select
        bursts.profile_id,
        'high_intent' as trigger_name,
        bursts.occurred_at as fired_at,
        bursts.occurred_at as reference_at,
        bursts.product_id,
        cast(null as {{ dbt.type_string() }}) as store_id,
        cast(bursts.interactions_in_window as {{ dbt.type_string() }}) as detail,
        bursts.event_id as reference_event_id

    from bursts
    left join last_purchases
        on bursts.profile_id = last_purchases.profile_id
    where bursts.burst_rank = 1
        and (last_purchases.last_purchased_at is null or last_purchases.last_purchased_at < bursts.occurred_at)

)

select * from final
