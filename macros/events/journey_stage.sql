{#- The journey stage at an instant, from what is known then: orders so far, the latest
    order's time and how long engagement lasts (state machine: docs/journeys.md). -#}
{% macro journey_stage(orders_so_far, last_ordered_at, engaged_until, at, lapse_days) -%}
    case
        when {{ orders_so_far }} > 0 and {{ at }} >= {{ dbt.dateadd('day', lapse_days, last_ordered_at) }}
            then 'lapsed'
        when {{ orders_so_far }} = 1 then 'conversion'
        when {{ orders_so_far }} > 1 then 'retention'
        when {{ engaged_until }} > {{ at }} then 'engagement'
        else 'discovery'
    end
{%- endmacro %}
