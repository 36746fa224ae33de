{{ config(enabled='snowplow' in var('omniplay__event_sources')) }}
{#- Snowplow atomic events in omniplay's clickstream shape, one row per event_id. -#}
{%- set source_relation = source('snowplow', 'events') -%}

with

source as (

    select * from {{ source_relation }}

),

identifier_blocklist as (

    select * from {{ ref('identifier_blocklist') }}

),

renamed as (

    select
        trim(cast(event_id as {{ dbt.type_string() }})) as event_id,
        lower(trim(platform)) as platform_raw,
        lower(trim(event_name)) as event_name,
        {{ omniplay.normalize_identifier('domain_userid') }} as cookie_id_normalized,
        domain_userid as cookie_id_raw,
        {{ omniplay.normalize_identifier('user_id', upper=true) }} as user_id_normalized,
        user_id as user_id_raw,
        network_userid,
        domain_sessionid,
        cast(collector_tstamp as {{ dbt.type_timestamp() }}) as collected_at,
        cast(coalesce(derived_tstamp, collector_tstamp) as {{ dbt.type_timestamp() }}) as occurred_at,
        cast(
            coalesce({{ omniplay.optional_column(source_relation, 'load_tstamp', 'collector_tstamp') }}, collector_tstamp)
            as {{ dbt.type_timestamp() }}
        ) as loaded_at,
        {{ omniplay.normalize_identifier(omniplay.optional_column(source_relation, 'tr_orderid', 'null')) }} as order_id,
        cast({{ omniplay.optional_column(source_relation, 'tr_total', 'null') }} as {{ omniplay.type_double() }}) as order_total,
        page_url,
        page_urlpath

    from source

),

{#- At-least-once delivery repeats event ids: keep the first collected, as Snowplow's own
    models do, ties broken on every column so file order never decides. -#}
ranked as (

    select
        *,
        row_number() over (
            partition by event_id
            order by collected_at, occurred_at, loaded_at, cookie_id_raw, user_id_raw, event_name, page_url
        ) as delivery_rank

    from renamed
    where event_id is not null and event_id <> ''

),

final as (

    select
        event_id,
        case when platform_raw in ('mob', 'app', 'tv', 'cnsl', 'iot') then 'app' else 'web' end as platform,
        platform_raw,
        event_name,
        {{ omniplay.null_if_blocklisted('cookie_id_normalized', 'id') }} as cookie_id,
        cookie_id_raw,
        {{ omniplay.null_if_blocklisted('user_id_normalized', 'id') }} as user_id,
        user_id_raw,
        network_userid,
        domain_sessionid,
        occurred_at,
        collected_at,
        loaded_at,
        order_id,
        case when event_name = 'transaction' then order_total end as revenue,
        page_url,
        page_urlpath

    from ranked
    where delivery_rank = 1

)

select * from final
