{#-
    Outcomes of every lift exposure (fct_play_exposures) within its attribution window
    (decided_at, decided_at + the play's conversion.window_days], in any channel:
    - converted: an event of one of the play's conversion.event_types (the global scope:
      a purchase); store_converted / online_converted: a purchase in a store / online
      (web or app); assisted_converted: a purchase in the other channel family than the
      message's (a store purchase after an e-mail or SMS play, an online one after a
      store task), measured alike in both arms;
    - revenue: purchase revenue (returns are not netted: they come later than most
      windows), split store_revenue / online_revenue;
    - margin: revenue less the product's unit_cost times quantity (stg_products__products;
      an unknown product counts at zero cost);
    - pre_revenue: purchase revenue in the var('omniplay__cuped_pre_days') days before the
      decision, the CUPED covariate (unaffected by the message).
    is_mature: the window has closed by the as-of time; only mature exposures are
    complete, later outcomes can still arrive for the others.
-#}
{%- set plays = omniplay.plays() -%}
{%- set pre_days = var('omniplay__cuped_pre_days') | int -%}

with

exposures as (

    select * from {{ ref('fct_play_exposures') }}

),

events as (

    select * from {{ ref('fct_customer_events') }}

),

products as (

    select * from {{ ref('stg_products__products') }}

),

as_of as (

    select {{ omniplay.as_of_timestamp() }} as as_of_at

),

conversion_types as (

    select 'all_plays' as play_id, 'purchase' as event_type
    {%- for play in plays %}
    {%- for event_type in (play.conversion or {}).get('event_types', ['purchase']) %}
    union all
    select '{{ play.id }}', '{{ event_type }}'
    {%- endfor %}
    {%- endfor %}

),

exposed_profiles as (

    select distinct profile_id from exposures

),

profile_events as (

    select
        events.profile_id,
        events.occurred_at,
        events.event_type,
        case when events.channel = 'store' then 'store' when events.channel in ('web', 'app') then 'online' end
            as purchase_channel,
        case when events.event_type = 'purchase' then coalesce(events.revenue, 0) else 0 end as revenue,
        case when events.event_type = 'purchase' then
            coalesce(events.revenue, 0) - coalesce(events.quantity, 1) * coalesce(products.unit_cost, 0)
        else 0 end as margin

    from events
    left join products
        on events.product_id = products.product_id
    where events.profile_id in (select exposed_profiles.profile_id from exposed_profiles)

),

windowed as (

    select
        exposures.run_date,
        exposures.play_id,
        exposures.profile_id,
        max(case when conversion_types.event_type is not null then 1 else 0 end) as converted,
        max(case when profile_events.event_type = 'purchase' and profile_events.purchase_channel = 'store' then 1 else 0 end)
            as store_converted,
        max(case when profile_events.event_type = 'purchase' and profile_events.purchase_channel = 'online' then 1 else 0 end)
            as online_converted,
        max(case when profile_events.event_type = 'purchase' and profile_events.purchase_channel
            <> case when exposures.channel = 'store' then 'store' else 'online' end then 1 else 0 end) as assisted_converted,
        sum(profile_events.revenue) as revenue,
        sum(profile_events.margin) as margin,
        sum(case when profile_events.purchase_channel = 'store' then profile_events.revenue else 0 end) as store_revenue,
        sum(case when profile_events.purchase_channel = 'online' then profile_events.revenue else 0 end) as online_revenue

    from exposures
    inner join profile_events
        on exposures.profile_id = profile_events.profile_id
        and profile_events.occurred_at > exposures.decided_at
        and profile_events.occurred_at <= exposures.window_end_at
    left join conversion_types
        on exposures.play_id = conversion_types.play_id
        and profile_events.event_type = conversion_types.event_type
    group by exposures.run_date, exposures.play_id, exposures.profile_id

),

pre_period as (

    select
        exposures.run_date,
        exposures.play_id,
        exposures.profile_id,
        sum(profile_events.revenue) as pre_revenue

    from exposures
    inner join profile_events
        on exposures.profile_id = profile_events.profile_id
        and profile_events.event_type = 'purchase'
        and profile_events.occurred_at <= exposures.decided_at
        and profile_events.occurred_at > {{ dbt.dateadd('day', -pre_days, 'exposures.decided_at') }}
    group by exposures.run_date, exposures.play_id, exposures.profile_id

),

final as (

    select
        exposures.*,
        coalesce(windowed.converted, 0) as converted,
        coalesce(windowed.store_converted, 0) as store_converted,
        coalesce(windowed.online_converted, 0) as online_converted,
        coalesce(windowed.assisted_converted, 0) as assisted_converted,
        cast(coalesce(windowed.revenue, 0) as {{ omniplay.type_double() }}) as revenue,
        cast(coalesce(windowed.margin, 0) as {{ omniplay.type_double() }}) as margin,
        cast(coalesce(windowed.store_revenue, 0) as {{ omniplay.type_double() }}) as store_revenue,
        cast(coalesce(windowed.online_revenue, 0) as {{ omniplay.type_double() }}) as online_revenue,
        cast(coalesce(pre_period.pre_revenue, 0) as {{ omniplay.type_double() }}) as pre_revenue,
        exposures.window_end_at <= as_of.as_of_at as is_mature

    from exposures
    cross join as_of
    left join windowed
        on exposures.run_date = windowed.run_date
        and exposures.play_id = windowed.play_id
        and exposures.profile_id = windowed.profile_id
    left join pre_period
        on exposures.run_date = pre_period.run_date
        and exposures.play_id = pre_period.play_id
        and exposures.profile_id = pre_period.profile_id

)

select * from final
