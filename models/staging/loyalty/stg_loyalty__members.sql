{#- A table, not a view: deduplicated and normalized once per build instead of once per
    reader (identity observations, profiles, consent). -#}
{{ config(materialized='table') }}
with

source as (

    select * from {{ source('loyalty', 'members') }}

),

stores as (

    select * from {{ ref('stg_stores__stores') }}

),

country_calling_codes as (

    select * from {{ ref('country_calling_codes') }}

),

identifier_blocklist as (

    select * from {{ ref('identifier_blocklist') }}

),

renamed as (

    select
        {{ omniplay.normalize_identifier('loyalty_id', upper=true) }} as loyalty_id,
        {{ omniplay.normalize_identifier('crm_id', upper=true) }} as crm_id_normalized,
        crm_id as crm_id_raw,
        nullif(trim(first_name), '') as first_name,
        nullif(trim(last_name), '') as last_name,
        email as email_raw,
        {{ omniplay.normalize_email('email') }} as email_normalized,
        phone as phone_raw,
        lower(trim(tier)) as tier,
        cast(points_balance as integer) as points_balance,
        {{ omniplay.normalize_identifier('home_store_id', upper=true) }} as home_store_id,
        {{ omniplay.to_utc('enrolled_at') }} as enrolled_at,
        lower(trim(status)) as status,
        {{ omniplay.to_utc('updated_at') }} as updated_at,
        {{ omniplay.to_utc('_loaded_at') }} as loaded_at

    from source

),

{# Members carry no country of their own: their home store's country dials their national numbers. #}
normalized as (

    select
        renamed.loyalty_id,
        case
            when not {{ omniplay.is_blocklisted('renamed.crm_id_normalized', 'id') }}
                then renamed.crm_id_normalized
        end as crm_id,
        renamed.crm_id_raw,
        renamed.first_name,
        renamed.last_name,
        case
            when not {{ omniplay.is_blocklisted('renamed.email_normalized', 'email') }}
                then renamed.email_normalized
        end as email,
        renamed.email_raw,
        case
            when not {{ omniplay.is_blocklisted(omniplay.phone_digits('renamed.phone_raw'), 'phone') }}
                then {{ omniplay.normalize_phone_e164(
                    'renamed.phone_raw',
                    'country_calling_codes.calling_code',
                    'country_calling_codes.trunk_prefix'
                ) }}
        end as phone,
        renamed.phone_raw,
        stores.country as home_store_country,
        renamed.tier,
        renamed.points_balance,
        renamed.home_store_id,
        renamed.enrolled_at,
        renamed.status,
        renamed.updated_at,
        renamed.loaded_at

    from renamed
    left join stores
        on renamed.home_store_id = stores.store_id
    left join country_calling_codes
        on stores.country = country_calling_codes.country

),

final as (

    select
        loyalty_id,
        crm_id,
        crm_id_raw,
        first_name,
        last_name,
        email,
        email_raw,
        {{ omniplay.is_valid_email('email') }} as is_valid_email,
        phone,
        phone_raw,
        home_store_id,
        home_store_country,
        tier,
        points_balance,
        enrolled_at,
        status,
        updated_at,
        loaded_at

    from normalized

)

select * from final
