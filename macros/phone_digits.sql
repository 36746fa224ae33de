{#- The digits of a raw phone number, every other character removed ('' when there are none). -#}
{% macro phone_digits(phone) -%}
    {{ return(adapter.dispatch('phone_digits', 'omniplay')(phone)) }}
{%- endmacro %}

{% macro default__phone_digits(phone) -%}
    {{ omniplay.regexp_replace_all(phone, "'[^0-9]'", "''") }}
{%- endmacro %}
