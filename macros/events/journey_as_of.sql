{#- The instant journeys, triggers and holdouts are evaluated at: var('omniplay__as_of')
    when set, else the newest loaded_at of the given event relation (the data's own now). -#}
{% macro journey_as_of(events_relation) -%}
    {%- set as_of = var('omniplay__as_of', none) -%}
    {%- if as_of -%}
        cast('{{ as_of }}' as {{ dbt.type_timestamp() }})
    {%- else -%}
        (select max(loaded_at) from {{ events_relation }})
    {%- endif -%}
{%- endmacro %}
