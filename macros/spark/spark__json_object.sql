{#- Spark: a JSON object text from (key, expression) pairs; `to_json` leaves out null
    members, which json_merge drops on the other engines too. -#}
{% macro spark__json_object(pairs) -%}
    to_json(named_struct(
        {%- for key, expression in pairs %}
        '{{ key }}', {{ expression }}{{ "," if not loop.last }}
        {%- endfor %}
    ))
{%- endmacro %}
