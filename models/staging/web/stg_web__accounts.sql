with

source as (

    select * from {{ source('web', 'accounts') }}

),

country_calling_codes as (

    select * from {{ ref('country_calling_codes') }}

),

identifier_blocklist as (

    select * from {{ ref('identifier_blocklist') }}

),

renamed as (

    select
        {{ omniplay.normalize_identifier('user_id', upper=true) }} as user_id,
        email as email_raw,
        {{ omniplay.normalize_email('email') }} as email_normalized,
        phone as phone_raw,
        {{ omniplay.normalize_identifier('crm_id', upper=true) }} as crm_id_normalized,
        crm_id as crm_id_raw,
        {{ omniplay.to_utc('created_at') }} as created_at,
        {{ omniplay.to_utc('_loaded_at') }} as loaded_at

    from source

),

{# Accounts carry no country: only numbers written in international form (or in the
    national form of var omniplay__default_phone_country, when set) become E.164. #}
normalized as (

    select
        renamed.user_id,
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
        case
            when not {{ omniplay.is_blocklisted('renamed.crm_id_normalized', 'id') }}
                then renamed.crm_id_normalized
        end as crm_id,
        renamed.crm_id_raw,
        renamed.created_at,
        renamed.loaded_at

    from renamed
    left join country_calling_codes
        on country_calling_codes.country = {{ omniplay.default_phone_country() }}

),

final as (

    select
        user_id,
        email,
        email_raw,
        {{ omniplay.is_valid_email('email') }} as is_valid_email,
        phone,
        phone_raw,
        crm_id,
        crm_id_raw,
        created_at,
        loaded_at

    from normalized

)

select * from final
