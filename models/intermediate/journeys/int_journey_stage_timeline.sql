{{
    config(
        materialized='incremental',
        unique_key='profile_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="{{ omniplay.delete_where(this, 'stage is null') }}",
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

{#- Only the columns used: read more than once, the CTE is materialized. -#}
profile_events as (

    select
        customer_events.profile_id,
        customer_events.event_type,
        customer_events.order_id,
        customer_events.occurred_at,
        customer_events.processed_at

    from customer_events
    where customer_events.profile_id in (select changed_profiles.profile_id from changed_profiles)
        and {{ omniplay.is_customer_touch('customer_events.event_type') }}

),

{% else %}

profile_events as (

    select
        profile_id,
        event_type,
        order_id,
        occurred_at,
        processed_at

    from customer_events
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
    a window after some day's last one, so these two instants are all that matter.
    Days are aggregated before the first order is joined (a few rows per profile, not
    every engagement event). A day is kept when its first engagement precedes the first
    order; on the day of the first order itself, last_engaged_at may then be an
    engagement after that order, which changes no stage: from the first order on, the
    stage follows the orders alone, and before it every engagement of that day keeps the
    profile engaged past the order anyway. -#}
engagement_by_day as (

    select
        profile_id,
        {{ dbt.date_trunc('day', 'occurred_at') }} as engaged_on,
        min(occurred_at) as first_engaged_at,
        max(occurred_at) as last_engaged_at

    from profile_events
    where event_type in (
        {%- for event_type in engagement_types %}'{{ event_type }}'{{ ", " if not loop.last }}{% endfor -%}
    )
    group by profile_id, {{ dbt.date_trunc('day', 'occurred_at') }}

),

engagement_days as (

    select engagement_by_day.*

    from engagement_by_day
    left join first_orders
        on engagement_by_day.profile_id = first_orders.profile_id
    where first_orders.first_ordered_at is null
        or engagement_by_day.first_engaged_at < first_orders.first_ordered_at

),

{#- The instants at which a stage can change. -#}
change_points as (

    select profile_id, first_touch_at as changes_at, 0 as purchases,
        cast(null as {{ dbt.type_timestamp() }}) as engaged_until
    from first_touches

    union all

    select profile_id, first_engaged_at, 0,
        {{ dbt.dateadd('day', engagement_days, 'last_engaged_at') }}
    from engagement_days

    union all

    select profile_id, {{ dbt.dateadd('day', engagement_days, 'last_engaged_at') }}, 0,
        cast(null as {{ dbt.type_timestamp() }})
    from engagement_days

    union all

    select profile_id, ordered_at, 1, cast(null as {{ dbt.type_timestamp() }})
    from orders

    union all

    select profile_id, {{ dbt.dateadd('day', lapse_days, 'ordered_at') }}, 0,
        cast(null as {{ dbt.type_timestamp() }})
    from orders

),

{#- One row per profile and instant: points at the same instant see each other. -#}
instants as (

    select
        profile_id,
        changes_at,
        sum(purchases) as purchases,
        max(engaged_until) as engaged_until

    from change_points
    group by profile_id, changes_at

),

{#- What is known at each instant and at the one before it, in one sort: the previous
    instant's stage comes from the same running totals one row earlier. -#}
running as (

    select
        profile_id,
        changes_at,
        sum(purchases) over profile_so_far as orders_so_far,
        max(case when purchases > 0 then changes_at end) over profile_so_far as last_ordered_at,
        max(engaged_until) over profile_so_far as engaged_until,
        lag(changes_at) over profile_order as previous_changes_at,
        sum(purchases) over profile_before as previous_orders_so_far,
        max(case when purchases > 0 then changes_at end) over profile_before as previous_last_ordered_at,
        max(engaged_until) over profile_before as previous_engaged_until

    from instants
    window
        profile_order as (partition by profile_id order by changes_at),
        profile_so_far as (
            partition by profile_id order by changes_at rows between unbounded preceding and current row
        ),
        profile_before as (
            partition by profile_id order by changes_at rows between unbounded preceding and 1 preceding
        )

),

evaluated as (

    select
        profile_id,
        changes_at,
        {{ omniplay.journey_stage('orders_so_far', 'last_ordered_at', 'engaged_until', 'changes_at', lapse_days) }}
            as stage,
        case
            when previous_changes_at is not null then {{ omniplay.journey_stage(
                'previous_orders_so_far', 'previous_last_ordered_at', 'previous_engaged_until',
                'previous_changes_at', lapse_days
            ) }}
        end as previous_point_stage

    from running

),

transitions as (

    select
        profile_id,
        stage,
        previous_point_stage as previous_stage,
        changes_at as valid_from,
        lead(changes_at) over (partition by profile_id order by changes_at) as valid_to,
        row_number() over (partition by profile_id order by changes_at) as stage_sequence

    from evaluated
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
