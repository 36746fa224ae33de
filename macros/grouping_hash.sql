{#-
    A 64-bit hash of a text value, to group or join on instead of the text when the text
    is long and most values are distinct (14M event ids: a hash aggregate on 8-byte keys
    copies no strings). Equal texts always hash equal; different texts can collide, so use
    it only where a collision cannot change the result: to find candidates that are then
    compared on the text itself. Default: the text (no hash); `text` is repeated as given.
-#}
{% macro grouping_hash(text) -%}
    {{ return(adapter.dispatch('grouping_hash', 'omniplay')(text)) }}
{%- endmacro %}

{% macro default__grouping_hash(text) -%}
    {{ text }}
{%- endmacro %}

{% macro duckdb__grouping_hash(text) -%}
    hash({{ text }})
{%- endmacro %}

{% macro postgres__grouping_hash(text) -%}
    hashtextextended({{ text }}, 0)
{%- endmacro %}

{% macro spark__grouping_hash(text) -%}
    xxhash64({{ text }})
{%- endmacro %}
