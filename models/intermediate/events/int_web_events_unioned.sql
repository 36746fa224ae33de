{{ config(materialized='view') }}
{#-
    The clickstream from every web and app event source: omniplay's own web/events plus
    each adapter listed in var omniplay__event_sources (Snowplow atomic events,
    Segment and RudderStack tracks, pages and identifies), one column set. A view: the
    nightly fct_customer_events reads only new rows through it, and with no adapter
    enabled it is stg_web__events as it is.
    Adapter event names map onto omniplay event types through var omniplay__event_type_map;
    identify calls and tracker heartbeats carry identifiers but are no customer event.
-#}
{%- set adapters = var('omniplay__event_sources') -%}
{%- set known = ['snowplow', 'segment', 'rudderstack'] -%}
{%- for name in adapters if name not in known -%}
    {{ exceptions.raise_compiler_error(
        "var omniplay__event_sources: unknown event source '" ~ name ~ "'. Please set it to a list of "
        ~ known | join(', ') ~ " (omniplay's own web/events source is always read)."
    ) }}
{%- endfor -%}
{%- set type_map = var('omniplay__event_type_map') -%}
{%- set heartbeats = var('omniplay__event_source_heartbeats') -%}
{%- set segment_spec = [] -%}
{%- for name in ['segment', 'rudderstack'] if name in adapters -%}
    {%- for table_name in ['tracks', 'pages', 'identifies'] -%}
        {%- do segment_spec.append((name, table_name)) -%}
    {%- endfor -%}
{%- endfor %}

with

omniplay_events as (

    select * from {{ ref('stg_web__events') }}

),

{%- if 'snowplow' in adapters %}

snowplow_events as (

    select * from {{ ref('stg_snowplow__events') }}

),
{%- endif %}

{%- for name, table_name in segment_spec %}

{{ name }}_{{ table_name }} as (

    select * from {{ ref('stg_' ~ name ~ '__' ~ table_name) }}

),
{%- endfor %}

unioned as (

    select
        'web' as event_source,
        event_id,
        platform,
        cookie_id,
        device_id,
        user_id,
        event_type as event_name,
        event_type,
        true as is_customer_event,
        occurred_at,
        product_id,
        order_id,
        revenue,
        search_term,
        page_url,
        loaded_at

    from omniplay_events

    {%- if 'snowplow' in adapters %}

    union all

    select
        'snowplow' as event_source,
        event_id,
        platform,
        cookie_id,
        cast(null as {{ dbt.type_string() }}) as device_id,
        user_id,
        event_name,
        {{ omniplay.event_type_from_name('event_name', type_map) }} as event_type,
        {% if heartbeats -%}
            event_name not in ({% for heartbeat in heartbeats -%}
                {{ dbt.string_literal(heartbeat | lower) }}{{ ', ' if not loop.last }}
            {%- endfor %})
        {%- else -%}
            true
        {%- endif %} as is_customer_event,
        occurred_at,
        cast(null as {{ dbt.type_string() }}) as product_id,
        order_id,
        revenue,
        cast(null as {{ dbt.type_string() }}) as search_term,
        page_url,
        loaded_at

    from snowplow_events
    where event_name is not null
    {%- endif %}

    {%- for name, table_name in segment_spec %}

    union all

    select
        '{{ name }}' as event_source,
        event_id,
        platform,
        cookie_id,
        device_id,
        user_id,
        event_name,
        {{ omniplay.event_type_from_name('event_name', type_map) }} as event_type,
        {{ 'false' if table_name == 'identifies' else 'true' }} as is_customer_event,
        occurred_at,
        cast(null as {{ dbt.type_string() }}) as product_id,
        cast(null as {{ dbt.type_string() }}) as order_id,
        cast(null as {{ omniplay.type_double() }}) as revenue,
        cast(null as {{ dbt.type_string() }}) as search_term,
        page_url,
        loaded_at

    from {{ name }}_{{ table_name }}
    where event_name is not null
    {%- endfor %}

),

final as (

    select * from unioned

)

select * from final
