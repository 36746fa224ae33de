{#- `value`, or null when it is junk for `identifier_type` (is_blocklisted against the
    identifier_blocklist seed, which `blocklist` names as in is_blocklisted). -#}
{% macro null_if_blocklisted(value, identifier_type, blocklist='identifier_blocklist') -%}
    case when not {{ omniplay.is_blocklisted(value, identifier_type, blocklist) }} then {{ value }} end
{%- endmacro %}
