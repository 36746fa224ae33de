{#-
    What the send ledger says each profile already received, counted over every window
    a contact cap or a play's frequency cap needs (omniplay.contact_caps, play.frequency):
    `touches_<scope>_<days>d` (scope any/email/sms/store) and `play_<id>_<days>d`.
    A ledger row counts when its status may have reached the person
    (var omniplay__ledger_counted_statuses) and it happened within the window before
    the as-of time. A play's store task beside its message (store_task) does not count
    against the play's own frequency cap; it does count as a store touch.

    `ghost_touches_*` / `ghost_play_*` count the same windows over what held-out
    profiles would have received: the control-arm picks of earlier runs in which the
    play delivered (fct_play_exposures, arm control, at their decision time). A held-out candidate is
    capped on its history plus these, as the treated one is on its sends, so that the
    arms stay comparable run after run (docs/measurement.md).

    Only what some window counts is read: the ledger and the exposures grow every night.
    A row older than the longest contact cap (`cap_days`) counts only for a play whose
    frequency window reaches further back (`long_windows`, e.g. once a year).
-#}
{%- set caps = omniplay.contact_caps() -%}
{%- set plays = omniplay.plays() -%}
{%- set exposures = omniplay.previous_build_relation('fct_play_exposures') -%}
{%- set ns = namespace(plays_expiry='') -%}
{%- for play in plays -%}
    {%- set ns.plays_expiry = ns.plays_expiry ~ " when '" ~ play.id ~ "' then " ~ play.expires_after_minutes -%}
{%- endfor -%}
{%- set plays_expiry = ns.plays_expiry or ' when null then 0' -%}
{%- set cap_days = ([1] + caps.scopes | map(attribute=1) | list) | max -%}
{%- set long_windows = [] -%}
{%- for play in plays if play.frequency and play.frequency.days > cap_days -%}
    {%- do long_windows.append((play.id, play.frequency.days)) -%}
{%- endfor -%}
{%- set counted_windows = [(none, cap_days)] + long_windows -%}

with

sends as (

    select * from {{ source('omniplay_state', 'sends') }}

),

as_of as (

    select {{ omniplay.as_of_timestamp() }} as as_of_at

),

counted_sends as (

    select
        sends.profile_id,
        sends.play_id,
        sends.channel,
        coalesce(sends.first_attempt_at, sends.finished_at, sends.updated_at) as touched_at

    from sends
    cross join as_of
    where sends.profile_id is not null
        and sends.status in ({% for status in caps.statuses %}'{{ status }}'{{ ", " if not loop.last }}{% endfor %})
        and coalesce(sends.first_attempt_at, sends.finished_at, sends.updated_at) <= as_of.as_of_at
        and {{ omniplay.within_counted_windows(
            'sends.play_id', 'coalesce(sends.first_attempt_at, sends.finished_at, sends.updated_at)',
            counted_windows, 'as_of.as_of_at') }}

),
{%- if exposures %}

earlier_exposures as (

    select
        exposures.run_date,
        exposures.decided_at,
        exposures.play_id,
        exposures.profile_id,
        exposures.arm,
        exposures.channel,
        {{ dbt.dateadd('minute', 'case exposures.play_id' ~ plays_expiry ~ ' end', 'exposures.decided_at') }} as expires_at

    from {{ exposures }} as exposures
    cross join as_of
    where exposures.scope = 'play'
        and exposures.run_date < cast({{ dbt.date_trunc('day', 'as_of.as_of_at') }} as date)
        and exposures.decided_at <= as_of.as_of_at
        and {{ omniplay.within_counted_windows('exposures.play_id', 'exposures.decided_at', counted_windows, 'as_of.as_of_at') }}

),

{#- A run's control picks count only when the play really delivered in that run (a
    treated profile got a counted send before the run's messages expired): a run that
    was not due, was blocked by the gate or failed reached no one in either arm. -#}
delivered_runs as (

    select
        earlier_exposures.play_id,
        earlier_exposures.run_date

    from earlier_exposures
    inner join counted_sends
        on earlier_exposures.profile_id = counted_sends.profile_id
        and earlier_exposures.play_id = counted_sends.play_id
        and counted_sends.touched_at >= earlier_exposures.decided_at
        and counted_sends.touched_at <= earlier_exposures.expires_at
    where earlier_exposures.arm = 'treatment'
    group by earlier_exposures.play_id, earlier_exposures.run_date

),
{%- endif %}

counted as (

    select
        counted_sends.*,
        false as is_ghost,
        as_of.as_of_at

    from counted_sends
    cross join as_of
    {%- if exposures %}

    union all

    select
        earlier_exposures.profile_id,
        earlier_exposures.play_id,
        earlier_exposures.channel,
        earlier_exposures.decided_at as touched_at,
        true as is_ghost,
        as_of.as_of_at

    from earlier_exposures
    inner join delivered_runs
        on earlier_exposures.play_id = delivered_runs.play_id
        and earlier_exposures.run_date = delivered_runs.run_date
    cross join as_of
    where earlier_exposures.arm = 'control'
    {%- endif %}

),

final as (

    select
        profile_id,
        {%- for prefix, ghost in [('', 'false'), ('ghost_', 'true')] %}
        {%- for scope, days in caps.scopes %}
        count(case
            when is_ghost = {{ ghost }} and touched_at > {{ dbt.dateadd('day', -1 * days, 'as_of_at') }}
            {%- if scope != 'any' %} and channel = '{{ scope }}'{% endif %}
            then 1 end) as {{ prefix }}touches_{{ scope }}_{{ days }}d,
        {%- endfor %}
        {%- for play in plays if play.frequency %}
        count(case
            when is_ghost = {{ ghost }} and touched_at > {{ dbt.dateadd('day', -1 * play.frequency.days, 'as_of_at') }}
                and play_id = '{{ play.id }}'
                and channel in ({% for channel in play.channels %}'{{ channel }}'{{ ", " if not loop.last }}{% endfor %})
            then 1 end) as {{ prefix }}play_{{ play.id }}_{{ play.frequency.days }}d,
        {%- endfor %}
        {%- endfor %}
        max(case when not is_ghost then touched_at end) as last_touched_at

    from counted
    group by profile_id

)

select * from final
