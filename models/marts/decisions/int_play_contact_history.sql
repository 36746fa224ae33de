{#-
    What the send ledger says each profile already received, counted over every window
    a contact cap or a play's frequency cap needs (omniplay.contact_caps, play.frequency):
    `touches_<scope>_<days>d` (scope any/email/sms/store) and `play_<id>_<days>d`.
    A ledger row counts when its status may have reached the person
    (var omniplay__ledger_counted_statuses) and it happened within the window before
    the as-of time. A play's store task beside its message (store_task) does not count
    against the play's own frequency cap; it does count as a store touch.
-#}
{%- set caps = omniplay.contact_caps() -%}
{%- set plays = omniplay.plays() -%}

with

sends as (

    select * from {{ source('omniplay_state', 'sends') }}

),

as_of as (

    select {{ omniplay.as_of_timestamp() }} as as_of_at

),

counted as (

    select
        sends.profile_id,
        sends.play_id,
        sends.channel,
        coalesce(sends.first_attempt_at, sends.finished_at, sends.updated_at) as touched_at,
        as_of.as_of_at

    from sends
    cross join as_of
    where sends.profile_id is not null
        and sends.status in ({% for status in caps.statuses %}'{{ status }}'{{ ", " if not loop.last }}{% endfor %})
        and coalesce(sends.first_attempt_at, sends.finished_at, sends.updated_at) <= as_of.as_of_at

),

final as (

    select
        profile_id,
        {%- for scope, days in caps.scopes %}
        count(case
            when touched_at > {{ dbt.dateadd('day', -1 * days, 'as_of_at') }}
            {%- if scope != 'any' %} and channel = '{{ scope }}'{% endif %}
            then 1 end) as touches_{{ scope }}_{{ days }}d,
        {%- endfor %}
        {%- for play in plays if play.frequency %}
        count(case
            when touched_at > {{ dbt.dateadd('day', -1 * play.frequency.days, 'as_of_at') }}
                and play_id = '{{ play.id }}'
                and channel in ({% for channel in play.channels %}'{{ channel }}'{{ ", " if not loop.last }}{% endfor %})
            then 1 end) as play_{{ play.id }}_{{ play.frequency.days }}d,
        {%- endfor %}
        max(touched_at) as last_touched_at

    from counted
    group by profile_id

)

select * from final
