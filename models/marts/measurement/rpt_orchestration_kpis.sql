{{
    config(
        materialized='incremental',
        unique_key='run_date',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        full_refresh=false,
    )
}}
{#-
    Orchestration maturity KPIs, one snapshot per run (delete+insert on run_date, history
    kept, so reports can show trends), per channel and blended (`channel = 'all'`), over
    the var('omniplay__kpi_window_days') days before the as-of time (docs/measurement.md):
    - profile_match_rate: events carrying an identifier that resolved to a profile;
    - consent_coverage: profiles allowed on the channel (all: on any channel);
    - event_freshness_hours: hours from the newest event to the as-of time (all: the
      stalest channel);
    - journey_completion_rate: journeys (fct_customer_journeys) that reached a purchase,
      by first-touch channel;
    - time_to_value_hours: median hours from first touch to first purchase, by
      conversion channel;
    - offer_uptake: treatment exposures that converted within their window so far;
    - revenue_influence: purchase revenue of treated profiles within their attribution
      windows, as a share of all purchase revenue in the window.
-#}
{%- set days = var('omniplay__kpi_window_days') | int -%}
{%- set double = omniplay.type_double() -%}

with

events as (

    select * from {{ ref('fct_customer_events') }}

),

profiles as (

    select * from {{ ref('dim_profiles') }}

),

consent as (

    select * from {{ ref('dim_profile_consent') }}

),

journeys as (

    select * from {{ ref('fct_customer_journeys') }}

),

outcomes as (

    select * from {{ ref('fct_play_outcomes') }}

),

as_of as (

    select
        {{ omniplay.as_of_timestamp() }} as as_of_at,
        {{ dbt.dateadd('day', -days, omniplay.as_of_timestamp()) }} as window_start_at

),

recent_events as (

    select events.*

    from events
    cross join as_of
    where events.occurred_at > as_of.window_start_at
        and events.occurred_at <= as_of.as_of_at

),

match_rate as (

    select
        'profile_match_rate' as kpi,
        coalesce(channel, 'all') as channel,
        sum(case when profile_id is not null then 1 else 0 end) as numerator,
        count(*) as denominator

    from recent_events
    where has_identifiers
    group by rollup (channel)

),

consent_by_profile as (

    select
        profile_id,
        channel,
        max(case when is_allowed then 1 else 0 end) as allowed

    from consent
    group by profile_id, channel

),

consent_coverage as (

    select
        'consent_coverage' as kpi,
        consent_by_profile.channel,
        sum(consent_by_profile.allowed) as numerator,
        (select count(*) from profiles) as denominator

    from consent_by_profile
    group by consent_by_profile.channel

    union all

    select
        'consent_coverage' as kpi,
        'all' as channel,
        count(distinct case when allowed = 1 then profile_id end) as numerator,
        (select count(*) from profiles) as denominator

    from consent_by_profile

),

freshness as (

    select
        channel,
        max(occurred_at) as newest_at

    from events
    cross join as_of
    where events.occurred_at <= as_of.as_of_at
    group by channel

),

event_freshness as (

    select
        'event_freshness_hours' as kpi,
        freshness.channel,
        {{ dbt.datediff('freshness.newest_at', 'as_of.as_of_at', 'minute') }} / 60.0 as numerator,
        1 as denominator

    from freshness
    cross join as_of

    union all

    select
        'event_freshness_hours' as kpi,
        'all' as channel,
        max({{ dbt.datediff('freshness.newest_at', 'as_of.as_of_at', 'minute') }}) / 60.0 as numerator,
        1 as denominator

    from freshness
    cross join as_of

),

journey_completion as (

    select
        'journey_completion_rate' as kpi,
        coalesce(first_touch_channel, 'all') as channel,
        sum(case when is_converted then 1 else 0 end) as numerator,
        count(*) as denominator

    from journeys
    group by rollup (first_touch_channel)

),

time_to_value as (

    select
        'time_to_value_hours' as kpi,
        coalesce(conversion_channel, 'all') as channel,
        percentile_cont(0.5) within group (order by time_to_value_hours) as numerator,
        1 as denominator

    from journeys
    where is_converted
        and time_to_value_hours is not null
    group by rollup (conversion_channel)

),

recent_treatment as (

    select outcomes.*

    from outcomes
    cross join as_of
    where outcomes.arm = 'treatment'
        and outcomes.decided_at > as_of.window_start_at

),

offer_uptake as (

    select
        'offer_uptake' as kpi,
        coalesce(channel, 'all') as channel,
        sum(converted) as numerator,
        count(*) as denominator

    from recent_treatment
    where scope = 'play'
    group by rollup (channel)

),

total_revenue as (

    select sum(revenue) as revenue

    from recent_events
    where event_type = 'purchase'

),

revenue_influence as (

    select
        'revenue_influence' as kpi,
        coalesce(recent_treatment.channel, 'all') as channel,
        sum(recent_treatment.revenue) as numerator,
        max(total_revenue.revenue) as denominator

    from recent_treatment
    cross join total_revenue
    where recent_treatment.scope = 'global'
    group by rollup (recent_treatment.channel)

),

unioned as (

    select kpi, channel, cast(numerator as {{ double }}) as numerator, cast(denominator as {{ double }}) as denominator from match_rate
    union all
    select kpi, channel, cast(numerator as {{ double }}), cast(denominator as {{ double }}) from consent_coverage
    union all
    select kpi, channel, cast(numerator as {{ double }}), cast(denominator as {{ double }}) from event_freshness
    union all
    select kpi, channel, cast(numerator as {{ double }}), cast(denominator as {{ double }}) from journey_completion
    union all
    select kpi, channel, cast(numerator as {{ double }}), cast(denominator as {{ double }}) from time_to_value
    union all
    select kpi, channel, cast(numerator as {{ double }}), cast(denominator as {{ double }}) from offer_uptake
    union all
    select kpi, channel, cast(numerator as {{ double }}), cast(denominator as {{ double }}) from revenue_influence

),

final as (

    select
        cast({{ dbt.date_trunc('day', 'as_of.as_of_at') }} as date) as run_date,
        as_of.as_of_at,
        unioned.kpi,
        unioned.channel,
        case when unioned.denominator > 0 then unioned.numerator / unioned.denominator end as value,
        unioned.numerator,
        unioned.denominator,
        {{ days }} as window_days

    from unioned
    cross join as_of

)

select * from final
