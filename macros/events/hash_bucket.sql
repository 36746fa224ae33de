{#- A stable integer bucket in [0, buckets) from the md5 of a text expression: the first
    32 bits of the digest, so every engine puts the same text in the same bucket. -#}
{% macro hash_bucket(expression, buckets=10000) -%}
    {{ return(adapter.dispatch('hash_bucket', 'omniplay')(expression, buckets)) }}
{%- endmacro %}

{% macro default__hash_bucket(expression, buckets) -%}
    (cast(('0x' || substr(md5({{ expression }}), 1, 8)) as bigint) % {{ buckets }})
{%- endmacro %}

{% macro postgres__hash_bucket(expression, buckets) -%}
    ((('x' || substr(md5({{ expression }}), 1, 8))::bit(32)::bigint) % {{ buckets }})
{%- endmacro %}

{% macro spark__hash_bucket(expression, buckets) -%}
    (cast(conv(substr(md5({{ expression }}), 1, 8), 16, 10) as bigint) % {{ buckets }})
{%- endmacro %}
