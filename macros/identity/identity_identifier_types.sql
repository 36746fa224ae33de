{#-
    The identifier types of the identity graph, strongest first. The order is the
    priority used to pick each record's centre identifier, and the first three are the
    person-level anchors (accounts a person holds at most one of).
-#}
{% macro identity_identifier_types() -%}
    {{ return(['crm_id', 'loyalty_id', 'user_id', 'email', 'phone', 'card_token', 'badge_id', 'device_id', 'cookie_id']) }}
{%- endmacro %}
