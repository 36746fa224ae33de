with

source as (

    select * from {{ source('consent', 'consent_log') }}

),

country_calling_codes as (

    select * from {{ ref('country_calling_codes') }}

),

identifier_blocklist as (

    select * from {{ ref('identifier_blocklist') }}

),

renamed as (

    select
        trim(consent_event_id) as consent_event_id,
        lower(trim(identifier_type)) as identifier_type,
        identifier_value as identifier_value_raw,
        lower(trim(channel)) as channel,
        lower(trim(action)) as action,
        lower(trim(source)) as source,
        {{ omniplay.to_utc('occurred_at') }} as occurred_at,
        {{ omniplay.to_utc('_loaded_at') }} as loaded_at

    from source

),

{# Each identifier is normalized by its own type's rule, so consent joins the identity
    map on exactly the values staging produces everywhere else. #}
typed as (

    select
        renamed.*,
        case renamed.identifier_type
            when 'email' then {{ omniplay.normalize_email('renamed.identifier_value_raw') }}
            when 'phone' then {{ omniplay.normalize_phone_e164(
                'renamed.identifier_value_raw',
                'country_calling_codes.calling_code',
                'country_calling_codes.trunk_prefix'
            ) }}
            when 'crm_id' then {{ omniplay.normalize_identifier('renamed.identifier_value_raw', upper=true) }}
            when 'loyalty_id' then {{ omniplay.normalize_identifier('renamed.identifier_value_raw', upper=true) }}
        end as identifier_value_normalized,
        case
            when renamed.identifier_type = 'phone' then {{ omniplay.phone_digits('renamed.identifier_value_raw') }}
        end as phone_digits

    from renamed
    left join country_calling_codes
        on country_calling_codes.country = {{ omniplay.default_phone_country() }}

),

cleaned as (

    select
        consent_event_id,
        identifier_type,
        case
            when identifier_type = 'email' and {{ omniplay.is_blocklisted('identifier_value_normalized', 'email') }} then null
            when identifier_type = 'phone' and {{ omniplay.is_blocklisted('phone_digits', 'phone') }} then null
            when identifier_type in ('crm_id', 'loyalty_id')
                and {{ omniplay.is_blocklisted('identifier_value_normalized', 'id') }} then null
            else identifier_value_normalized
        end as identifier_value,
        identifier_value_raw,
        channel,
        action,
        source,
        occurred_at,
        loaded_at

    from typed

),

final as (

    select * from cleaned

)

select * from final
