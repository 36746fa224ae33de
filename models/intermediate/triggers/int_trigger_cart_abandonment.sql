{#- Cart abandonment: a profile's latest add_to_cart of the last
    var('omniplay__trigger_cart_abandonment_lookback_days') days is at least
    var('omniplay__trigger_cart_abandonment_hours') hours old and no purchase (online or in
    store) followed it. Fires N hours after that add_to_cart. -#}
{%- set hours = var('omniplay__trigger_cart_abandonment_hours') -%}
{%- set lookback_days = var('omniplay__trigger_cart_abandonment_lookback_days') -%}

with

customer_events as (

    select * from {{ ref('fct_customer_events') }}

),

as_of as (

    select {{ omniplay.as_of_timestamp() }} as as_of_at

),

recent_events as (

    select customer_events.*

    from customer_events
    cross join as_of
    where customer_events.profile_id is not null
        and customer_events.occurred_at <= as_of.as_of_at
        and customer_events.occurred_at > {{ dbt.dateadd('day', -1 * lookback_days, 'as_of.as_of_at') }}
        and customer_events.event_type in ('add_to_cart', 'purchase')

),

latest_carts as (

    select
        profile_id,
        event_id,
        product_id,
        channel,
        occurred_at as added_at,
        row_number() over (partition by profile_id order by occurred_at desc, event_id desc) as cart_rank

    from recent_events
    where event_type = 'add_to_cart'

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
        latest_carts.profile_id,
        'cart_abandonment' as trigger_name,
        {{ dbt.dateadd('hour', hours, 'latest_carts.added_at') }} as fired_at,
        latest_carts.added_at as reference_at,
        latest_carts.product_id,
        cast(null as {{ dbt.type_string() }}) as store_id,
        latest_carts.channel as detail,
        latest_carts.event_id as reference_event_id

    from latest_carts
    cross join as_of
    left join last_purchases
        on latest_carts.profile_id = last_purchases.profile_id
    where latest_carts.cart_rank = 1
        and latest_carts.added_at <= {{ dbt.dateadd('hour', -1 * hours, 'as_of.as_of_at') }}
        and (last_purchases.last_purchased_at is null or last_purchases.last_purchased_at < latest_carts.added_at)

)

select * from final
