{#- A profile's bucket (0-9999) in one holdout scope: the salted hash of salt, scope and
    profile id. A profile is held out of a scope when bucket < holdout_pct * 100; scopes
    hash independently, so the global and per-play holdouts do not overlap by design. -#}
{% macro holdout_bucket(profile_id, scope) -%}
    {{ omniplay.hash_bucket("'" ~ var('omniplay__holdout_salt') ~ ":' || " ~ scope ~ " || ':' || " ~ profile_id, 10000) }}
{%- endmacro %}
