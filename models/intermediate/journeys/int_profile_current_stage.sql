{{ config(materialized='view') }}
{#- Each profile's journey stage at the as-of time (one row per profile in a journey):
    the column set dim_profiles joins on profile_id. A view of the timeline at the
    build's as-of time (a literal), like fct_journey_stage_history: nothing to rewrite
    nightly. -#}
with

timeline as (

    select * from {{ ref('int_journey_stage_timeline') }}

),

as_of as (

    select {{ omniplay.as_of_timestamp() }} as as_of_at

),

final as (

    select
        timeline.profile_id,
        timeline.stage as journey_stage,
        timeline.valid_from as journey_stage_since,
        timeline.previous_stage as previous_journey_stage,
        timeline.transition_reason as journey_stage_reason,
        {#- A scheduled change (lapse, engagement expiry) already known from the events. -#}
        timeline.valid_to as journey_stage_expires_at,
        as_of.as_of_at as journey_stage_as_of

    from timeline
    cross join as_of
    where timeline.valid_from <= as_of.as_of_at
        and (timeline.valid_to is null or timeline.valid_to > as_of.as_of_at)

)

select * from final
