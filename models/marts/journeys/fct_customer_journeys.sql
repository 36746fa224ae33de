{{
    config(
        materialized='incremental',
        unique_key='profile_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="{{ omniplay.delete_where(this, 'first_touch_at is null') }}",
    )
}}
{#- One row per profile with a customer touch: where its journey started, where and when
    it first bought, the channel hops in between, and whether buying later crossed
    between online and store. Incremental like int_journey_stage_timeline: a nightly
    build recomputes only the profiles whose events changed (a profile left without
    touches gets a placeholder row, first_touch_at null, that the post-hook deletes). -#}
with

customer_events as {{ omniplay.inline_cte() }} (

    select * from {{ ref('fct_customer_events') }}

),

identity_merges as (

    select * from {{ ref('fct_identity_merges') }}

),

{% if is_incremental() %}

changed_profiles as (

    {{ omniplay.journey_changed_profiles('customer_events', 'identity_merges') }}

),

{#- The changed profiles' events, picked by row id (omniplay.rows_where): the scan of the
    whole table reads profile_id alone, the other columns only for the picked rows. -#}
profile_events as (

    select customer_events.*
    from {{ ref('fct_customer_events') }} as customer_events
    where {{ omniplay.rows_where(ref('fct_customer_events'), 'customer_events',
        'customer_events.profile_id in (select changed_profiles.profile_id from changed_profiles)') }}

),

{% else %}

profile_events as (

    select * from customer_events
    where profile_id is not null

),

{% endif %}

processed as (

    select
        profile_id,
        max(processed_at) as events_processed_at

    from profile_events
    group by profile_id

),

touches as (

    select
        profile_id,
        event_id,
        channel,
        {{ omniplay.channel_group('channel') }} as channel_group,
        occurred_at

    from profile_events
    where {{ omniplay.is_customer_touch('event_type') }}

),

orders as (

    select
        profile_id,
        order_id,
        min(channel) as channel,
        min({{ omniplay.channel_group('channel') }}) as channel_group,
        min(store_id) as store_id,
        min(occurred_at) as ordered_at

    from profile_events
    where event_type = 'purchase'
    group by profile_id, order_id

),

ranked_orders as (

    select
        *,
        row_number() over (
            partition by profile_id
            order by ordered_at, case when channel_group = 'store' then 0 else 1 end, order_id
        ) as order_rank

    from orders

),

first_orders as (

    select * from ranked_orders
    where order_rank = 1

),

{#- The first later purchase on the other side (store after online, or online after store). -#}
crossings as (

    select
        first_orders.profile_id,
        min(later.ordered_at) as crossed_at

    from first_orders
    inner join ranked_orders as later
        on first_orders.profile_id = later.profile_id
        and later.order_rank > 1
        and later.channel_group in ('online', 'store')
        and first_orders.channel_group in ('online', 'store')
        and later.channel_group <> first_orders.channel_group
    group by first_orders.profile_id

),

{#- Only touches up to the first purchase are ranked: everything below looks no further
    (the first touch is at or before it, since a purchase is a touch), and a touch's rank
    and previous channel depend on earlier touches only. Sorting just these, not every
    touch of every profile, is most of this model's saving. -#}
ranked_touches as (

    select
        touches.*,
        first_orders.ordered_at as converted_at,
        row_number() over (partition by touches.profile_id order by touches.occurred_at, touches.event_id) as touch_rank,
        lag(touches.channel) over (partition by touches.profile_id order by touches.occurred_at, touches.event_id)
            as previous_channel

    from touches
    left join first_orders
        on touches.profile_id = first_orders.profile_id
    where first_orders.ordered_at is null or touches.occurred_at <= first_orders.ordered_at

),

first_touches as (

    select
        profile_id,
        occurred_at as first_touch_at,
        channel as first_touch_channel

    from ranked_touches
    where touch_rank = 1

),

{#- Touches before the first purchase (or all of them, for journeys not converted yet). -#}
pre_conversion as (

    select
        profile_id,
        count(*) as touches_before_conversion,
        count(distinct channel) as channels_before_conversion,
        sum(case when previous_channel is not null and previous_channel <> channel then 1 else 0 end)
            as channel_hops,
        max(case when channel_group = 'online' then 1 else 0 end) as touched_online,
        max(case when channel_group = 'store' then 1 else 0 end) as touched_store

    from ranked_touches
    where converted_at is null or occurred_at < converted_at
    group by profile_id

),

paths as (

    select
        profile_id,
        {{ dbt.listagg('channel', "' > '", 'order by occurred_at, event_id') }} as channel_path

    from ranked_touches
    where (converted_at is null or occurred_at <= converted_at)
        and (previous_channel is null or previous_channel <> channel)
    group by profile_id

),

{#- Every profile of the batch; one left without touches keeps a placeholder row. -#}
batch_profiles as (

    {% if is_incremental() %}
    select distinct profile_id from changed_profiles
    where profile_id is not null
    {% else %}
    select profile_id from first_touches
    {% endif %}

),

final as (

    select
        batch_profiles.profile_id,
        first_touches.first_touch_at,
        first_touches.first_touch_channel,
        first_orders.ordered_at as converted_at,
        first_orders.channel as conversion_channel,
        first_orders.store_id as conversion_store_id,
        first_orders.order_id as conversion_order_id,
        first_orders.ordered_at is not null as is_converted,
        {{ dbt.datediff('first_touches.first_touch_at', 'first_orders.ordered_at', 'second') }} / 3600.0
            as time_to_value_hours,
        coalesce(pre_conversion.touches_before_conversion, 0) as touches_before_conversion,
        coalesce(pre_conversion.channels_before_conversion, 0) as channels_before_conversion,
        coalesce(pre_conversion.channel_hops, 0) as channel_hops,
        paths.channel_path,
        case
            when first_orders.channel_group = 'store' and pre_conversion.touched_online = 1 then 'online_to_store'
            when first_orders.channel_group = 'online' and pre_conversion.touched_store = 1 then 'store_to_online'
        end as conversion_crossing,
        case
            when crossings.crossed_at is null then null
            when first_orders.channel_group = 'store' then 'store_to_online'
            else 'online_to_store'
        end as purchase_crossing,
        crossings.crossed_at as purchase_crossed_at,
        coalesce(processed.events_processed_at, {{ omniplay.identity_build_timestamp() }}) as events_processed_at

    from batch_profiles
    left join first_touches
        on batch_profiles.profile_id = first_touches.profile_id
    left join first_orders
        on batch_profiles.profile_id = first_orders.profile_id
    left join pre_conversion
        on batch_profiles.profile_id = pre_conversion.profile_id
    left join paths
        on batch_profiles.profile_id = paths.profile_id
    left join crossings
        on batch_profiles.profile_id = crossings.profile_id
    left join processed
        on batch_profiles.profile_id = processed.profile_id

)

select * from final
