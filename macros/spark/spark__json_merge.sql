{#- Spark: two JSON object texts merged, keys of `right` winning, null members dropped.
    Each side is read as a map of VARIANT values (types kept: numbers stay numbers) and the
    maps concatenated; the later key wins because omniplay's Spark session sets
    spark.sql.mapKeyDedupPolicy=LAST_WIN. -#}
{% macro spark__json_merge(left, right) -%}
    to_json(map_filter(
        map_concat(
            from_json({{ left }}, 'map<string, variant>'),
            from_json({{ right }}, 'map<string, variant>')
        ),
        (k, v) -> v is not null and not is_variant_null(v)
    ))
{%- endmacro %}
