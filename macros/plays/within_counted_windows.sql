{#- int_play_contact_history: the row (of `play_column`, at `at_column`) falls inside a
    window some cap counts. `windows` are (play_id, days) pairs; play_id none is any play. -#}
{% macro within_counted_windows(play_column, at_column, windows, as_of) -%}
    (
    {%- for id, days in windows %}
        {{ 'or ' if not loop.first }}({% if id %}{{ play_column }} = '{{ id }}' and {% endif -%}
        {{ at_column }} > {{ dbt.dateadd('day', -1 * days, as_of) }})
    {%- endfor %})
{%- endmacro %}
