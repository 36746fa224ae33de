{#- Two JSON object texts merged (keys of `right` win), null members dropped, as text. -#}
{% macro json_merge(left, right) -%}
    {{ return(adapter.dispatch('json_merge', 'omniplay')(left, right)) }}
{%- endmacro %}

{% macro default__json_merge(left, right) -%}
    cast(jsonb_strip_nulls(cast({{ left }} as jsonb) || cast({{ right }} as jsonb)) as {{ dbt.type_string() }})
{%- endmacro %}

{% macro duckdb__json_merge(left, right) -%}
    cast(json_strip_nulls(json_merge_patch(cast({{ left }} as json), cast({{ right }} as json))) as {{ dbt.type_string() }})
{%- endmacro %}
