{{
    config(
        materialized='incremental',
        unique_key=['retired_profile_id', 'profile_id', 'recorded_at'],
        on_schema_change='fail',
    )
}}
{#-
    The merge log: each build appends the profile ids it retired (merges) or split off,
    with the id that took over. Append-only, so the history survives rebuilds; a full
    refresh keeps nothing but the current build's changes, so avoid it in production.
-#}
with

registry as (

    select * from {{ ref('int_identity_profile_registry') }}

),

changes as (

    select
        previous_profile_id as retired_profile_id,
        profile_id,
        count(*) as identifiers_moved

    from registry
    where previous_profile_id is not null
        and previous_profile_id <> profile_id
    group by previous_profile_id, profile_id

),

{#- An old id that still exists after the build was split, not retired. -#}
still_alive as (

    select distinct profile_id from registry

),

final as (

    select
        changes.retired_profile_id,
        changes.profile_id,
        case when still_alive.profile_id is null then 'merge' else 'split' end as change_type,
        changes.identifiers_moved,
        {{ omniplay.identity_build_timestamp() }} as recorded_at

    from changes
    left join still_alive
        on changes.retired_profile_id = still_alive.profile_id

)

select * from final
