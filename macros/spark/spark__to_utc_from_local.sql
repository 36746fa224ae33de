{#- Spark: the wall-clock time `local_timestamp` in IANA zone `timezone` as UTC, with the
    other engines' answer at daylight-saving changes. `to_utc_timestamp` (java.time) reads
    a time that never happened with the offset before the change, as they do, but a time
    that happened twice as the earlier instant, where they take standard time, the later
    one. So the later candidate - the local time less the offset in force a few hours
    after the first - wins when it is later and really shows that wall-clock time. -#}
{% macro spark__to_utc_from_local(local_timestamp, timezone) -%}
    {%- set first = "to_utc_timestamp(" ~ local_timestamp ~ ", " ~ timezone ~ ")" -%}
    {%- set probe = "(" ~ first ~ " + interval 3 hours)" -%}
    {%- set later = "(" ~ local_timestamp ~ " - (from_utc_timestamp(" ~ probe ~ ", " ~ timezone ~ ") - " ~ probe ~ "))" -%}
    (case
        when {{ later }} > {{ first }} and from_utc_timestamp({{ later }}, {{ timezone }}) = {{ local_timestamp }}
            then {{ later }}
        else {{ first }}
    end)
{%- endmacro %}
