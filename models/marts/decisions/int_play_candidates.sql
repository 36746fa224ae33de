{#-
    Every candidate of this run - (profile, play) for each enabled play's audience - with
    everything the decision needs, per channel (email, sms, store): consent reason,
    whether the channel is usable (allowed and a valid address), the delivery window
    [not_before, not_after) in UTC, and the checks that do not depend on other plays:
    `pre_outcome` is paused_guardrail (the play is paused by a guardrail, dim_play_status),
    no_consent, compliance or holdout (in that order) or null.
    fct_play_decisions settles the rest (contact budget, priority, channel).

    Windows: SMS inside var('omniplay__sms_window') (08:00-21:00) in the profile's
    timezone; store tasks while the home store is open (its hours, its timezone); email
    any time; a play's `windows` overrides a channel. Every window ends at the latest
    at the play's expiry (as-of + expires_after); a window that cannot open before the
    expiry makes the channel unusable for this run (no_channel).
-#}
{%- set plays = omniplay.plays() -%}
{%- set caps = omniplay.contact_caps() -%}
{%- set sms_window = var('omniplay__sms_window', {'start': '08:00', 'end': '21:00'}) -%}
{%- set channels = ['email', 'sms', 'store'] -%}
{#- Windows depend on the zone (or store), not on the profile: each distinct window spec
    is computed once per timezone / store below and joined, not per candidate. -#}
{%- set zone_specs = {} -%}
{%- set store_specs = {'hours': none} -%}
{%- for play in plays -%}
    {%- for channel in play.channels + (['store'] if play.store_task else []) -%}
        {%- set window = play.windows.get(channel) or (sms_window if channel == 'sms' else none) -%}
        {%- if window -%}
            {%- set key = 'w' ~ window.start | replace(':', '') ~ '_' ~ window.end | replace(':', '') -%}
            {%- do (store_specs if channel == 'store' else zone_specs).update({key: window}) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endfor -%}

with

audiences as (

    select * from {{ ref('int_play_audiences') }}

),

profiles as (

    select * from {{ ref('dim_profiles') }}

),

consent as (

    select * from {{ ref('dim_profile_consent') }}

),

holdouts as (

    select * from {{ ref('dim_holdout_assignments') }}

),

stores as (

    select * from {{ ref('stg_stores__stores') }}

),

contact_history as (

    select * from {{ ref('int_play_contact_history') }}

),

play_status as (

    select * from {{ ref('dim_play_status') }}

),

as_of as (

    select {{ omniplay.as_of_timestamp() }} as as_of_at

),

consent_by_channel as (

    select
        profile_id,
        {%- for channel in channels %}
        max(case when channel = '{{ channel }}' then reason end) as {{ channel }}_reason,
        max(case when channel = '{{ channel }}' and is_allowed then 1 else 0 end) = 1 as {{ channel }}_allowed{{ "," if not loop.last }}
        {%- endfor %}

    from consent
    group by profile_id

),

profile_holdouts as (

    select
        profile_id,
        max(case when scope = 'global' and arm = 'holdout' then 1 else 0 end) = 1 as in_global_holdout,
        {%- for play in plays %}
        max(case when scope = '{{ play.id }}' and arm = 'holdout' then 1 else 0 end) = 1 as in_holdout_{{ play.id }},
        {%- endfor %}
        count(*) as holdout_rows

    from holdouts
    where status = 'active'
    group by profile_id

),

{#- The first open window of every spec, per timezone and per store (UTC bounds). -#}
zone_windows as (

    select
        zones.timezone
        {%- for key, window in zone_specs.items() %},
        {{ omniplay.local_window(
            'start', 'as_of.as_of_at', 'zones.timezone',
            omniplay.cast_time_of_day("'" ~ window.start ~ ":00'"), omniplay.cast_time_of_day("'" ~ window.end ~ ":00'")
        ) }} as {{ key }}_start,
        {{ omniplay.local_window(
            'end', 'as_of.as_of_at', 'zones.timezone',
            omniplay.cast_time_of_day("'" ~ window.start ~ ":00'"), omniplay.cast_time_of_day("'" ~ window.end ~ ":00'")
        ) }} as {{ key }}_end
        {%- endfor %}

    from (select distinct timezone from profiles where timezone is not null) as zones
    cross join as_of

),

store_windows as (

    select
        stores.store_id
        {%- for key, window in store_specs.items() %}
        {%- set start_time = (omniplay.cast_time_of_day("'" ~ window.start ~ ":00'")) if window else 'stores.opening_time_local' %}
        {%- set end_time = (omniplay.cast_time_of_day("'" ~ window.end ~ ":00'")) if window else 'stores.closing_time_local' %},
        {{ omniplay.local_window('start', 'as_of.as_of_at', 'stores.timezone', start_time, end_time) }} as store_{{ key }}_start,
        {{ omniplay.local_window('end', 'as_of.as_of_at', 'stores.timezone', start_time, end_time) }} as store_{{ key }}_end
        {%- endfor %}

    from stores
    cross join as_of

),

{#- One row per profile in any audience: addresses, validity, store, budget left. -#}
recipients as (

    select
        profiles.profile_id,
        profiles.first_name,
        profiles.loyalty_tier,
        profiles.purchase_propensity,
        profiles.timezone,
        profiles.best_email as email_address,
        profiles.best_phone as sms_address,
        stores.store_id as store_address,
        stores.store_name,
        stores.timezone as store_timezone,
        {%- for key in zone_specs %}
        zone_windows.{{ key }}_start,
        zone_windows.{{ key }}_end,
        {%- endfor %}
        {%- for key in store_specs %}
        store_windows.store_{{ key }}_start,
        store_windows.store_{{ key }}_end,
        {%- endfor %}
        coalesce({{ omniplay.is_valid_email('profiles.best_email') }}, false) as email_address_ok,
        coalesce({{ omniplay.regexp_like('profiles.best_phone', "'^[+][1-9][0-9]{7,14}$'") }}, false) as sms_address_ok,
        (stores.store_id is not null and not stores.is_online) as store_address_ok,
        {%- for channel in channels %}
        consent_by_channel.{{ channel }}_reason,
        coalesce(consent_by_channel.{{ channel }}_allowed, false) as {{ channel }}_allowed,
        {%- endfor %}
        coalesce(profile_holdouts.in_global_holdout, false) as in_global_holdout,
        {%- for play in plays %}
        coalesce(profile_holdouts.in_holdout_{{ play.id }}, false) as in_holdout_{{ play.id }},
        {%- endfor %}
        {%- if caps.attribute %}
        cast(profiles.{{ caps.attribute }} as {{ dbt.type_string() }}) as persona,
        {%- else %}
        cast(null as {{ dbt.type_string() }}) as persona,
        {%- endif %}
        {#- Budget left per scope: the persona's cap (else the default) minus the ledger;
            ghost_budget_left_*: minus also what the profile would have received while held
            out (int_play_contact_history ghost_*), for its held-out candidates. -#}
        {%- for prefix, ghost_term in [('', ''), ('ghost_', ' + coalesce(contact_history.ghost_touches_{scope}_{days}d, 0)')] %}
        {%- for scope in ['any', 'email', 'sms', 'store'] %}
        {%- set ns = namespace(branches=[]) %}
        {%- for persona, persona_caps in caps.personas.items() if scope in persona_caps %}
            {%- do ns.branches.append((persona, persona_caps[scope])) %}
        {%- endfor %}
        {%- set default_cap = caps.default.get(scope) %}
        {%- set default_expr = (
            (default_cap.max | int) ~ ' - coalesce(contact_history.touches_' ~ scope ~ '_' ~ (default_cap.days | int) ~ 'd, 0)'
            ~ ghost_term.format(scope=scope, days=default_cap.days | int)
        ) if default_cap else 'null' %}
        {%- if ns.branches %}
        cast(case
            {%- for persona, cap in ns.branches %}
            when cast(profiles.{{ caps.attribute }} as {{ dbt.type_string() }}) = '{{ persona }}'
                then {{ cap.max | int }} - coalesce(contact_history.touches_{{ scope }}_{{ cap.days | int }}d, 0)
                {{- ghost_term.format(scope=scope, days=cap.days | int) }}
            {%- endfor %}
            else {{ default_expr }}
        end as {{ dbt.type_int() }}) as {{ prefix }}budget_left_{{ scope }},
        {%- else %}
        cast({{ default_expr }} as {{ dbt.type_int() }}) as {{ prefix }}budget_left_{{ scope }},
        {%- endif %}
        {%- endfor %}
        {%- endfor %}
        {%- for play in plays if play.frequency %}
        coalesce(contact_history.play_{{ play.id }}_{{ play.frequency.days }}d, 0) as sent_{{ play.id }},
        coalesce(contact_history.ghost_play_{{ play.id }}_{{ play.frequency.days }}d, 0) as ghost_sent_{{ play.id }},
        {%- endfor %}
        profiles.profile_id is not null as is_profile

    from profiles
    left join stores
        on profiles.home_store_id = stores.store_id
    left join zone_windows
        on profiles.timezone = zone_windows.timezone
    left join store_windows
        on stores.store_id = store_windows.store_id
    left join consent_by_channel
        on profiles.profile_id = consent_by_channel.profile_id
    left join profile_holdouts
        on profiles.profile_id = profile_holdouts.profile_id
    left join contact_history
        on profiles.profile_id = contact_history.profile_id
    where profiles.profile_id in (select audiences.profile_id from audiences)

),

{#- Each play's constants, joined by play_id: one pass over the candidates, not one per play. -#}
play_config as (

    {%- for play in plays %}
    {%- set play_channels = play.channels + (['store'] if play.store_task else []) %}
    select
        cast('{{ play.id }}' as {{ dbt.type_string() }}) as play_id,
        {{ loop.index }} as play_rank,
        {{ play.priority }} as priority,
        {{ play.expires_after_minutes }} as expires_minutes,
        cast({{ play.intent.min_propensity if play.intent else 'null' }} as {{ omniplay.type_double() }}) as intent_min_propensity,
        {%- for channel in channels %}
        {{ 'true' if channel in play_channels else 'false' }} as uses_{{ channel }}{{ "," if not loop.last }}
        {%- endfor %}
    {{ "union all" if not loop.last }}
    {%- endfor %}
    {%- if not plays %}
    select
        cast(null as {{ dbt.type_string() }}) as play_id, 0 as play_rank, 0 as priority, 0 as expires_minutes,
        cast(null as {{ omniplay.type_double() }}) as intent_min_propensity,
        false as uses_email, false as uses_sms, false as uses_store
    where 1 = 0
    {%- endif %}

),

candidates as (

    {%- set expires = dbt.dateadd('minute', 'play_config.expires_minutes', 'as_of.as_of_at') %}

    select
        audiences.profile_id,
        audiences.play_id,
        play_config.play_rank,
        play_config.priority,
        recipients.persona,
        coalesce(recipients.purchase_propensity >= play_config.intent_min_propensity, false) as is_high_intent,
        {#- A held-out candidate (play holdout or global control) is capped on what it would
            have received: its sends plus the picks of earlier runs it was held out of. -#}
        case audiences.play_id
            {%- for play in plays if play.frequency %}
            when '{{ play.id }}' then recipients.sent_{{ play.id }}
                + case when recipients.in_holdout_{{ play.id }} or recipients.in_global_holdout
                    then recipients.ghost_sent_{{ play.id }} else 0 end < {{ play.frequency.max }}
            {%- endfor %}
            else true
        end as within_play_cap,
        recipients.budget_left_any,
        recipients.budget_left_email,
        recipients.budget_left_sms,
        recipients.budget_left_store,
        recipients.ghost_budget_left_any,
        recipients.ghost_budget_left_email,
        recipients.ghost_budget_left_sms,
        recipients.ghost_budget_left_store,
        recipients.in_global_holdout,
        coalesce(play_status.is_paused, false) as is_paused,
        case audiences.play_id
            {%- for play in plays %}
            when '{{ play.id }}' then recipients.in_holdout_{{ play.id }}
            {%- endfor %}
            else false
        end as in_play_holdout,
        {{ expires }} as expires_at,
        {%- for channel in channels %}
        case when play_config.uses_{{ channel }} then recipients.{{ channel }}_reason end as {{ channel }}_reason,
        play_config.uses_{{ channel }} and recipients.{{ channel }}_allowed as {{ channel }}_allowed,
        case when play_config.uses_{{ channel }} then recipients.{{ channel }}_address end as {{ channel }}_address,
        play_config.uses_{{ channel }} and recipients.{{ channel }}_address_ok as {{ channel }}_address_ok,
        play_config.uses_{{ channel }} and recipients.{{ channel }}_allowed and recipients.{{ channel }}_address_ok as {{ channel }}_usable,
        {#- The window of this channel for each play: a spec joined per zone/store, or any time. -#}
        {%- for bound in ['start', 'end'] %}
        case audiences.play_id
            {%- for play in plays if channel in play.channels + (['store'] if play.store_task else []) %}
            {%- set window = play.windows.get(channel) or (sms_window if channel == 'sms' else none) %}
            {%- set key = ('w' ~ window.start | replace(':', '') ~ '_' ~ window.end | replace(':', '')) if window else none %}
            when '{{ play.id }}' then
                {%- if channel == 'store' %} recipients.store_{{ key or 'hours' }}_{{ bound }}
                {%- elif key %} recipients.{{ key }}_{{ bound }}
                {%- else %} {{ 'as_of.as_of_at' if bound == 'start' else expires }}
                {%- endif %}
            {%- endfor %}
            else cast(null as {{ dbt.type_timestamp() }})
        end as {{ channel }}_window_{{ bound }},
        {%- endfor %}
        {%- endfor %}
        recipients.timezone as recipient_timezone,
        recipients.store_timezone,
        recipients.first_name,
        recipients.loyalty_tier,
        recipients.store_name,
        as_of.as_of_at

    from audiences
    inner join play_config
        on audiences.play_id = play_config.play_id
    inner join recipients
        on audiences.profile_id = recipients.profile_id
    left join play_status
        on audiences.play_id = play_status.play_id
    cross join as_of

),

windowed as (

    select
        candidates.*,
        {%- for channel in channels %}
        {{ channel }}_window_start as {{ channel }}_not_before,
        case
            when {{ channel }}_window_end < expires_at then {{ channel }}_window_end else expires_at
        end as {{ channel }}_not_after{{ "," if not loop.last }}
        {%- endfor %}

    from candidates

),

checked as (

    select
        windowed.*,
        {%- for channel in channels %}
        coalesce({{ channel }}_usable and {{ channel }}_not_before < {{ channel }}_not_after, false) as {{ channel }}_deliverable,
        {%- endfor %}
        {#- Consent first: a channel counts as consented unless its latest record is an
            opt-out or there is none. A profile-wide block (GDPR objection,
            do-not-contact) or a missing address hides the channel's own consent, so it
            is reported by the compliance check that follows. -#}
        case
            when is_paused then 'paused_guardrail'
            when not (
                {%- for channel in channels %}
                coalesce({{ channel }}_reason not in ('opted_out', 'no_consent_record'), false){{ " or" if not loop.last }}
                {%- endfor %}
            ) then 'no_consent'
            when not ({% for channel in channels %}{{ channel }}_usable{{ " or " if not loop.last }}{% endfor %}) then 'compliance'
            when in_global_holdout or in_play_holdout then 'holdout'
        end as pre_outcome

    from windowed

),

final as (

    select
        checked.*,
        case pre_outcome
            when 'no_consent' then
                case
                    when {% for channel in channels -%}
                        {{ channel }}_reason = 'opted_out'{{ " or " if not loop.last }}
                    {%- endfor %} then 'opted_out'
                    else 'no_consent_record'
                end
            when 'compliance' then
                case
                    when {% for channel in channels -%}
                        {{ channel }}_reason = 'gdpr_objection'{{ " or " if not loop.last }}
                    {%- endfor %} then 'gdpr_objection'
                    when {% for channel in channels -%}
                        {{ channel }}_reason = 'do_not_contact'{{ " or " if not loop.last }}
                    {%- endfor %} then 'do_not_contact'
                    when {% for channel in channels -%}
                        ({{ channel }}_allowed and {{ channel }}_address is not null and not {{ channel }}_address_ok)
                        {{- " or " if not loop.last }}
                    {%- endfor %} then 'invalid_address'
                    else 'missing_address'
                end
            when 'holdout' then case when in_global_holdout then 'global' else play_id end
        end as pre_outcome_detail,
        {#- Which holdout scope(s) keep the candidate out (lift control arms, fct_play_exposures). -#}
        case
            when in_global_holdout and in_play_holdout then 'global_and_play'
            when in_global_holdout then 'global'
            when in_play_holdout then 'play'
        end as holdout_scope

    from checked

)

select * from final
