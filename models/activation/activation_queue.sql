{#-
    One row per message to deliver (DESIGN.md, activation queue contract): every channel
    a decision selected - the play's message and, for `store_task` plays, the store task.
    - message_id: md5 of play_id, profile_id and the decision period (the as-of time in
      the play's schedule timezone, truncated to its decision_period), so rebuilding in
      the same period yields the same ids and the ledger never sends one twice; a
      store task beside a message adds '|store'.
    - play_version: md5 of the play config and its template text (omniplay.play_version).
    - destination: the play's `destinations`, else var('omniplay__channel_destinations').
    - payload: the audience's columns plus first_name, loyalty_tier and store_name
      (home store), nulls dropped.
-#}
{%- set plays = omniplay.plays() -%}
{%- set channels = ['email', 'sms', 'store'] -%}
{%- set default_destinations = var('omniplay__channel_destinations', {'email': 'email', 'sms': 'sms', 'store': 'store_tasks'}) -%}

with

decisions as (

    select * from {{ ref('fct_play_decisions') }}

),

candidates as (

    select * from {{ ref('int_play_candidates') }}

),

audiences as (

    select * from {{ ref('int_play_audiences') }}

),

selected as (

    select
        decisions.*,
        {%- for channel in channels %}
        candidates.{{ channel }}_address,
        candidates.{{ channel }}_not_before,
        candidates.{{ channel }}_not_after,
        {%- endfor %}
        candidates.recipient_timezone,
        candidates.store_timezone,
        candidates.first_name,
        candidates.loyalty_tier,
        candidates.store_name,
        case decisions.play_id
            {%- for play in plays %}
            when '{{ play.id }}' then cast({{ dbt.date_trunc(
                play.decision_period,
                omniplay.to_local_from_utc(omniplay.as_of_timestamp(), "'" ~ play.schedule.timezone ~ "'")
            ) }} as {{ dbt.type_string() }})
            {%- endfor %}
            else cast(null as {{ dbt.type_string() }})
        end as decision_period

    from decisions
    inner join candidates
        on decisions.profile_id = candidates.profile_id
        and decisions.play_id = candidates.play_id
    where decisions.outcome = 'selected'

),

messages as (

    {%- for channel in channels %}

    select
        selected.*,
        '{{ channel }}' as message_channel,
        selected.{{ channel }}_address as message_address,
        selected.{{ channel }}_not_before as message_not_before,
        selected.{{ channel }}_not_after as message_not_after,
        {%- if channel == 'store' %}
        selected.store_timezone as message_timezone,
        case
            when selected.channel <> 'store' then '|store' else ''
        end as id_suffix
        {%- else %}
        selected.recipient_timezone as message_timezone,
        '' as id_suffix
        {%- endif %}

    from selected
    where selected.selected_{{ channel }}
    {{ "union all" if not loop.last }}
    {%- endfor %}

),

final as (

    select
        {{ dbt.hash(
            "messages.play_id || '|' || messages.profile_id || '|' || messages.decision_period || messages.id_suffix"
        ) }} as message_id,
        messages.run_date,
        messages.decided_at,
        messages.play_id,
        case messages.play_id
            {%- for play in plays %}
            when '{{ play.id }}' then '{{ play.version }}'
            {%- endfor %}
            else cast(null as {{ dbt.type_string() }})
        end as play_version,
        messages.profile_id,
        messages.message_channel as channel,
        case
            {%- for play in plays %}
            {%- for channel in channels %}
            when messages.play_id = '{{ play.id }}' and messages.message_channel = '{{ channel }}'
                then '{{ play.destinations.get(channel) or default_destinations[channel] }}'
            {%- endfor %}
            {%- endfor %}
            else cast(null as {{ dbt.type_string() }})
        end as destination,
        messages.message_address as address,
        messages.message_timezone as recipient_timezone,
        messages.message_not_before as not_before,
        messages.message_not_after as not_after,
        case messages.play_id
            {%- for play in plays %}
            when '{{ play.id }}' then '{{ play.template }}'
            {%- endfor %}
            else cast(null as {{ dbt.type_string() }})
        end as template,
        {{ omniplay.json_merge(
            omniplay.json_object([
                ('first_name', 'messages.first_name'),
                ('loyalty_tier', 'messages.loyalty_tier'),
                ('store_name', 'messages.store_name'),
            ]),
            'audiences.audience_payload',
        ) }} as payload

    from messages
    inner join audiences
        on messages.profile_id = audiences.profile_id
        and messages.play_id = audiences.play_id

)

select * from final
