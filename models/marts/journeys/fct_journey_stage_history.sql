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
{#- Journey stage history: one row per profile and stage interval up to the as-of time;
    valid_to is null on the current row. State machine: docs/journeys.md.

    Incremental: the timeline is cut again only for the profiles it recomputed since this
    model's watermark and those with a stage boundary between the as-of time of the last
    build (history_as_of) and this one (omniplay.journey_recut_profiles); their rows are
    replaced, every other profile's cut is the same at both times. A profile left with no
    row gets a placeholder (stage null) that the post-hook deletes. -#}
with

timeline as {{ omniplay.inline_cte() }} (

    select * from {{ ref('int_journey_stage_timeline') }}

),

identity_merges as (

    select * from {{ ref('fct_identity_merges') }}

),

as_of as (

    select {{ omniplay.as_of_timestamp() }} as as_of_at

),

{% if is_incremental() %}

recut_profiles as (

    {{ omniplay.journey_recut_profiles('timeline', 'identity_merges', 'history_as_of') }}

),

cut_timeline as (

    select timeline.*
    from timeline
    where timeline.profile_id in (select recut_profiles.profile_id from recut_profiles)

),

{% else %}

cut_timeline as {{ omniplay.inline_cte() }} (

    select * from timeline

),

{% endif %}

history as (

    select
        cut_timeline.profile_id || ':' || cast(cut_timeline.stage_sequence as {{ dbt.type_string() }})
            as stage_history_id,
        cut_timeline.profile_id,
        cut_timeline.stage_sequence,
        cut_timeline.stage,
        cut_timeline.previous_stage,
        cut_timeline.transition_reason,
        cut_timeline.valid_from,
        case when cut_timeline.valid_to <= as_of.as_of_at then cut_timeline.valid_to end as valid_to,
        (cut_timeline.valid_to is null or cut_timeline.valid_to > as_of.as_of_at) as is_current,
        cut_timeline.events_processed_at,
        as_of.as_of_at as history_as_of

    from cut_timeline
    cross join as_of
    where cut_timeline.valid_from <= as_of.as_of_at

),

{% if is_incremental() %}

{#- Recut profiles with no interval up to the as-of time (retired ids): placeholder rows
    make the delete+insert clear their old rows; the post-hook removes them. -#}
emptied_profiles as (

    select
        cast(null as {{ dbt.type_string() }}) as stage_history_id,
        recut_profiles.profile_id,
        cast(null as {{ dbt.type_bigint() }}) as stage_sequence,
        cast(null as {{ dbt.type_string() }}) as stage,
        cast(null as {{ dbt.type_string() }}) as previous_stage,
        cast(null as {{ dbt.type_string() }}) as transition_reason,
        cast(null as {{ dbt.type_timestamp() }}) as valid_from,
        cast(null as {{ dbt.type_timestamp() }}) as valid_to,
        cast(null as {{ dbt.type_boolean() }}) as is_current,
        cast(null as {{ dbt.type_timestamp() }}) as events_processed_at,
        as_of.as_of_at as history_as_of

    from recut_profiles
    cross join as_of
    where recut_profiles.profile_id is not null
        and recut_profiles.profile_id not in (select history.profile_id from history)

),

final as (

    select * from history
    union all
    select * from emptied_profiles

)

{% else %}

final as (

    select * from history

)

{% endif %}

select * from final
