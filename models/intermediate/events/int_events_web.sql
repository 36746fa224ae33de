{{ config(materialized='view') }}
{#- A view, not a table: the nightly fct_customer_events reads only new rows through it. -#}
with

web_events as (

    select * from {{ ref('int_web_events_unioned') }}
    where is_customer_event

),

final as (

    select
        event_source || ':' || event_id as event_id,
        event_id as source_event_id,
        case when platform = 'app' then 'app' else 'web' end as channel,
        event_type,
        occurred_at,
        loaded_at,
        cast(null as {{ dbt.type_string() }}) as store_id,
        product_id,
        order_id,
        cast(case when event_type = 'purchase' then 1 end as {{ dbt.type_int() }}) as quantity,
        revenue,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        cast(null as {{ dbt.type_string() }}) as message_id,
        search_term as detail,
        'user_id' as primary_identifier_type,
        user_id as primary_identifier_value,
        'device_id' as secondary_identifier_type,
        device_id as secondary_identifier_value,
        'cookie_id' as tertiary_identifier_type,
        cookie_id as tertiary_identifier_value

    from web_events

)

select * from final
