{#-
    Per profile: when it was first and last seen in each channel, its orders and revenue
    by channel family (store, online), and the recent intent signals the propensity score
    reads. Computed from staging through the identity map so the golden record does not
    wait on the incremental event stream.
-#}
{%- set channels = ['web', 'app', 'store', 'email', 'sms', 'event'] -%}
{%- set revenue_12m -%}
    case
        when event_type in ('purchase', 'return') and occurred_at >= {{ omniplay.as_of_timestamp() }} - interval '365 days' then revenue
    end
{%- endset %}

{#- Inlined into each reader (inline_cte), not materialized: writing the 20M touches to a
    temporary result cost more than reading the view again in each reader, with its filters
    (store, purchase) pushed into the scan. -#}
with

touches as {{ omniplay.inline_cte() }} (

    select * from {{ ref('int_profile_touchpoints') }}
    where profile_id is not null

),

{#- Home store: the store with the most visits in the last 12 months (ties: the most
    recent visit, then the id). -#}
store_visits as (

    select
        profile_id,
        store_id,
        count(order_id) as visits,
        max(last_visit_at) as last_visit_at

    {#- One row per (profile, store, order) first, then count them: a count(distinct) costs
        DuckDB a second grouping and a join back. count(order_id) leaves out the group of
        touches without an order id, as count(distinct) did. #}
    from (
        select profile_id, store_id, order_id, max(occurred_at) as last_visit_at
        from touches
        where channel = 'store'
            and store_id is not null
            and occurred_at > {{ omniplay.as_of_timestamp() }} - interval '365 days'
            and occurred_at <= {{ omniplay.as_of_timestamp() }}
        group by profile_id, store_id, order_id
    ) as store_orders
    group by profile_id, store_id

),

home_stores as (

    select
        profile_id,
        store_id as most_visited_store_id,
        visits as most_visited_store_visits_12m

    from (
        select
            *,
            row_number() over (partition by profile_id order by visits desc, last_visit_at desc, store_id) as store_rank
        from store_visits
    ) as ranked
    where store_rank = 1

),

aggregated as (

    select
        profile_id,
        {%- for channel in channels %}
        min(case when channel = '{{ channel }}' then occurred_at end) as first_seen_{{ channel }}_at,
        max(case when channel = '{{ channel }}' then occurred_at end) as last_seen_{{ channel }}_at,
        {%- endfor %}
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at,
        {#- Exact sums (sum_money): a float sum's last bits depend on the order rows arrive in. #}
        coalesce({{ omniplay.sum_money("case when event_type in ('purchase', 'return') and channel = 'store' then revenue end") }}, 0)
            as store_revenue,
        coalesce({{ omniplay.sum_money("case when event_type = 'purchase' and channel in ('web', 'app') then revenue end") }}, 0)
            as online_revenue,
        min(case when event_type = 'purchase' then occurred_at end) as first_purchase_at,
        max(case when event_type = 'purchase' then occurred_at end) as last_purchase_at,
        coalesce({{ omniplay.sum_money(revenue_12m) }}, 0) as revenue_12m,
        count(case
            when event_type = 'product_view' and occurred_at >= {{ omniplay.as_of_timestamp() }} - interval '14 days' then 1
        end) as product_views_14d,
        count(case
            when event_type = 'add_to_cart' and occurred_at >= {{ omniplay.as_of_timestamp() }} - interval '14 days' then 1
        end) as add_to_carts_14d,
        count(case
            when event_type = 'click' and channel in ('email', 'sms')
                and occurred_at >= {{ omniplay.as_of_timestamp() }} - interval '30 days' then 1
        end) as message_clicks_30d

    from touches
    where occurred_at <= {{ omniplay.as_of_timestamp() }}
    group by profile_id

),

{#- Order counts over the purchases only, one row per (profile, order) first: distinct
    aggregates over every touch would hash each profile's whole stream once per count, and
    three count(distinct) over the purchases still built three hash tables. An order counts
    for a channel (or the last 12 months) when any of its purchase rows does. -#}
orders as (

    select
        profile_id,
        count(case when in_store then 1 end) as store_orders,
        count(case when online then 1 end) as online_orders,
        count(case when in_last_12m then 1 end) as orders_12m

    from (
        select
            profile_id,
            order_id,
            max(case when channel = 'store' then 1 else 0 end) = 1 as in_store,
            max(case when channel in ('web', 'app') then 1 else 0 end) = 1 as online,
            max(occurred_at) >= {{ omniplay.as_of_timestamp() }} - interval '365 days' as in_last_12m
        from touches
        where event_type = 'purchase'
            and occurred_at <= {{ omniplay.as_of_timestamp() }}
            and order_id is not null
        group by profile_id, order_id
    ) as profile_orders
    group by profile_id

),

final as (

    select
        aggregated.profile_id,
        {%- for channel in channels %}
        aggregated.first_seen_{{ channel }}_at,
        aggregated.last_seen_{{ channel }}_at,
        {%- endfor %}
        aggregated.first_seen_at,
        aggregated.last_seen_at,
        coalesce(orders.store_orders, 0) as store_orders,
        coalesce(orders.online_orders, 0) as online_orders,
        aggregated.store_revenue,
        aggregated.online_revenue,
        aggregated.first_purchase_at,
        aggregated.last_purchase_at,
        coalesce(orders.orders_12m, 0) as orders_12m,
        aggregated.revenue_12m,
        aggregated.product_views_14d,
        aggregated.add_to_carts_14d,
        aggregated.message_clicks_30d,
        home_stores.most_visited_store_id,
        home_stores.most_visited_store_visits_12m

    from aggregated
    left join orders
        on aggregated.profile_id = orders.profile_id
    left join home_stores
        on aggregated.profile_id = home_stores.profile_id

)

select * from final
