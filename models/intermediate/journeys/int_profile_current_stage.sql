{{
    config(
        materialized='incremental',
        unique_key='profile_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook="{{ omniplay.bulk_write_begin() }}",
        post_hook=["{{ omniplay.delete_where(this, 'journey_stage is null') }}", "{{ omniplay.bulk_write_end() }}"],
    )
}}
{#- Each profile's journey stage at the as-of time (one row per profile in a journey):
    the column set dim_profiles joins on profile_id.

    Incremental like fct_journey_stage_history: only the profiles the timeline recomputed
    and those with a stage boundary between the last build's as-of time and this one's
    (omniplay.journey_recut_profiles) are evaluated again; a profile left with no current
    stage gets a placeholder (stage null) that the post-hook deletes. -#}
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

    {{ omniplay.journey_recut_profiles('timeline', 'identity_merges', 'journey_stage_as_of') }}

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

current_stages as (

    select
        cut_timeline.profile_id,
        cut_timeline.stage as journey_stage,
        cut_timeline.valid_from as journey_stage_since,
        cut_timeline.previous_stage as previous_journey_stage,
        cut_timeline.transition_reason as journey_stage_reason,
        {#- A scheduled change (lapse, engagement expiry) already known from the events. -#}
        cut_timeline.valid_to as journey_stage_expires_at,
        as_of.as_of_at as journey_stage_as_of,
        cut_timeline.events_processed_at

    from cut_timeline
    cross join as_of
    where cut_timeline.valid_from <= as_of.as_of_at
        and (cut_timeline.valid_to is null or cut_timeline.valid_to > as_of.as_of_at)

),

{% if is_incremental() %}

{#- Recut profiles with no stage at the as-of time (retired ids): placeholder rows make
    the delete+insert clear their old row; the post-hook removes them. -#}
emptied_profiles as (

    select
        recut_profiles.profile_id,
        cast(null as {{ dbt.type_string() }}) as journey_stage,
        cast(null as {{ dbt.type_timestamp() }}) as journey_stage_since,
        cast(null as {{ dbt.type_string() }}) as previous_journey_stage,
        cast(null as {{ dbt.type_string() }}) as journey_stage_reason,
        cast(null as {{ dbt.type_timestamp() }}) as journey_stage_expires_at,
        as_of.as_of_at as journey_stage_as_of,
        cast(null as {{ dbt.type_timestamp() }}) as events_processed_at

    from recut_profiles
    cross join as_of
    where recut_profiles.profile_id is not null
        and recut_profiles.profile_id not in (select current_stages.profile_id from current_stages)

),

final as (

    select * from current_stages
    union all
    select * from emptied_profiles

)

{% else %}

final as (

    select * from current_stages

)

{% endif %}

select * from final
