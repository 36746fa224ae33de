{#- Wishlist item back in stock at the home store: a product the profile wishlisted in
    the last var('omniplay__trigger_back_in_stock_lookback_days') days was restocked after
    the wishlist_add at the profile's home store (dim_profiles.home_store_id) - or at the
    online store, when var('omniplay__trigger_back_in_stock_include_online') - is on hand
    now, and the profile has not bought it since wishlisting. One product per profile:
    the latest restock. Fires at the restock. -#}
{%- set lookback_days = var('omniplay__trigger_back_in_stock_lookback_days') -%}

with

customer_events as (

    select * from {{ ref('fct_customer_events') }}

),

profiles as (

    select * from {{ ref('dim_profiles') }}

),

inventory as (

    select * from {{ ref('stg_products__inventory') }}

),

stores as (

    select * from {{ ref('stg_stores__stores') }}

),

as_of as (

    select {{ omniplay.as_of_timestamp() }} as as_of_at

),

recent_events as (

    select customer_events.*

    from customer_events
    cross join as_of
    where customer_events.profile_id is not null
        and customer_events.product_id is not null
        and customer_events.occurred_at <= as_of.as_of_at
        and customer_events.occurred_at > {{ dbt.dateadd('day', -1 * lookback_days, 'as_of.as_of_at') }}
        and customer_events.event_type in ('wishlist_add', 'purchase')

),

wishlisted as (

    select
        profile_id,
        product_id,
        min(occurred_at) as wishlisted_at

    from recent_events
    where event_type = 'wishlist_add'
    group by profile_id, product_id

),

purchases as (

    select
        profile_id,
        product_id,
        max(occurred_at) as last_purchased_at

    from recent_events
    where event_type = 'purchase'
    group by profile_id, product_id

),

{#- The stores whose shelves count for each profile. -#}
profile_stores as (

    select profile_id, home_store_id as store_id
    from profiles
    where home_store_id is not null

    {%- if var('omniplay__trigger_back_in_stock_include_online') %}

    union

    select profiles.profile_id, stores.store_id
    from profiles
    cross join stores
    where stores.is_online
    {%- endif %}

),

restocks as (

    select
        wishlisted.profile_id,
        wishlisted.product_id,
        wishlisted.wishlisted_at,
        inventory.store_id,
        inventory.last_restocked_at,
        inventory.on_hand,
        row_number() over (
            partition by wishlisted.profile_id
            order by inventory.last_restocked_at desc, wishlisted.product_id, inventory.store_id
        ) as restock_rank

    from wishlisted
    inner join profile_stores
        on wishlisted.profile_id = profile_stores.profile_id
    inner join inventory
        on profile_stores.store_id = inventory.store_id
        and wishlisted.product_id = inventory.product_id
    cross join as_of
    left join purchases
        on wishlisted.profile_id = purchases.profile_id
        and wishlisted.product_id = purchases.product_id
    where inventory.on_hand > 0
        and inventory.last_restocked_at > wishlisted.wishlisted_at
        and inventory.last_restocked_at <= as_of.as_of_at
        and (purchases.last_purchased_at is null or purchases.last_purchased_at < wishlisted.wishlisted_at)

),

final as (

    select
        profile_id,
        'back_in_stock' as trigger_name,
        last_restocked_at as fired_at,
        wishlisted_at as reference_at,
        product_id,
        store_id,
        cast(on_hand as {{ dbt.type_string() }}) as detail,
        cast(null as {{ dbt.type_string() }}) as reference_event_id

    from restocks
    where restock_rank = 1

)

select * from final
