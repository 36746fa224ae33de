{{
    config(
        materialized='incremental',
        unique_key='event_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook="{{ omniplay.bulk_write_begin() }}",
        post_hook="{{ omniplay.bulk_write_end() }}",
    )
}}
{#-
    The unified event stream. A nightly (incremental) build reads only
    - events loaded since the newest loaded_at already here, less
      var('omniplay__events_lookback_days') for loaders that commit out of order, and
    - events already here whose profile id this build's identity merges retired or split
      (fct_identity_merges), so they follow the surviving profile id, and events not
      linked to any profile yet that carry an identifier (when there are any: the
      sources are then scanned for their ids, which the lookback read alone avoids);
    resolves them again and writes only the rows that are new or whose content changed
    (key event_id): the lookback's unchanged rows keep their old processed_at, so the
    journey models downstream recompute only profiles whose events really changed. The
    table stays equal to a full rebuild (tests/journeys).
-#}
{%- set content_columns = [
    'profile_id', 'channel', 'event_type', 'occurred_at', 'store_id', 'product_id', 'revenue', 'order_id',
    'quantity', 'campaign_id', 'message_id', 'detail', 'source_event_id', 'resolved_identifier_type',
    'has_identifiers', 'loaded_at',
] -%}
{#- Decided before the model's SQL is built: the lookback bound, as a literal so that it
    reaches every source scan (the web events table skips row groups by loaded_at, the
    other sources filter before normalizing), and whether any event must be resolved
    again beyond the lookback (a night without merges or unlinked events then never
    scans whole sources). -#}
{%- set resolve_again = true -%}
{%- set loaded_after = none -%}
{%- if is_incremental() and execute -%}
    {%- set state = run_query(
        "select cast(" ~ dbt.dateadd('day', -1 * var('omniplay__events_lookback_days'), 'max(loaded_at)')
        ~ " as " ~ dbt.type_string() ~ "), (select count(*) from " ~ this
        ~ " where (profile_id is null and has_identifiers) or profile_id in (select retired_profile_id from "
        ~ ref('fct_identity_merges') ~ " where recorded_at > (select max(processed_at) from " ~ this ~ ")))"
        ~ " from " ~ this
    ) -%}
    {%- set loaded_after = state.columns[0].values()[0] -%}
    {%- set resolve_again = loaded_after is none or state.columns[1].values()[0] > 0 -%}
{%- endif %}
with

web_events as (

    select * from {{ ref('int_events_web') }}

),

store_events as (

    select * from {{ ref('int_events_store') }}

),

email_events as (

    select * from {{ ref('int_events_email') }}

),

sms_events as (

    select * from {{ ref('int_events_sms') }}

),

event_scans as (

    select * from {{ ref('int_events_event') }}

),

identity_map as (

    select
        identifier_type,
        identifier_value,
        profile_id

    from {{ ref('dim_identity_map') }}

),

identity_merges as (

    select * from {{ ref('fct_identity_merges') }}

),

unioned as (

    select * from web_events
    union all
    select * from store_events
    union all
    select * from email_events
    union all
    select * from sms_events
    union all
    select * from event_scans

),

{% if is_incremental() %}

watermark as (

    select
        {{ dbt.dateadd('day', -1 * var('omniplay__events_lookback_days'), 'max(loaded_at)') }} as loaded_after,
        max(processed_at) as last_processed_at

    from {{ this }}

),

{% if resolve_again %}

{#- Events to resolve again: those whose profile id this build retired or split off,
    and those whose identifiers the identity map did not know yet (an SMS number, say,
    seen before the CRM record that brings it into the map). -#}
rekeyed_events as (

    select existing.event_id

    from {{ this }} as existing
    where existing.profile_id in (
        select identity_merges.retired_profile_id
        from identity_merges
        cross join watermark
        where identity_merges.recorded_at > watermark.last_processed_at
    )
        or (existing.profile_id is null and existing.has_identifiers)

),

batch as (

    select unioned.*

    from unioned
    cross join watermark
    where unioned.loaded_at > watermark.loaded_after
        or watermark.loaded_after is null
        or unioned.event_id in (select rekeyed_events.event_id from rekeyed_events)

),

{% else %}

batch as (

    select unioned.*
    from unioned
    where unioned.loaded_at > cast('{{ loaded_after }}' as {{ dbt.type_timestamp() }})

),

{% endif %}

{% else %}

batch as (

    select * from unioned

),

{% endif %}

{#- The first identifier (in the channel's order of strength) that the identity map knows
    decides the profile; all of a record's identifiers normally sit in one profile. -#}
resolved as (

    select
        batch.*,
        primary_map.profile_id as primary_profile_id,
        secondary_map.profile_id as secondary_profile_id,
        tertiary_map.profile_id as tertiary_profile_id

    from batch
    left join identity_map as primary_map
        on batch.primary_identifier_type = primary_map.identifier_type
        and batch.primary_identifier_value = primary_map.identifier_value
    left join identity_map as secondary_map
        on batch.secondary_identifier_type = secondary_map.identifier_type
        and batch.secondary_identifier_value = secondary_map.identifier_value
    left join identity_map as tertiary_map
        on batch.tertiary_identifier_type = tertiary_map.identifier_type
        and batch.tertiary_identifier_value = tertiary_map.identifier_value

),

final as (

    select
        event_id,
        coalesce(primary_profile_id, secondary_profile_id, tertiary_profile_id) as profile_id,
        channel,
        event_type,
        occurred_at,
        store_id,
        product_id,
        revenue,
        order_id,
        quantity,
        campaign_id,
        message_id,
        detail,
        source_event_id,
        case
            when primary_profile_id is not null then primary_identifier_type
            when secondary_profile_id is not null then secondary_identifier_type
            when tertiary_profile_id is not null then tertiary_identifier_type
        end as resolved_identifier_type,
        (
            primary_identifier_value is not null
            or secondary_identifier_value is not null
            or tertiary_identifier_value is not null
        ) as has_identifiers,
        loaded_at,
        {{ omniplay.identity_build_timestamp() }} as processed_at

    from resolved

),

{% if is_incremental() %}

{#- The rows already here for the batch's events (the batch is the small side). -#}
existing as (

    select current_rows.*
    from {{ this }} as current_rows
    where current_rows.event_id in (select final.event_id from final)
    {%- if not resolve_again %}
        {#- A batch event stored with an older loaded_at is new to this comparison and
            is rewritten (delete+insert replaces the old row): exact, and the scan of
            this table stays within the lookback's row groups. #}
        and current_rows.loaded_at > cast('{{ loaded_after }}' as {{ dbt.type_timestamp() }})
    {%- endif %}

),

written as (

    select final.*

    from final
    left join existing
        on final.event_id = existing.event_id
    where existing.event_id is null
        {%- for column in content_columns %}
        or final.{{ column }} is distinct from existing.{{ column }}
        {%- endfor %}

)

{% else %}

written as (

    select * from final

)

{% endif %}

select * from written
