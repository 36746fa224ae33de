{#-
    Staging of one table of the Segment warehouse schema, which RudderStack writes too:
    `tracks`, `pages` or `identifies` of source `source_name`, as omniplay's clickstream
    columns, one row per message id (`id`; at-least-once delivery repeats it, the first
    loaded is kept). Timestamps are read as `timestamp with time zone` and staged as UTC.
    Identifiers: anonymous_id is the cookie, context_device_id (mobile SDKs) the device,
    user_id the login.
-#}
{% macro segment_spec_staging(source_name, table_name) -%}
    {%- if table_name not in ['tracks', 'pages', 'identifies'] -%}
        {{ exceptions.raise_compiler_error("segment_spec_staging: table_name must be tracks, pages or identifies, got '" ~ table_name ~ "'") }}
    {%- endif -%}
    {%- set source_relation = source(source_name, table_name) -%}
    {%- set null_string = 'cast(null as ' ~ dbt.type_string() ~ ')' -%}
    {%- set device_id = omniplay.optional_column(source_relation, 'context_device_id', null_string) -%}
    {#- uuid_ts: when the loader wrote the row; received_at where the table has no such column -#}
    {%- set loaded_at = omniplay.optional_column(source_relation, 'uuid_ts', 'received_at') -%}
    {%- if table_name == 'tracks' -%}
        {%- set event_name = 'lower(trim(event))' -%}
        {%- set page_url = omniplay.optional_column(source_relation, 'context_page_url', null_string) -%}
        {%- set page_path = omniplay.optional_column(source_relation, 'context_page_path', null_string) -%}
    {%- elif table_name == 'pages' -%}
        {%- set event_name = "'page_view'" -%}
        {%- set page_url = omniplay.optional_column(source_relation, 'url', null_string) -%}
        {%- set page_path = omniplay.optional_column(source_relation, 'path', null_string) -%}
    {%- else -%}
        {%- set event_name = "'identify'" -%}
        {%- set page_url = omniplay.optional_column(source_relation, 'context_page_url', null_string) -%}
        {%- set page_path = omniplay.optional_column(source_relation, 'context_page_path', null_string) -%}
    {%- endif %}

with

source as (

    select * from {{ source_relation }}

),

identifier_blocklist as (

    select * from {{ ref('identifier_blocklist') }}

),

renamed as (

    select
        trim(cast(id as {{ dbt.type_string() }})) as event_id,
        {{ event_name }} as event_name,
        {{ omniplay.normalize_identifier('anonymous_id') }} as cookie_id_normalized,
        anonymous_id as cookie_id_raw,
        {{ omniplay.normalize_identifier(device_id) }} as device_id_normalized,
        {{ device_id }} as device_id_raw,
        {{ omniplay.normalize_identifier('user_id', upper=true) }} as user_id_normalized,
        user_id as user_id_raw,
        {{ omniplay.to_utc(adapter.quote('timestamp')) }} as occurred_at,
        {{ omniplay.to_utc('received_at') }} as received_at,
        {{ omniplay.to_utc(loaded_at) }} as loaded_at,
        {{ page_url }} as page_url,
        {{ page_path }} as page_path

    from source

),

ranked as (

    select
        *,
        row_number() over (
            partition by event_id
            order by loaded_at, received_at, occurred_at, cookie_id_raw, device_id_raw, user_id_raw, event_name, page_url
        ) as delivery_rank

    from renamed
    where event_id is not null and event_id <> ''

),

final as (

    select
        event_id,
        case when device_id_normalized is not null then 'app' else 'web' end as platform,
        event_name,
        {{ omniplay.null_if_blocklisted('cookie_id_normalized', 'id') }} as cookie_id,
        cookie_id_raw,
        {{ omniplay.null_if_blocklisted('device_id_normalized', 'id') }} as device_id,
        device_id_raw,
        {{ omniplay.null_if_blocklisted('user_id_normalized', 'id') }} as user_id,
        user_id_raw,
        occurred_at,
        received_at,
        loaded_at,
        page_url,
        page_path

    from ranked
    where delivery_rank = 1

)

select * from final
{%- endmacro %}
