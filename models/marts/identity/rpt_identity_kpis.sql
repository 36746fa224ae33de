{#-
    Identity KPIs, one row per (kpi, dimension): how much of what customers do is tied
    to a known profile, how much of the base may be contacted, how rich profiles are,
    the largest components (a sudden giant is a linking bug) and guard hits.
-#}
with

touchpoints as (

    select * from {{ ref('int_profile_touchpoints') }}

),

profiles as (

    select * from {{ ref('dim_profiles') }}

),

consent as (

    select * from {{ ref('dim_profile_consent') }}

),

guard_hits as (

    select * from {{ ref('rpt_identity_guard_hits') }}

),

match_rates as (

    select
        'profile_match_rate' as kpi,
        touchpoints.channel as dimension,
        cast(count(case when profiles.is_known then 1 end) as {{ omniplay.type_double() }})
            / nullif(count(*), 0) as value,
        count(*) as denominator

    from touchpoints
    left join profiles
        on touchpoints.profile_id = profiles.profile_id
    group by touchpoints.channel

),

overall_match_rate as (

    select
        'profile_match_rate' as kpi,
        'all' as dimension,
        sum(value * denominator) / nullif(sum(denominator), 0) as value,
        sum(denominator) as denominator

    from match_rates

),

consent_coverage as (

    select
        'consent_coverage' as kpi,
        consent.channel as dimension,
        avg(case when consent.is_allowed then 1.0 else 0.0 end) as value,
        count(*) as denominator

    from consent
    inner join profiles
        on consent.profile_id = profiles.profile_id
    where profiles.is_known
    group by consent.channel

),

profile_sizes as (

    select
        'identifiers_per_profile' as kpi,
        stat as dimension,
        value,
        profiles_counted as denominator

    from (
        select 'mean' as stat, avg(identifiers * 1.0) as value, count(*) as profiles_counted from profiles where is_known
        union all
        select 'max', max(identifiers * 1.0), count(*) from profiles where is_known
    ) as stats

),

largest_components as (

    select
        'largest_component' as kpi,
        profile_id as dimension,
        identifiers * 1.0 as value,
        1 as denominator

    from (
        select profile_id, identifiers
        from profiles
        order by identifiers desc, profile_id
        limit 5
    ) as largest

),

guards as (

    select
        'guard_hits' as kpi,
        guard as dimension,
        count(*) * 1.0 as value,
        count(*) as denominator

    from guard_hits
    group by guard

),

final as (

    select * from match_rates
    union all
    select * from overall_match_rate
    union all
    select * from consent_coverage
    union all
    select * from profile_sizes
    union all
    select * from largest_components
    union all
    select * from guards

)

select * from final
