{{
    config(
        materialized='incremental',
        unique_key='profile_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook="{{ omniplay.bulk_write_begin() }}",
        post_hook=["{{ omniplay.delete_where(this, 'stage is null') }}", "{{ omniplay.bulk_write_end() }}"],
    )
}}
{#-
    Every stage interval each profile's events imply, including transitions already
    scheduled by time alone (a lapse 60 days after the last purchase may lie after
    today): the timeline depends on the events only, never on the clock, so a nightly
    build recomputes just the profiles whose events changed. fct_journey_stage_history
    cuts it at the as-of time. State machine: docs/journeys.md.

    Incremental: profiles with events processed since this model's watermark, and the
    profiles the identity build retired or split, get all their rows replaced; a profile
    left with no events gets a placeholder row (stage null) that the post-hook deletes.
-#}
{%- set engagement_types = var('omniplay__journey_engagement_event_types') -%}
{%- set engagement_days = var('omniplay__journey_engagement_window_days') -%}
{%- set lapse_days = var('omniplay__journey_lapse_days') -%}

with

customer_events as (

    select * from {{ ref('fct_customer_events') }}

),

identity_merges as (

    select * from {{ ref('fct_identity_merges') }}

),

{% if is_incremental() %}

changed_profiles as (

    {{ omniplay.journey_changed_profiles('customer_events', 'identity_merges') }}

),

profile_events as (

    select customer_events.*
    from customer_events
    where customer_events.profile_id in (select changed_profiles.profile_id from changed_profiles)
        and {{ omniplay.is_customer_touch('customer_events.event_type') }}

),

{% else %}

profile_events as (

    select * from customer_events
    where profile_id is not null
        and {{ omniplay.is_customer_touch('event_type') }}

),

{% endif %}

orders as (

    select
        profile_id,
        order_id,
        min(occurred_at) as ordered_at

    from profile_events
    where event_type = 'purchase'
    group by profile_id, order_id

),

first_orders as (

    select
        profile_id,
        min(ordered_at) as first_ordered_at

    from orders
    group by profile_id

),

first_touches as (

    select
        profile_id,
        min(occurred_at) as first_touch_at,
        max(processed_at) as events_processed_at

    from profile_events
    group by profile_id

),

{#- Engagement before the first purchase, one row per profile and day: with a window of
    whole days, an engaged spell can only start at a day's first engagement and ends
    a window after some day's last one, so these two instants are all that matter. -#}
engagement_days as (

    select
        profile_events.profile_id,
        {{ dbt.date_trunc('day', 'profile_events.occurred_at') }} as engaged_on,
        min(profile_events.occurred_at) as first_engaged_at,
        max(profile_events.occurred_at) as last_engaged_at

    from profile_events
    left join first_orders
        on profile_events.profile_id = first_orders.profile_id
    where profile_events.event_type in (
        {%- for event_type in engagement_types %}'{{ event_type }}'{{ ", " if not loop.last }}{% endfor -%}
    )
        and (first_orders.first_ordered_at is null or profile_events.occurred_at < first_orders.first_ordered_at)
    group by profile_events.profile_id, {{ dbt.date_trunc('day', 'profile_events.occurred_at') }}

),

{#- The instants at which a stage can change. -#}
change_points as (

    select profile_id, first_touch_at as changes_at, 'touch' as kind,
        cast(null as {{ dbt.type_timestamp() }}) as engaged_until
    from first_touches

    union all

    select profile_id, first_engaged_at, 'engagement',
        {{ dbt.dateadd('day', engagement_days, 'last_engaged_at') }}
    from engagement_days

    union all

    select profile_id, {{ dbt.dateadd('day', engagement_days, 'last_engaged_at') }}, 'engagement_expiry',
        cast(null as {{ dbt.type_timestamp() }})
    from engagement_days

    union all

    select profile_id, ordered_at, 'purchase', cast(null as {{ dbt.type_timestamp() }})
    from orders

    union all

    select profile_id, {{ dbt.dateadd('day', lapse_days, 'ordered_at') }}, 'lapse',
        cast(null as {{ dbt.type_timestamp() }})
    from orders

),

{#- What is known at each change point: points at the same instant see each other. -#}
running as (

    select
        profile_id,
        changes_at,
        sum(case when kind = 'purchase' then 1 else 0 end) over profile_so_far as orders_so_far,
        max(case when kind = 'purchase' then changes_at end) over profile_so_far as last_ordered_at,
        max(engaged_until) over profile_so_far as engaged_until

    from change_points
    window profile_so_far as (
        partition by profile_id
        order by changes_at
        range between unbounded preceding and current row
    )

),

evaluated as (

    select distinct
        profile_id,
        changes_at,
        orders_so_far,
        case
            when orders_so_far > 0 and changes_at >= {{ dbt.dateadd('day', lapse_days, 'last_ordered_at') }}
                then 'lapsed'
            when orders_so_far = 1 then 'conversion'
            when orders_so_far > 1 then 'retention'
            when engaged_until > changes_at then 'engagement'
            else 'discovery'
        end as stage

    from running

),

with_previous as (

    select
        *,
        lag(stage) over (partition by profile_id order by changes_at) as previous_point_stage

    from evaluated

),

transitions as (

    select
        profile_id,
        stage,
        previous_point_stage as previous_stage,
        changes_at as valid_from,
        lead(changes_at) over (partition by profile_id order by changes_at) as valid_to,
        row_number() over (partition by profile_id order by changes_at) as stage_sequence

    from with_previous
    where previous_point_stage is null or previous_point_stage <> stage

),

intervals as (

    select
        transitions.profile_id,
        transitions.stage_sequence,
        transitions.stage,
        transitions.previous_stage,
        transitions.valid_from,
        transitions.valid_to,
        case
            when transitions.previous_stage is null then 'first_touch'
            when transitions.stage = 'engagement' then 'engaged'
            when transitions.stage = 'discovery' then 'engagement_expired'
            when transitions.stage = 'conversion' then 'first_purchase'
            when transitions.stage = 'retention' and transitions.previous_stage = 'lapsed' then 'win_back'
            when transitions.stage = 'retention' then 'repeat_purchase'
            when transitions.stage = 'lapsed' then 'no_purchase_in_lapse_window'
        end as transition_reason,
        first_touches.events_processed_at

    from transitions
    inner join first_touches
        on transitions.profile_id = first_touches.profile_id

),

{% if is_incremental() %}

{#- Changed profiles that no longer have any event (retired ids): placeholder rows make
    the delete+insert clear their old intervals; the post-hook removes the placeholders. -#}
emptied_profiles as (

    select
        changed_profiles.profile_id,
        cast(null as {{ dbt.type_bigint() }}) as stage_sequence,
        cast(null as {{ dbt.type_string() }}) as stage,
        cast(null as {{ dbt.type_string() }}) as previous_stage,
        cast(null as {{ dbt.type_timestamp() }}) as valid_from,
        cast(null as {{ dbt.type_timestamp() }}) as valid_to,
        cast(null as {{ dbt.type_string() }}) as transition_reason,
        (select max(processed_at) from customer_events) as events_processed_at

    from changed_profiles
    where changed_profiles.profile_id is not null
        and changed_profiles.profile_id not in (select first_touches.profile_id from first_touches)

),

final as (

    select * from intervals
    union all
    select * from emptied_profiles

)

{% else %}

final as (

    select * from intervals

)

{% endif %}

select * from final
