{#- fct_play_decisions step: play rank `p` can take `channel` - open
    (omniplay.decision_open) and with a delivery window before the play expires. -#}
{% macro decision_pick(p, prev, channel, per_channel, extra=0) -%}
    ({{ omniplay.decision_open(p, prev, channel, per_channel, extra) }} and {{ p }}_{{ channel }}_deliverable)
{%- endmacro %}
