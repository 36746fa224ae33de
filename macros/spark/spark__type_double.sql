{#- Spark: 64-bit floating point is `double`. -#}
{% macro spark__type_double() -%}
    double
{%- endmacro %}
