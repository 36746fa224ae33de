{{ config(materialized='view') }}
{#- A view, not a table: the nightly fct_customer_events reads only new rows through it. -#}
with

sms_events as (

    select * from {{ ref('stg_sms__events') }}

),

final as (

    select
        'sms:' || event_id as event_id,
        event_id as source_event_id,
        'sms' as channel,
        event_type,
        occurred_at,
        loaded_at,
        cast(null as {{ dbt.type_string() }}) as store_id,
        cast(null as {{ dbt.type_string() }}) as product_id,
        cast(null as {{ dbt.type_string() }}) as order_id,
        cast(null as {{ dbt.type_int() }}) as quantity,
        cast(null as {{ omniplay.type_double() }}) as revenue,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        message_id,
        reply_text as detail,
        'phone' as primary_identifier_type,
        phone as primary_identifier_value,
        cast(null as {{ dbt.type_string() }}) as secondary_identifier_type,
        cast(null as {{ dbt.type_string() }}) as secondary_identifier_value,
        cast(null as {{ dbt.type_string() }}) as tertiary_identifier_type,
        cast(null as {{ dbt.type_string() }}) as tertiary_identifier_value

    from sms_events
    where event_id is not null

)

select * from final
