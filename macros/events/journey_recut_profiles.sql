{#- The profiles whose rows a nightly cut of the journey timeline at the as-of time
    (omniplay.as_of_timestamp()) must replace in `this`: those the timeline recomputed
    since this model's watermark (a newer events_processed_at, or an id the identity
    build retired or split, whose rows go away), and those with a stage boundary
    (valid_from or valid_to) between the as-of time `this` was last cut at (the newest
    `cut_column` in it) and the current one, in either direction; every profile when
    `this` is empty. Every other profile's cut is unchanged. Renders a select of one
    column, profile_id. -#}
{% macro journey_recut_profiles(timeline, merges, cut_column) -%}
    {%- set as_of = omniplay.as_of_timestamp() -%}
    select {{ timeline }}.profile_id
    from {{ timeline }}
    cross join (select max({{ cut_column }}) as cut_at from {{ this }}) as last_cut
    where {{ timeline }}.events_processed_at > {{ omniplay.journey_watermark() }}
        or last_cut.cut_at is null
        or (
            {{ timeline }}.valid_from > least(last_cut.cut_at, {{ as_of }})
            and {{ timeline }}.valid_from <= greatest(last_cut.cut_at, {{ as_of }})
        )
        or (
            {{ timeline }}.valid_to > least(last_cut.cut_at, {{ as_of }})
            and {{ timeline }}.valid_to <= greatest(last_cut.cut_at, {{ as_of }})
        )

    union

    select {{ merges }}.retired_profile_id as profile_id
    from {{ merges }}
    where {{ merges }}.recorded_at > {{ omniplay.journey_watermark() }}
{%- endmacro %}
