{{
    config(
        materialized='incremental',
        unique_key='event_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}
{#-
    The unified event stream. A nightly (incremental) build reads only
    - events loaded since the newest loaded_at already here, less
      var('omniplay__events_lookback_days') for loaders that commit out of order, that
      are not stored yet (a lookback event already here is not read again), and
    - events already here whose profile id this build's identity merges retired or split
      (fct_identity_merges), so they follow the surviving profile id, and events not
      linked to any profile yet that carry an identifier; the sources are searched for
      these by their own ids (source_event_id), a filter DuckDB applies inside each
      source's scan;
    resolves them and writes the new ones and the stored ones whose content changed (key
    event_id): unchanged rows keep their old processed_at, so the journey models
    downstream recompute only profiles whose events really changed. A stored event's
    content changes only with its profile, which the second case covers: every
    identifier that moves to another profile logs its old profile id in
    fct_identity_merges. The table stays equal to a full rebuild (tests/journeys).
-#}
{#- Decided before the model's SQL is built: the lookback bound, as a literal so that it
    reaches every source scan (the web events table skips row groups by loaded_at, the
    other sources filter before normalizing) and the stored rows' scan, and whether any
    stored event may have to be resolved again (a night without merges or unlinked
    events then never searches the sources beyond the lookback). Both checks are cheap:
    the merge log is small, and the first unlinked event found ends the scan. -#}
{%- set resolve_again = true -%}
{%- set loaded_after = none -%}
{%- if is_incremental() and execute -%}
    {%- set state = run_query(
        "select cast(" ~ dbt.dateadd('day', -1 * var('omniplay__events_lookback_days'), 'max(loaded_at)')
        ~ " as " ~ dbt.type_string() ~ "), (select count(*) from " ~ ref('fct_identity_merges')
        ~ " where recorded_at > (select max(processed_at) from " ~ this ~ ")) + (select count(*) from (select 1 as found from "
        ~ this ~ " where profile_id is null and has_identifiers limit 1) as unlinked)"
        ~ " from " ~ this
    ) -%}
    {%- set loaded_after = state.columns[0].values()[0] -%}
    {%- set resolve_again = loaded_after is none or state.columns[1].values()[0] > 0 -%}
{%- endif %}
with

web_events as {{ omniplay.inline_cte() }} (

    select * from {{ ref('int_events_web') }}

),

store_events as {{ omniplay.inline_cte() }} (

    select * from {{ ref('int_events_store') }}

),

email_events as {{ omniplay.inline_cte() }} (

    select * from {{ ref('int_events_email') }}

),

sms_events as {{ omniplay.inline_cte() }} (

    select * from {{ ref('int_events_sms') }}

),

event_scans as {{ omniplay.inline_cte() }} (

    select * from {{ ref('int_events_event') }}

),

identity_map as {{ omniplay.inline_cte() }} (

    select
        identifier_type,
        identifier_value,
        profile_id

    from {{ ref('dim_identity_map') }}

),

identity_merges as (

    select * from {{ ref('fct_identity_merges') }}

),

unioned as {{ omniplay.inline_cte() }} (

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

{% if is_incremental() and loaded_after is not none %}
{%- set lookback_bound = "cast('" ~ loaded_after ~ "' as " ~ dbt.type_timestamp() ~ ")" %}

{#- The events of the lookback already stored. Of the lookback only the events not stored
    yet (loaded out of order, or new) are resolved: a stored event's content changes only
    when its profile does, and every such event is re-resolved below (its old profile id
    is in fct_identity_merges, or it had none). A stored event's id is read, not its
    columns, so the night costs the new events, not the whole lookback. #}
stored_in_lookback as (

    select stored.event_id
    from {{ this }} as stored
    where stored.loaded_at > {{ lookback_bound }}

),

new_events as {{ omniplay.inline_cte() }} (

    select unioned.*
    from unioned
    left join stored_in_lookback
        on unioned.event_id = stored_in_lookback.event_id
    where unioned.loaded_at > {{ lookback_bound }}
        and stored_in_lookback.event_id is null

),

{% if resolve_again %}

{#- Stored events to resolve again: those whose profile id this build retired or split
    off, and those whose identifiers the identity map did not know yet (an SMS number,
    say, seen before the CRM record that brings it into the map): a small share of the
    table (30,052 of 21.1M rows on the 1M-customer benchmark's night), scattered over it.
    Only the columns a new resolution can change are read, not the whole rows (two
    selects, so that each filter reaches its scan), and only for the rows picked
    (omniplay.rows_where: on DuckDB by row id, so the 21M-row scan for retired profile
    ids reads the profile_id column alone, not five columns of every row). #}
rekeyed_rows as (

    select
        existing.event_id,
        existing.source_event_id,
        existing.profile_id,
        existing.resolved_identifier_type,
        existing.loaded_at

    from {{ this }} as existing
    where {{ omniplay.rows_where(this, 'existing', "existing.profile_id in (
        select identity_merges.retired_profile_id
        from identity_merges
        where identity_merges.recorded_at > (select max(last_build.processed_at) from " ~ this ~ " as last_build)
    )") }}

    union all

    select
        unlinked.event_id,
        unlinked.source_event_id,
        unlinked.profile_id,
        unlinked.resolved_identifier_type,
        unlinked.loaded_at

    from {{ this }} as unlinked
    where {{ omniplay.rows_where(this, 'unlinked', 'unlinked.profile_id is null and unlinked.has_identifiers') }}

),

{#- Their source rows, found by the sources' own ids first (a filter that reaches each
    source's scan; the prefixed event_id is computed above it), then by event_id. An
    event that is also one of the lookback's new events is read there. #}
rekeyed_events as {{ omniplay.inline_cte() }} (

    select unioned.*
    from unioned
    where unioned.source_event_id in (select rekeyed_rows.source_event_id from rekeyed_rows)
        and unioned.event_id in (select rekeyed_rows.event_id from rekeyed_rows)
        and (
            not coalesce(unioned.loaded_at > {{ lookback_bound }}, false)
            or unioned.event_id in (select stored_in_lookback.event_id from stored_in_lookback)
        )

),

batch as {{ omniplay.inline_cte() }} (

    select * from new_events
    union all
    select * from rekeyed_events

),

{% else %}

batch as {{ omniplay.inline_cte() }} (

    select * from new_events

),

{% endif %}

{% else %}

{#- A full build (or an empty table). -#}
batch as {{ omniplay.inline_cte() }} (

    select * from unioned

),

{% endif %}

{#- The first identifier (in the channel's order of strength) that the identity map knows
    decides the profile; all of a record's identifiers normally sit in one profile.
    Resolved per chain of identifier types (the int_events_* views' constant
    primary/secondary/tertiary types), each slot against the map of its type only, on the
    value alone, and a later slot is looked up only when the earlier ones found nothing
    (its key is null otherwise, which a hash join skips): smaller hash tables and about
    half the probes of joining every event to the whole map on (type, value) three times.
    A filter on the constant types prunes the other channels' branches of the batch.
    Events with any other chain of types take the generic path (no event is dropped). -#}
{%- set identifier_chains = [
    ['user_id', 'device_id', 'cookie_id'],
    ['loyalty_id', 'card_token', none],
    ['email', none, none],
    ['phone', none, none],
    ['badge_id', 'email', 'phone'],
] -%}
{%- set slots = ['primary', 'secondary', 'tertiary'] -%}
{%- set chain_conditions = [] -%}
{%- set map_types = [] -%}
{%- for chain in identifier_chains -%}
    {%- set condition = [] -%}
    {%- for slot_index in range(3) -%}
        {%- set identifier_type = chain[slot_index] -%}
        {%- do condition.append(
            'batch.' ~ slots[slot_index] ~ '_identifier_type '
            ~ ("is not distinct from '" ~ identifier_type ~ "'" if identifier_type else 'is null')
        ) -%}
        {%- if identifier_type and identifier_type not in map_types -%}
            {%- do map_types.append(identifier_type) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do chain_conditions.append('(\n        ' ~ condition | join('\n        and ') ~ '\n    )') -%}
{%- endfor %}

{% for identifier_type in map_types %}
{{ identifier_type }}_map as (

    select
        identifier_value,
        profile_id

    from identity_map
    where identifier_type = '{{ identifier_type }}'

),

{% endfor %}

{%- for chain in identifier_chains %}
{%- set chain_index = loop.index0 %}

resolved_chain_{{ chain_index }} as (

    select
        batch.*,
        {%- for slot_index in range(3) %}
        {{ 'map_' ~ slot_index ~ '.profile_id' if chain[slot_index] else 'cast(null as ' ~ dbt.type_string() ~ ')' }}
            as {{ slots[slot_index] }}_profile_id{{ ',' if not loop.last }}
        {%- endfor %}

    from batch
    {%- for slot_index in range(3) %}
    {%- if chain[slot_index] %}
    left join {{ chain[slot_index] }}_map as map_{{ slot_index }}
        on {% if slot_index == 0 -%}
            batch.{{ slots[slot_index] }}_identifier_value
        {%- else -%}
            case
                when {% for earlier in range(slot_index) %}map_{{ earlier }}.profile_id is null{{ ' and ' if not loop.last }}{% endfor %}
                    then batch.{{ slots[slot_index] }}_identifier_value
            end
        {%- endif %} = map_{{ slot_index }}.identifier_value
    {%- endif %}
    {%- endfor %}
    where {{ chain_conditions[chain_index] }}

),
{%- endfor %}

resolved_other as (

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
    where not (
    {{ chain_conditions | join('\n    or ') }}
    )

),

resolved as (

    {% for chain in identifier_chains -%}
    select * from resolved_chain_{{ loop.index0 }}
    union all
    {% endfor -%}
    select * from resolved_other

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

{% if is_incremental() and loaded_after is not none and resolve_again %}

{#- New events are written, and an event resolved again when its resolution (or, for one
    of the lookback's new events stored before with another loaded_at, its load) changed:
    the rest of a stored event's content comes from the same source row. #}
written as (

    select final.*

    from final
    left join rekeyed_rows as existing
        on final.event_id = existing.event_id
    where existing.event_id is null
        or final.profile_id is distinct from existing.profile_id
        or final.resolved_identifier_type is distinct from existing.resolved_identifier_type
        or final.loaded_at is distinct from existing.loaded_at

)

{% else %}

{#- A full build, or a night that resolves only events not stored in the lookback: all
    of them are written (one stored with an older loaded_at, a till line whose
    transaction landed later, is replaced by the delete+insert). -#}
written as (

    select * from final

)

{% endif %}

select * from written
