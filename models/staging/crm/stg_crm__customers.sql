{#- A table, not a view: deduplicated and normalized once per build instead of once per
    reader (identity observations, profiles, consent). -#}
{{ config(materialized='table') }}
with

source as (

    select * from {{ source('crm', 'customers') }}

),

country_calling_codes as (

    select * from {{ ref('country_calling_codes') }}

),

identifier_blocklist as (

    select * from {{ ref('identifier_blocklist') }}

),

renamed as (

    select
        {{ omniplay.normalize_identifier('crm_id', upper=true) }} as crm_id,
        nullif(trim(first_name), '') as first_name,
        nullif(trim(last_name), '') as last_name,
        email as email_raw,
        {{ omniplay.normalize_email('email') }} as email_normalized,
        phone as phone_raw,
        upper(trim(country)) as country,
        cast(birth_date as date) as birth_date,
        {{ omniplay.to_utc('created_at') }} as created_at,
        {{ omniplay.to_utc('updated_at') }} as updated_at,
        coalesce(do_not_contact, false) as do_not_contact,
        {{ omniplay.to_utc('_loaded_at') }} as loaded_at

    from source

),

{# The CRM exports some customers more than once: keep the latest version of each,
    ties broken on every column so the choice never depends on file order. #}
ranked as (

    select
        *,
        row_number() over (
            partition by crm_id
            order by
                updated_at desc nulls last,
                loaded_at desc nulls last,
                email_raw asc,
                phone_raw asc,
                first_name asc,
                last_name asc,
                country asc,
                created_at asc
        ) as version_rank

    from renamed
    where crm_id is not null

),

deduplicated as (

    select * from ranked
    where version_rank = 1

),

normalized as (

    select
        deduplicated.crm_id,
        deduplicated.first_name,
        deduplicated.last_name,
        case
            when not {{ omniplay.is_blocklisted('deduplicated.email_normalized', 'email') }}
                then deduplicated.email_normalized
        end as email,
        deduplicated.email_raw,
        case
            when not {{ omniplay.is_blocklisted(omniplay.phone_digits('deduplicated.phone_raw'), 'phone') }}
                then {{ omniplay.normalize_phone_e164(
                    'deduplicated.phone_raw',
                    'country_calling_codes.calling_code',
                    'country_calling_codes.trunk_prefix'
                ) }}
        end as phone,
        deduplicated.phone_raw,
        deduplicated.country,
        deduplicated.birth_date,
        deduplicated.created_at,
        deduplicated.updated_at,
        deduplicated.do_not_contact,
        deduplicated.loaded_at

    from deduplicated
    left join country_calling_codes
        on deduplicated.country = country_calling_codes.country

),

final as (

    select
        crm_id,
        first_name,
        last_name,
        email,
        email_raw,
        {{ omniplay.is_valid_email('email') }} as is_valid_email,
        phone,
        phone_raw,
        country,
        birth_date,
        created_at,
        updated_at,
        do_not_contact,
        loaded_at

    from normalized

)

select * from final
