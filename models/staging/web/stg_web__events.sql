{# The largest source, deduplicated with a window over all of it: a table pays for that
   once per build instead of once per reader (every data test and downstream model). #}
{{ config(materialized='table') }}

with

source as (

    select * from {{ source('web', 'events') }}

),

identifier_blocklist as (

    select * from {{ ref('identifier_blocklist') }}

),

renamed as (

    select
        trim(event_id) as event_id,
        lower(trim(platform)) as platform,
        {{ omniplay.normalize_identifier('anonymous_id') }} as cookie_id_normalized,
        anonymous_id as cookie_id_raw,
        {{ omniplay.normalize_identifier('device_id') }} as device_id_normalized,
        device_id as device_id_raw,
        {{ omniplay.normalize_identifier('user_id', upper=true) }} as user_id_normalized,
        user_id as user_id_raw,
        lower(trim(event_type)) as event_type,
        {{ omniplay.to_utc('occurred_at') }} as occurred_at,
        {{ omniplay.normalize_identifier('product_id', upper=true) }} as product_id,
        {{ omniplay.normalize_identifier('order_id') }} as order_id,
        cast(revenue as {{ omniplay.type_double() }}) as revenue,
        nullif(trim(search_term), '') as search_term,
        page_url,
        {{ omniplay.to_utc('_loaded_at') }} as loaded_at

    from source

),

{# Trackers deliver some events more than once: keep the first delivery of each
    event_id, ties broken on every column so the choice never depends on file order. #}
ranked as (

    select
        *,
        row_number() over (
            partition by event_id
            order by
                loaded_at nulls last,
                occurred_at nulls last,
                cookie_id_raw,
                device_id_raw,
                user_id_raw,
                event_type,
                product_id,
                page_url
        ) as delivery_rank

    from renamed
    where event_id is not null and event_id <> ''

),

deduplicated as (

    select * from ranked
    where delivery_rank = 1

),

final as (

    select
        event_id,
        platform,
        case
            when not {{ omniplay.is_blocklisted('cookie_id_normalized', 'id') }} then cookie_id_normalized
        end as cookie_id,
        cookie_id_raw,
        case
            when not {{ omniplay.is_blocklisted('device_id_normalized', 'id') }} then device_id_normalized
        end as device_id,
        device_id_raw,
        case
            when not {{ omniplay.is_blocklisted('user_id_normalized', 'id') }} then user_id_normalized
        end as user_id,
        user_id_raw,
        event_type,
        occurred_at,
        product_id,
        order_id,
        revenue,
        search_term,
        page_url,
        loaded_at

    from deduplicated

)

select * from final
