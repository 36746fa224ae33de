{#-
    The "why not sent" ledger: exactly one row per candidate (run, profile, play) with
    one outcome, in this order: paused_guardrail, no_consent, compliance, holdout
    (int_play_candidates), then contact_budget, lower_priority, no_channel, else selected.

    Plays are settled one after another per profile in decision order (priority, then
    play id; omniplay.plays), each seeing what the earlier ones took in this run:
    - a channel is open to a play when the profile may be reached on it (usable), the
      contact budget allows one more touch (global `any` cap and the channel's cap,
      ledger plus this run, per persona) and the play's own frequency cap allows it;
    - at most var('omniplay__max_plays_per_channel') plays per channel per run;
    - the play takes the first open channel in its preference (a play with `intent`
      moves that channel first for high purchase propensity, last otherwise) that has a
      delivery window before expiry; `store_task` plays also take a store task.
    A play that gets nothing is contact_budget when no usable channel had budget left,
    lower_priority when the channels with budget were taken by earlier plays, else
    no_channel (no delivery window before the play expires).

    Held-out candidates are settled too, as ghosts (the "ghost ads" design of lift
    measurement): `ghost_outcome` / `ghost_channel` say what the play would have decided
    had the profile not been held out, so the control arm is "would have been selected"
    exactly as the treatment arm is "selected" (docs/measurement.md); a held-out
    candidate's budget and frequency cap also count what it would have received in
    earlier runs (int_play_contact_history ghost_*). A ghost pick never
    uses up budget or a channel for the plays after it, except in the global control
    group, which is settled as if it did not exist (the play holdouts still apply there):
    that is the world the global comparison stands in for. Ghosts never reach the queue.
-#}
{%- set plays = omniplay.plays() -%}
{%- set caps = omniplay.contact_caps() -%}
{%- set channels = ['email', 'sms', 'store'] -%}
{%- set per_channel = caps.max_per_channel -%}

with

candidates as (

    select * from {{ ref('int_play_candidates') }}

),

eligible as (

    select * from candidates where pre_outcome is null or pre_outcome = 'holdout'

),

{#- One row per profile with each play's situation in columns p<rank>_*. -#}
wide as (

    select
        profile_id,
        max(budget_left_any) as budget_left_any,
        max(budget_left_email) as budget_left_email,
        max(budget_left_sms) as budget_left_sms,
        max(budget_left_store) as budget_left_store,
        max(ghost_budget_left_any) as ghost_budget_left_any,
        max(ghost_budget_left_email) as ghost_budget_left_email,
        max(ghost_budget_left_sms) as ghost_budget_left_sms,
        max(ghost_budget_left_store) as ghost_budget_left_store,
        {%- for play in plays %}
        {%- set i = loop.index %}
        {%- set p = 'p' ~ i %}
        max(case when play_rank = {{ i }} then 1 else 0 end) = 1 as {{ p }}_has,
        max(case when play_rank = {{ i }} and in_play_holdout then 1 else 0 end) = 1 as {{ p }}_ghost,
        max(case when play_rank = {{ i }} and (in_play_holdout or in_global_holdout) then 1 else 0 end) = 1 as {{ p }}_held_out,
        max(case when play_rank = {{ i }} and is_high_intent then 1 else 0 end) = 1 as {{ p }}_high_intent,
        max(case when play_rank = {{ i }} and within_play_cap then 1 else 0 end) = 1 as {{ p }}_within_cap,
        {%- for channel in channels %}
        max(case when play_rank = {{ i }} and {{ channel }}_usable then 1 else 0 end) = 1 as {{ p }}_{{ channel }}_usable,
        max(case when play_rank = {{ i }} and {{ channel }}_deliverable then 1 else 0 end) = 1 as {{ p }}_{{ channel }}_deliverable,
        {%- endfor %}
        {%- endfor %}
        count(*) as eligible_plays

    from eligible
    group by profile_id

),

step0 as {{ omniplay.materialized_cte() }} (

    select
        wide.*,
        {%- for channel in channels %}
        0 as used_{{ channel }}_0,
        {%- endfor %}
        0 as used_any_0

    from wide

),

{%- for play in plays %}
{%- set i = loop.index %}
{%- set p = 'p' ~ i %}
{%- set prev = i - 1 %}
{%- set order = play.channels %}
{%- if play.intent %}
    {%- set others = order | reject('equalto', play.intent.channel) | list %}
    {%- set high_order = [play.intent.channel] + others %}
    {%- set low_order = others + [play.intent.channel] %}
{%- else %}
    {%- set high_order = order %}
    {%- set low_order = order %}
{%- endif %}

step{{ i }}_pick as {{ omniplay.materialized_cte() }} (

    select
        step{{ prev }}.*,
        {%- for channel in channels %}
        {%- if channel in play.channels %}
        {%- set hi_before = high_order[:high_order.index(channel)] %}
        {%- set lo_before = low_order[:low_order.index(channel)] %}
        coalesce({{ p }}_has and {{ omniplay.decision_pick(p, prev, channel, per_channel) }} and case
            when {{ p }}_high_intent then {% if hi_before %}not ({% for c in hi_before -%}
                {{ omniplay.decision_pick(p, prev, c, per_channel) }}{{ " or " if not loop.last }}
            {%- endfor %}){% else %}true{% endif %}
            else {% if lo_before %}not ({% for c in lo_before -%}
                {{ omniplay.decision_pick(p, prev, c, per_channel) }}{{ " or " if not loop.last }}
            {%- endfor %}){% else %}true{% endif %}
        end, false) as {{ p }}_sel_{{ channel }},
        {%- elif channel == 'store' and play.store_task %}
        {#- The store task comes after the customer message, which may have used one touch. -#}
        coalesce({{ p }}_has and (
            ({% for c in play.channels -%}
                {{ omniplay.decision_pick(p, prev, c, per_channel) }}{{ " or " if not loop.last }}
            {%- endfor %}) and {{ omniplay.decision_pick(p, prev, 'store', per_channel, 1) }}
            or not ({% for c in play.channels -%}
                {{ omniplay.decision_pick(p, prev, c, per_channel) }}{{ " or " if not loop.last }}
            {%- endfor %}) and {{ omniplay.decision_pick(p, prev, 'store', per_channel) }}
        ), false) as {{ p }}_sel_store,
        {%- else %}
        false as {{ p }}_sel_{{ channel }},
        {%- endif %}
        {%- endfor %}
        {%- set play_channels = play.channels + (['store'] if play.store_task else []) %}
        case
            when not {{ p }}_has then null
            when not ({% for c in play_channels -%}
                ({{ p }}_{{ c }}_usable and {{ omniplay.decision_budget_ok(p, prev, c) }}){{ " or " if not loop.last }}
            {%- endfor %}) then 'contact_budget'
            when not ({% for c in play_channels -%}
                {{ omniplay.decision_open(p, prev, c, per_channel) }}{{ " or " if not loop.last }}
            {%- endfor %}) then 'lower_priority'
        end as {{ p }}_blocked

    from step{{ prev }}

),

step{{ i }} as {{ omniplay.materialized_cte() }} (

    select
        step{{ i }}_pick.*,
        case
            when not {{ p }}_has then null
            when {% for c in channels %}{{ p }}_sel_{{ c }}{{ " or " if not loop.last }}{% endfor %} then 'selected'
            else coalesce({{ p }}_blocked, 'no_channel')
        end as {{ p }}_outcome,
        {%- for channel in channels %}
        used_{{ channel }}_{{ prev }}
            + case when {{ p }}_sel_{{ channel }} and not {{ p }}_ghost then 1 else 0 end as used_{{ channel }}_{{ i }},
        {%- endfor %}
        used_any_{{ prev }}
            {%- for channel in channels %}
            + case when {{ p }}_sel_{{ channel }} and not {{ p }}_ghost then 1 else 0 end
            {%- endfor %} as used_any_{{ i }}

    from step{{ i }}_pick

),
{%- endfor %}

settled as (

    select * from step{{ plays | length }}

),

settled_outcomes as (

    select
        candidates.run_date,
        candidates.as_of_at,
        candidates.profile_id,
        candidates.play_id,
        candidates.priority,
        candidates.persona,
        candidates.pre_outcome,
        candidates.pre_outcome_detail,
        candidates.holdout_scope,
        case
            {%- for play in plays %}
            when candidates.play_rank = {{ loop.index }} then settled.p{{ loop.index }}_outcome
            {%- endfor %}
        end as settled_outcome,
        {%- for channel in channels %}
        coalesce(case
            {%- for play in plays %}
            when candidates.play_rank = {{ loop.index }} then settled.p{{ loop.index }}_sel_{{ channel }}
            {%- endfor %}
            else false
        end, false) as settled_{{ channel }},
        {%- endfor %}
        {#- The customer-facing channel when there is one, else the store task. -#}
        case
            {%- for play in plays %}
            {%- set i = loop.index %}
            when candidates.play_rank = {{ i }} then
                case
                    {%- for channel in play.channels + (['store'] if play.store_task else []) %}
                    when settled.p{{ i }}_sel_{{ channel }} then '{{ channel }}'
                    {%- endfor %}
                end
            {%- endfor %}
            else cast(null as {{ dbt.type_string() }})
        end as settled_channel

    from (
        select
            *,
            cast({{ dbt.date_trunc('day', 'as_of_at') }} as date) as run_date
        from candidates
    ) as candidates
    left join settled
        on candidates.profile_id = settled.profile_id
        and (candidates.pre_outcome is null or candidates.pre_outcome = 'holdout')

),

final as (

    select
        run_date,
        as_of_at as decided_at,
        profile_id,
        play_id,
        priority,
        persona,
        coalesce(pre_outcome, settled_outcome) as outcome,
        pre_outcome_detail as outcome_detail,
        {%- for channel in channels %}
        pre_outcome is null and settled_{{ channel }} as selected_{{ channel }},
        {%- endfor %}
        case when pre_outcome is null then settled_channel end as channel,
        case when pre_outcome = 'holdout' then settled_outcome end as ghost_outcome,
        case when pre_outcome = 'holdout' then settled_channel end as ghost_channel,
        case when pre_outcome = 'holdout' then holdout_scope end as holdout_scope

    from settled_outcomes

)

select * from final
