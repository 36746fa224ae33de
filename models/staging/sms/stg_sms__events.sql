{#- A table, not a view: normalized once per build instead of once per reader (identity,
    profiles, consent, the event stream). Stored in load order, so the nightly
    fct_customer_events' filter on the stored, already-UTC loaded_at skips every row
    group but the newest few (zone maps) instead of picking rows out of all of them. -#}
{{ config(materialized='table') }}
with

source as (

    select * from {{ source('sms', 'events') }}

),

country_calling_codes as (

    select * from {{ ref('country_calling_codes') }}

),

identifier_blocklist as (

    select * from {{ ref('identifier_blocklist') }}

),

renamed as (

    select
        {{ omniplay.trim_text('event_id') }} as event_id,
        {{ omniplay.normalize_identifier('message_id') }} as message_id,
        phone as phone_raw,
        lower(trim(event_type)) as event_type,
        nullif(trim(reply_text), '') as reply_text,
        {{ omniplay.to_utc('occurred_at') }} as occurred_at,
        {{ omniplay.to_utc('_loaded_at') }} as loaded_at

    from source

),

{# Providers report numbers in international form; a national one needs
    var omniplay__default_phone_country to be dialled. #}
normalized as (

    select
        renamed.event_id,
        renamed.message_id,
        case
            when not {{ omniplay.is_blocklisted(omniplay.phone_digits('renamed.phone_raw'), 'phone') }}
                then {{ omniplay.normalize_phone_e164(
                    'renamed.phone_raw',
                    'country_calling_codes.calling_code',
                    'country_calling_codes.trunk_prefix'
                ) }}
        end as phone,
        renamed.phone_raw,
        renamed.event_type,
        renamed.reply_text,
        renamed.occurred_at,
        renamed.loaded_at

    from renamed
    left join country_calling_codes
        on country_calling_codes.country = {{ omniplay.default_phone_country() }}

),

final as (

    select * from normalized

)

select * from final
order by loaded_at
