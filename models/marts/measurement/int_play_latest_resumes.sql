{{ config(materialized='view') }}
{#- Each play's latest `omniplay plays resume` (omniplay_state.play_resumes); a view, so a
    resume counts at once even in a build that selects only the guardrail models. -#}
with

resumes as (

    select * from {{ source('omniplay_state', 'play_resumes') }}

),

final as (

    select
        play_id,
        max(resumed_at) as resumed_at

    from resumes
    group by play_id

)

select * from final
