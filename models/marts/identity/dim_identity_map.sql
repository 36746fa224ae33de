{{ config(materialized='view') }}
{#- Every resolved identifier and the unified profile it belongs to. A view of the registry's
    columns: the registry is already a table of exactly these rows, so a copy of 4M rows
    would only cost the build its write. -#}
with

registry as (

    select * from {{ ref('int_identity_profile_registry') }}

),

final as (

    select
        identifier_type,
        identifier_value,
        profile_id,
        first_seen_at,
        last_seen_at,
        records,
        assigned_at

    from registry

)

select * from final
