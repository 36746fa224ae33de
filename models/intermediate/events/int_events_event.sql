{{ config(materialized='view') }}
{#- Badge scans at in-store and off-site events; a view so the nightly
    fct_customer_events reads only new rows through it. -#}
with

badge_scans as (

    select * from {{ ref('stg_events__badge_scans') }}

),

final as (

    select
        'scan:' || scan_id as event_id,
        scan_id as source_event_id,
        'event' as channel,
        'badge_scan' as event_type,
        scanned_at as occurred_at,
        loaded_at,
        venue_store_id as store_id,
        cast(null as {{ dbt.type_string() }}) as product_id,
        cast(null as {{ dbt.type_string() }}) as order_id,
        cast(null as {{ dbt.type_int() }}) as quantity,
        cast(null as {{ omniplay.type_double() }}) as revenue,
        event_code as campaign_id,
        cast(null as {{ dbt.type_string() }}) as message_id,
        event_name as detail,
        'badge_id' as primary_identifier_type,
        badge_id as primary_identifier_value,
        'email' as secondary_identifier_type,
        email as secondary_identifier_value,
        'phone' as tertiary_identifier_type,
        phone as tertiary_identifier_value

    from badge_scans
    where scan_id is not null

)

select * from final
