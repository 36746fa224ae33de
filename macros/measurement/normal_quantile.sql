{#- The two-sided normal critical value z(1 - (1 - confidence) / 2) for a confidence level
    var omniplay__lift_confidence may take (0.80, 0.90, 0.95, 0.99; scipy.stats.norm.isf
    to 16 digits). Fails naming the var for any other level. -#}
{% macro normal_quantile(confidence) -%}
    {%- set table = {'0.8': '1.2815515655446004', '0.9': '1.6448536269514722',
                     '0.95': '1.959963984540054', '0.99': '2.5758293035489004'} -%}
    {%- set key = (confidence | float) | string -%}
    {%- if key not in table -%}
        {{ exceptions.raise_compiler_error("var omniplay__lift_confidence: " ~ confidence
            ~ " is not supported; use one of 0.8, 0.9, 0.95, 0.99") }}
    {%- endif -%}
    {{ return(table[key]) }}
{%- endmacro %}
