{#-
    An event source's event name (lower case) as an omniplay event type: the value of
    `type_map` (var omniplay__event_type_map) for a listed name, else the name itself.
-#}
{% macro event_type_from_name(event_name, type_map) -%}
    {%- if type_map -%}
        case {{ event_name }}
            {%- for source_name, event_type in type_map.items() | sort %}
            when {{ dbt.string_literal(source_name | lower) }} then {{ dbt.string_literal(event_type) }}
            {%- endfor %}
            else {{ event_name }}
        end
    {%- else -%}
        {{ event_name }}
    {%- endif -%}
{%- endmacro %}
