{#- A table, not a view: normalized once per build instead of once per reader (identity,
    profiles, consent, the event stream). Stored in load order, so the nightly
    fct_customer_events' filter on the stored, already-UTC loaded_at skips every row
    group but the newest few (zone maps) instead of picking rows out of all of them. -#}
{{ config(materialized='table') }}
with

source as (

    select * from {{ source('email', 'events') }}

),

identifier_blocklist as (

    select * from {{ ref('identifier_blocklist') }}

),

renamed as (

    select
        {{ omniplay.trim_text('event_id') }} as event_id,
        {{ omniplay.normalize_identifier('message_id') }} as message_id,
        {{ omniplay.normalize_identifier('campaign_id') }} as campaign_id,
        email as email_raw,
        {{ omniplay.normalize_email('email') }} as email_normalized,
        lower(trim(event_type)) as event_type,
        lower(trim(bounce_type)) as bounce_type,
        {{ omniplay.to_utc('occurred_at') }} as occurred_at,
        {{ omniplay.to_utc('_loaded_at') }} as loaded_at

    from source

),

normalized as (

    select
        event_id,
        message_id,
        campaign_id,
        case
            when not {{ omniplay.is_blocklisted('email_normalized', 'email') }} then email_normalized
        end as email,
        email_raw,
        event_type,
        bounce_type,
        occurred_at,
        loaded_at

    from renamed

),

final as (

    select
        event_id,
        message_id,
        campaign_id,
        email,
        email_raw,
        {{ omniplay.is_valid_email('email') }} as is_valid_email,
        event_type,
        bounce_type,
        occurred_at,
        loaded_at

    from normalized

)

select * from final
order by loaded_at
