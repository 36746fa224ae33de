{#-
    True when `value` is a junk placeholder listed in the identifier_blocklist seed for
    `identifier_type` ('email', 'phone' or 'id'; entries typed 'any' apply to all).
    `value` is compared lower-cased; pass phones as their digits (phone_digits).
    `blocklist` is the relation or import CTE holding the seed. `value` must not use
    unqualified columns named like the seed's (identifier_type, match_type, value, note).
-#}
{% macro is_blocklisted(value, identifier_type, blocklist='identifier_blocklist') -%}
    {{ return(adapter.dispatch('is_blocklisted', 'omniplay')(value, identifier_type, blocklist)) }}
{%- endmacro %}

{% macro default__is_blocklisted(value, identifier_type, blocklist='identifier_blocklist') -%}
    {%- if identifier_type not in ['email', 'phone', 'id'] -%}
        {{ exceptions.raise_compiler_error("is_blocklisted: identifier_type must be 'email', 'phone' or 'id', got '" ~ identifier_type ~ "'") }}
    {%- endif -%}
    coalesce(
        lower({{ value }}) in (
            select exact_junk.value
            from {{ blocklist }} as exact_junk
            where exact_junk.match_type = 'exact'
                and exact_junk.identifier_type in ('any', '{{ identifier_type }}')
        )
        or exists (
            select 1
            from {{ blocklist }} as pattern_junk
            where pattern_junk.match_type = 'pattern'
                and pattern_junk.identifier_type in ('any', '{{ identifier_type }}')
                and {{ omniplay.regexp_like('lower(' ~ value ~ ')', 'pattern_junk.value') }}
        ),
        false
    )
{%- endmacro %}
