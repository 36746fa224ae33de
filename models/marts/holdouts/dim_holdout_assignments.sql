{{
    config(
        materialized='incremental',
        unique_key=['profile_id', 'scope'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        full_refresh=false,
    )
}}
{#-
    Holdout arms, persisted: this model reads its own previous version and only inserts
    (profile, scope) pairs it has never seen, so a profile never changes arm. A later
    change of a percentage applies to new profiles only (each row keeps the percentage
    it was drawn with). It ignores --full-refresh on purpose: the arms are history.

    Scopes: `global` (never contacted by any play), one per play (models/audiences/*.yml,
    config.meta.play.holdout_pct), and `geo` when var('omniplay__holdout_geo_regions')
    names store regions (the home store's region decides, at first assignment).
    Merges: when the identity build retires a profile id, its rows turn `retired` with the
    surviving id noted; the survivor's own assignment stands.
-#}
{%- set scopes = omniplay.holdout_scopes() -%}
{%- set geo_regions = var('omniplay__holdout_geo_regions') or [] -%}

with

profiles as (

    select * from {{ ref('dim_profiles') }}

),

stores as (

    select * from {{ ref('stg_stores__stores') }}

),

identity_merges as (

    select * from {{ ref('fct_identity_merges') }}

),

scopes as (

    {%- for item in scopes %}
    select
        cast('{{ item.scope }}' as {{ dbt.type_string() }}) as scope,
        cast({{ item.holdout_pct }} as {{ omniplay.type_double() }}) as holdout_pct
    {{ "union all" if not loop.last }}
    {%- endfor %}

),

candidates as (

    select
        profiles.profile_id,
        scopes.scope,
        scopes.holdout_pct,
        {{ omniplay.holdout_bucket('profiles.profile_id', 'scopes.scope') }} as bucket

    from profiles
    cross join scopes

    {%- if geo_regions %}

    union all

    select
        profiles.profile_id,
        'geo' as scope,
        cast(null as {{ omniplay.type_double() }}) as holdout_pct,
        cast(null as {{ dbt.type_bigint() }}) as bucket

    from profiles
    {%- endif %}

),

drawn as (

    select
        candidates.profile_id,
        candidates.scope,
        case
            {%- if geo_regions %}
            when candidates.scope = 'geo' then
                case
                    when stores.region in (
                        {%- for region in geo_regions %}'{{ region }}'{{ ", " if not loop.last }}{% endfor -%}
                    ) then 'holdout'
                    else 'treatment'
                end
            {%- endif %}
            when candidates.bucket < candidates.holdout_pct * 100 then 'holdout'
            else 'treatment'
        end as arm,
        {{ omniplay.as_of_timestamp() }} as assigned_at,
        case when candidates.scope = 'geo' then 'home_store_region' else 'salted_hash' end as method,
        candidates.bucket,
        candidates.holdout_pct,
        case when candidates.scope = 'geo' then stores.region end as region,
        'active' as status,
        cast(null as {{ dbt.type_string() }}) as retired_into_profile_id,
        cast(null as {{ dbt.type_timestamp() }}) as retired_at

    from candidates
    inner join profiles
        on candidates.profile_id = profiles.profile_id
    left join stores
        on profiles.home_store_id = stores.store_id

),

{% if is_incremental() %}

new_assignments as (

    select drawn.*

    from drawn
    left join {{ this }} as existing
        on drawn.profile_id = existing.profile_id
        and drawn.scope = existing.scope
    where existing.profile_id is null

),

{#- Active rows of ids the identity build has since retired: kept with their arm, marked. -#}
retirements as (

    select
        existing.profile_id,
        existing.scope,
        existing.arm,
        existing.assigned_at,
        existing.method,
        existing.bucket,
        existing.holdout_pct,
        existing.region,
        'retired' as status,
        identity_merges.profile_id as retired_into_profile_id,
        identity_merges.recorded_at as retired_at

    from {{ this }} as existing
    inner join identity_merges
        on existing.profile_id = identity_merges.retired_profile_id
        and identity_merges.change_type = 'merge'
    where existing.status = 'active'
        and existing.profile_id not in (select profiles.profile_id from profiles)

),

final as (

    select * from new_assignments
    union all
    select * from retirements

)

{% else %}

final as (

    select * from drawn

)

{% endif %}

select * from final
