{{ config(materialized='view') }}
{#- A view, not a table: the nightly fct_customer_events reads only new rows through it. -#}
with

email_events as (

    select * from {{ ref('stg_email__events') }}

),

final as (

    select
        'email:' || event_id as event_id,
        event_id as source_event_id,
        'email' as channel,
        event_type,
        occurred_at,
        loaded_at,
        cast(null as {{ dbt.type_string() }}) as store_id,
        cast(null as {{ dbt.type_string() }}) as product_id,
        cast(null as {{ dbt.type_string() }}) as order_id,
        cast(null as {{ dbt.type_int() }}) as quantity,
        cast(null as {{ omniplay.type_double() }}) as revenue,
        campaign_id,
        message_id,
        bounce_type as detail,
        'email' as primary_identifier_type,
        email as primary_identifier_value,
        cast(null as {{ dbt.type_string() }}) as secondary_identifier_type,
        cast(null as {{ dbt.type_string() }}) as secondary_identifier_value,
        cast(null as {{ dbt.type_string() }}) as tertiary_identifier_type,
        cast(null as {{ dbt.type_string() }}) as tertiary_identifier_value

    from email_events
    where event_id is not null

)

select * from final
