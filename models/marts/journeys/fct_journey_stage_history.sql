{{ config(materialized='view') }}
{#- Journey stage history: one row per profile and stage interval up to the as-of time;
    valid_to is null on the current row. State machine: docs/journeys.md. A view: the
    timeline cut at the build's as-of time (a literal), so a night rebuilds nothing here
    (a table was rewritten whole, ~2.7M rows, for the few profiles that changed); a
    reader pays a filter over the timeline. -#}
with

timeline as (

    select * from {{ ref('int_journey_stage_timeline') }}

),

as_of as (

    select {{ omniplay.as_of_timestamp() }} as as_of_at

),

final as (

    select
        timeline.profile_id || ':' || cast(timeline.stage_sequence as {{ dbt.type_string() }}) as stage_history_id,
        timeline.profile_id,
        timeline.stage_sequence,
        timeline.stage,
        timeline.previous_stage,
        timeline.transition_reason,
        timeline.valid_from,
        case when timeline.valid_to <= as_of.as_of_at then timeline.valid_to end as valid_to,
        (timeline.valid_to is null or timeline.valid_to > as_of.as_of_at) as is_current

    from timeline
    cross join as_of
    where timeline.valid_from <= as_of.as_of_at

)

select * from final
