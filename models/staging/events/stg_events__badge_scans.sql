with

source as (

    select * from {{ source('events', 'badge_scans') }}

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
        trim(scan_id) as scan_id,
        upper(trim(event_code)) as event_code,
        nullif(trim(event_name), '') as event_name,
        {{ omniplay.normalize_identifier('venue_store_id', upper=true) }} as venue_store_id,
        {{ omniplay.normalize_identifier('badge_id') }} as badge_id_normalized,
        badge_id as badge_id_raw,
        nullif(trim(first_name), '') as first_name,
        nullif(trim(last_name), '') as last_name,
        email as email_raw,
        {{ omniplay.normalize_email('email') }} as email_normalized,
        phone as phone_raw,
        {{ omniplay.to_utc('scanned_at') }} as scanned_at,
        {{ omniplay.to_utc('_loaded_at') }} as loaded_at

    from source

),

{# Registrations carry no country: the venue store's country dials national numbers
    (var omniplay__default_phone_country for off-site venues). #}
normalized as (

    select
        renamed.scan_id,
        renamed.event_code,
        renamed.event_name,
        renamed.venue_store_id,
        case
            when not {{ omniplay.is_blocklisted('renamed.badge_id_normalized', 'id') }}
                then renamed.badge_id_normalized
        end as badge_id,
        renamed.badge_id_raw,
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
        stores.country as venue_country,
        renamed.scanned_at,
        renamed.loaded_at

    from renamed
    left join stores
        on renamed.venue_store_id = stores.store_id
    left join country_calling_codes
        on country_calling_codes.country = coalesce(stores.country, {{ omniplay.default_phone_country() }})

),

final as (

    select
        scan_id,
        event_code,
        event_name,
        venue_store_id,
        venue_country,
        badge_id,
        badge_id_raw,
        first_name,
        last_name,
        email,
        email_raw,
        {{ omniplay.is_valid_email('email') }} as is_valid_email,
        phone,
        phone_raw,
        scanned_at,
        loaded_at

    from normalized

)

select * from final
