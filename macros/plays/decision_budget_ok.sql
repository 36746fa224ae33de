{#- fct_play_decisions step for play rank `p` (column prefix p1, p2, ...): true when the
    play may still use `channel` under its own frequency cap and the contact budget -
    the global `any` budget and the channel's budget left after the ledger, minus what
    plays ranked before it (`prev`) took in this run and `extra` touches this play took
    already (its message, before its store task). A null budget is no cap. -#}
{% macro decision_budget_ok(p, prev, channel, extra=0) -%}
    ({{ p }}_within_cap
        and (budget_left_any is null or used_any_{{ prev }} + {{ extra }} < budget_left_any)
        and (budget_left_{{ channel }} is null or used_{{ channel }}_{{ prev }} < budget_left_{{ channel }}))
{%- endmacro %}
