{#- The profiles a nightly journey build must recompute: those with events (re)processed
    since the model's watermark (the newest events_processed_at in `this`), and the ids
    the identity build retired or split since then (their events moved away). Renders a
    select of one column, profile_id. -#}
{% macro journey_changed_profiles(events, merges) -%}
    select {{ events }}.profile_id
    from {{ events }}
    where {{ events }}.profile_id is not null
        and {{ events }}.processed_at > {{ omniplay.journey_watermark() }}

    union

    select {{ merges }}.retired_profile_id as profile_id
    from {{ merges }}
    where {{ merges }}.recorded_at > {{ omniplay.journey_watermark() }}
{%- endmacro %}

