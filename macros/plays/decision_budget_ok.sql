{#- fct_play_decisions step for play rank `p` (column prefix p1, p2, ...): true when the
    play may still use `channel` under its own frequency cap and the contact budget -
    the global `any` budget and the channel's budget left after the ledger, minus what
    plays ranked before it (`prev`) took in this run and `extra` touches this play took
    already (its message, before its store task). A null budget is no cap. A held-out
    candidate (`<p>_held_out`) counts against its ghost budget: the ledger plus what it
    would have received in earlier runs (int_play_candidates ghost_budget_left_*). -#}
{% macro decision_budget_ok(p, prev, channel, extra=0) -%}
    {%- set any_left = 'case when ' ~ p ~ '_held_out then ghost_budget_left_any else budget_left_any end' -%}
    {%- set channel_left = 'case when ' ~ p ~ '_held_out then ghost_budget_left_' ~ channel
        ~ ' else budget_left_' ~ channel ~ ' end' -%}
    ({{ p }}_within_cap
        and ({{ any_left }} is null or used_any_{{ prev }} + {{ extra }} < {{ any_left }})
        and ({{ channel_left }} is null or used_{{ channel }}_{{ prev }} < {{ channel_left }}))
{%- endmacro %}
