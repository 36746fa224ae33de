{#- The newest events_processed_at of `this` (the distant past when it is empty). -#}
{% macro journey_watermark() -%}
    coalesce((select max(events_processed_at) from {{ this }}), cast('1900-01-01 00:00:00' as {{ dbt.type_timestamp() }}))
{%- endmacro %}
