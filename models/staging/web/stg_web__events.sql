{# The largest source, deduplicated: a table pays for that once per build instead of
   once per reader (every data test and downstream model). #}
{{ config(materialized='table') }}

with

source as {{ omniplay.inline_cte() }} (

    select * from {{ source('web', 'events') }}

),

identifier_blocklist as (

    select * from {{ ref('identifier_blocklist') }}

),

{# Trackers deliver some events more than once (well under 1% of rows): keep the first
    delivery of each event_id, ties broken on every column so the choice never depends
    on file order. Only ids delivered more than once are ranked: counting deliveries per
    id is a hash aggregate over one column, where a window over every event sorts all of
    them, full width, by eight columns. Deliveries are counted per 64-bit hash of the id
    (grouping_hash: no copy of 14M id strings into the aggregate); ids whose hash occurs
    more than once are ranked, still partitioned by the id itself, so a hash collision
    only sends both ids through the ranking, where each keeps its first delivery. The
    source is scanned once per step (inline_cte), each time with only the columns that
    step needs; the trimmed id is the event_id kept (trim_text: no copy of ids that need
    no trimming). #}
keyed as {{ omniplay.inline_cte() }} (

    select
        {{ omniplay.trim_text('event_id') }} as delivery_key,
        source.*

    from source

),

duplicated_event_ids as (

    select {{ omniplay.grouping_hash('delivery_key') }} as delivery_hash
    from keyed
    where delivery_key <> ''
    group by {{ omniplay.grouping_hash('delivery_key') }}
    having count(*) > 1

),

single_deliveries as (

    select keyed.*
    from keyed
    left join duplicated_event_ids
        on {{ omniplay.grouping_hash('keyed.delivery_key') }} = duplicated_event_ids.delivery_hash
    where keyed.delivery_key <> ''
        and duplicated_event_ids.delivery_hash is null

),

ranked_deliveries as (

    select
        keyed.*,
        row_number() over (
            partition by keyed.delivery_key
            order by
                keyed._loaded_at nulls last,
                keyed.occurred_at nulls last,
                keyed.anonymous_id,
                keyed.device_id,
                keyed.user_id,
                lower(trim(keyed.event_type)),
                {{ omniplay.normalize_identifier('keyed.product_id', upper=true) }},
                keyed.page_url
        ) as delivery_rank

    from keyed
    inner join duplicated_event_ids
        on {{ omniplay.grouping_hash('keyed.delivery_key') }} = duplicated_event_ids.delivery_hash
    where keyed.delivery_key <> ''

),

deliveries as (

    {%- set source_columns = [
        'delivery_key', 'platform', 'anonymous_id', 'device_id', 'user_id', 'event_type', 'occurred_at',
        'product_id', 'order_id', 'revenue', 'search_term', 'page_url', '_loaded_at',
    ] %}
    select {{ source_columns | join(', ') }} from single_deliveries
    union all
    select {{ source_columns | join(', ') }} from ranked_deliveries
    where delivery_rank = 1

),

renamed as (

    select
        delivery_key as event_id,
        lower(trim(platform)) as platform,
        {{ omniplay.normalize_identifier('anonymous_id') }} as cookie_id_normalized,
        {{ omniplay.normalize_identifier('device_id') }} as device_id_normalized,
        {{ omniplay.normalize_identifier('user_id', upper=true) }} as user_id_normalized,
        lower(trim(event_type)) as event_type,
        {{ omniplay.to_utc('occurred_at') }} as occurred_at,
        {{ omniplay.normalize_identifier('product_id', upper=true) }} as product_id,
        {{ omniplay.normalize_identifier('order_id') }} as order_id,
        cast(revenue as {{ omniplay.type_double() }}) as revenue,
        nullif(trim(search_term), '') as search_term,
        page_url,
        {{ omniplay.to_utc('_loaded_at') }} as loaded_at

    from deliveries

),

final as (

    select
        event_id,
        platform,
        case
            when not {{ omniplay.is_blocklisted('cookie_id_normalized', 'id') }} then cookie_id_normalized
        end as cookie_id,
        case
            when not {{ omniplay.is_blocklisted('device_id_normalized', 'id') }} then device_id_normalized
        end as device_id,
        case
            when not {{ omniplay.is_blocklisted('user_id_normalized', 'id') }} then user_id_normalized
        end as user_id,
        event_type,
        occurred_at,
        product_id,
        order_id,
        revenue,
        search_term,
        page_url,
        loaded_at

    from renamed

)

select * from final
