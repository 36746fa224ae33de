{#- Generic data test: no two rows share the same values in all of `combination`. -#}
{% test unique_combination_of_columns(model, combination) -%}
    select
        {{ combination | join(', ') }},
        count(*) as rows_sharing_key

    from {{ model }}
    group by {{ combination | join(', ') }}
    having count(*) > 1
{%- endtest %}
