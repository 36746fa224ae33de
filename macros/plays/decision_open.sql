{#- fct_play_decisions step: `channel` is open to play rank `p` - usable for the profile,
    within budget (omniplay.decision_budget_ok) and not yet taken by
    `per_channel` plays ranked before it in this run. -#}
{% macro decision_open(p, prev, channel, per_channel, extra=0) -%}
    ({{ p }}_{{ channel }}_usable
        and {{ omniplay.decision_budget_ok(p, prev, channel, extra) }}
        and used_{{ channel }}_{{ prev }} < {{ per_channel }})
{%- endmacro %}
