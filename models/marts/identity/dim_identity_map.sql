{{ config(pre_hook="{{ omniplay.bulk_write_begin() }}", post_hook="{{ omniplay.bulk_write_end() }}") }}
{#- Every resolved identifier and the unified profile it belongs to. -#}
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
