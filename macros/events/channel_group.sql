{#- Where a channel sits for cross-channel journeys: `online` (web, app), `store` (store,
    in-person events) or `messaging` (email, sms). -#}
{% macro channel_group(channel) -%}
    (case
        when {{ channel }} in ('web', 'app') then 'online'
        when {{ channel }} in ('store', 'event') then 'store'
        else 'messaging'
    end)
{%- endmacro %}
