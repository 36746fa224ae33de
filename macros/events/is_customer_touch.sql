{#- True for events the customer did (everything but outbound message receipts), the
    touches journeys start with and hop between. -#}
{% macro is_customer_touch(event_type) -%}
    ({{ event_type }} not in ('delivered', 'bounce'))
{%- endmacro %}
