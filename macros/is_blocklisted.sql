{#-
    True when `value` is junk: listed in the identifier_blocklist seed for `identifier_type`
    ('email', 'phone' or 'id'; entries typed 'any' apply to all), or caught by a rule
    that a list cannot hold. `value` is compared lower-cased; pass phones as their digits
    (phone_digits). Every check is an equality against the seed (a hash join, cheap on
    the largest event tables) or a constant expression. `blocklist` is the relation or
    import CTE holding the seed; `value` must not use unqualified columns named like the
    seed's (identifier_type, match_type, value, note).
-#}
{% macro is_blocklisted(value, identifier_type, blocklist='identifier_blocklist') -%}
    {{ return(adapter.dispatch('is_blocklisted', 'omniplay')(value, identifier_type, blocklist)) }}
{%- endmacro %}

{% macro default__is_blocklisted(value, identifier_type, blocklist='identifier_blocklist') -%}
    {%- if identifier_type not in ['email', 'phone', 'id'] -%}
        {{ exceptions.raise_compiler_error("is_blocklisted: identifier_type must be 'email', 'phone' or 'id', got '" ~ identifier_type ~ "'") }}
    {%- endif -%}
    {%- set lowered = 'lower(' ~ value ~ ')' -%}
    coalesce(
        {#- a dbt seed cannot hold the word null: it loads as SQL NULL #}
        {{ lowered }} = 'null'
        or {{ lowered }} in (
            select exact_junk.value
            from {{ blocklist }} as exact_junk
            where exact_junk.match_type = 'exact'
                and exact_junk.identifier_type in ('any', '{{ identifier_type }}')
        )
        {%- if identifier_type == 'email' %}
        or {{ dbt.split_part(lowered, "'@'", 1) }} in (
            select local_part_junk.value
            from {{ blocklist }} as local_part_junk
            where local_part_junk.match_type = 'local_part'
                and local_part_junk.identifier_type = 'email'
        )
        {%- elif identifier_type == 'phone' %}
        {#- one digit repeated (0000000000), or seven trailing zeros (+1 000 000 0000) #}
        or ({{ value }} <> '' and replace({{ value }}, substr({{ value }}, 1, 1), '') = '')
        or {{ value }} like '%0000000'
        {%- endif %},
        false
    )
{%- endmacro %}
