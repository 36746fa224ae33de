{#- A play duration ('90m', '48h', '3d', or a number of hours) in minutes; none when it
    does not parse (omniplay.validate_plays reports it). -#}
{% macro duration_minutes(value) -%}
    {%- if value is number and value is not sameas true and value is not sameas false -%}
        {{ return((value * 60) | int if value > 0 else none) }}
    {%- endif -%}
    {%- set match = modules.re.match('^\\s*(\\d+)\\s*(m|h|d)\\s*$', value | string) -%}
    {%- if not match or (match.group(1) | int) <= 0 -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set factor = {'m': 1, 'h': 60, 'd': 1440}[match.group(2)] -%}
    {{ return((match.group(1) | int) * factor) }}
{%- endmacro %}
