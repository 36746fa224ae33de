{#-
    `trim(text)`: the text without leading and trailing spaces. DuckDB's trim copies every
    string it returns, trimmed or not (a 36-character event id: about 2 CPU-s per 14M
    rows, paid again by every step that reads the expression); a value that is pure ASCII
    (as many bytes as characters) and neither starts nor ends with a space is returned
    as it is, the rest go through trim. The same result: the only characters DuckDB's
    trim removes are Unicode space separators (category Zs), and the only ASCII one is
    the space. `text` is an expression of a text type, repeated in the output.
-#}
{% macro trim_text(text) -%}
    {{ return(adapter.dispatch('trim_text', 'omniplay')(text)) }}
{%- endmacro %}

{% macro default__trim_text(text) -%}
    trim({{ text }})
{%- endmacro %}

{% macro duckdb__trim_text(text) -%}
    case
        when starts_with({{ text }}, ' ') or ends_with({{ text }}, ' ') or strlen({{ text }}) <> length({{ text }})
            then trim({{ text }})
        else {{ text }}
    end
{%- endmacro %}
