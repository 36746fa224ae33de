{#- Product viewed twice with a high purchase score: the profile viewed one product at
    least var('omniplay__trigger_repeat_view_min_views') times in the last
    var('omniplay__trigger_repeat_view_lookback_days') days, has not bought it since the
    first of those views, and its dim_profiles.purchase_propensity is at least
    var('omniplay__trigger_repeat_view_min_propensity'). One product per profile: the
    most viewed, then the most recently viewed. Fires at the last view. -#}
{%- set min_views = var('omniplay__trigger_repeat_view_min_views') -%}
{%- set lookback_days = var('omniplay__trigger_repeat_view_lookback_days') -%}

with

customer_events as (

    select * from {{ ref('fct_customer_events') }}

),

profiles as (

    select * from {{ ref('dim_profiles') }}

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
        and customer_events.event_type in ('product_view', 'purchase')

),

views as (

    select
        profile_id,
        product_id,
        count(*) as views,
        min(occurred_at) as first_viewed_at,
        max(occurred_at) as last_viewed_at,
        max(event_id) as last_event_id

    from recent_events
    where event_type = 'product_view'
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

candidates as (

    select
        views.*,
        row_number() over (
            partition by views.profile_id
            order by views.views desc, views.last_viewed_at desc, views.product_id
        ) as product_rank

    from views
    left join purchases
        on views.profile_id = purchases.profile_id
        and views.product_id = purchases.product_id
    where views.views >= {{ min_views }}
        and (purchases.last_purchased_at is null or purchases.last_purchased_at < views.first_viewed_at)

),

final as (

    select
        candidates.profile_id,
        'repeat_product_view' as trigger_name,
        candidates.last_viewed_at as fired_at,
        candidates.last_viewed_at as reference_at,
        candidates.product_id,
        cast(null as {{ dbt.type_string() }}) as store_id,
        cast(candidates.views as {{ dbt.type_string() }}) as detail,
        cast(null as {{ dbt.type_string() }}) as reference_event_id

    from candidates
    inner join profiles
        on candidates.profile_id = profiles.profile_id
    where candidates.product_rank = 1
        and profiles.purchase_propensity >= {{ var('omniplay__trigger_repeat_view_min_propensity') }}

)

select * from final
