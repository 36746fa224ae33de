{#- Spark: `dbt.listagg` with its `order by` honoured (dbt-spark's own variant ignores it and
    joins the values in whatever order collect_list meets them). The non-null values are
    collected as structs with their sort keys, sorted by a comparator over the keys
    (`asc`/`desc` per key, nulls last as in DuckDB), then joined. Sort keys are the
    comma-separated expressions of `order_by_clause` (commas inside parentheses kept). -#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- set keys = [] -%}
    {%- if order_by_clause -%}
        {%- set clause = modules.re.sub('(?i)^\\s*order\\s+by\\s+', '', order_by_clause | trim) -%}
        {%- set state = namespace(depth=0, current='') -%}
        {%- for char in clause ~ ',' -%}
            {%- if char == ',' and state.depth == 0 -%}
                {%- set match = modules.re.match('(?is)^(.*?)\\s+(asc|desc)$', state.current | trim) -%}
                {%- if match -%}
                    {%- do keys.append((match.group(1), match.group(2) | lower == 'desc')) -%}
                {%- else -%}
                    {%- do keys.append((state.current | trim, false)) -%}
                {%- endif -%}
                {%- set state.current = '' -%}
            {%- else -%}
                {%- if char == '(' %}{% set state.depth = state.depth + 1 %}{% endif -%}
                {%- if char == ')' %}{% set state.depth = state.depth - 1 %}{% endif -%}
                {%- set state.current = state.current ~ char -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set fields = [] -%}
    {%- for expression, _ in keys -%}
        {%- do fields.append("'k" ~ loop.index ~ "', " ~ expression) -%}
    {%- endfor -%}
    {%- do fields.append("'v', " ~ measure) -%}
    {%- set collected -%}
        collect_list(case when {{ measure }} is not null then named_struct({{ fields | join(', ') }}) end)
    {%- endset -%}
    {%- if keys -%}
        {%- set comparisons = [] -%}
        {%- for _, descending in keys -%}
            {%- set k = 'k' ~ loop.index -%}
            {%- set before, after = ('>', '<') if descending else ('<', '>') -%}
            {%- do comparisons.append(
                "when l." ~ k ~ " is null and r." ~ k ~ " is not null then 1 "
                ~ "when l." ~ k ~ " is not null and r." ~ k ~ " is null then -1 "
                ~ "when l." ~ k ~ " " ~ before ~ " r." ~ k ~ " then -1 "
                ~ "when l." ~ k ~ " " ~ after ~ " r." ~ k ~ " then 1") -%}
        {%- endfor -%}
        {%- set collected -%}
            array_sort({{ collected }}, (l, r) -> case {{ comparisons | join(' ') }} else 0 end)
        {%- endset -%}
    {%- endif -%}
    {%- set values -%}
        transform({{ collected }}, x -> x.v)
    {%- endset -%}
    {%- if limit_num -%}
        {%- set values = 'slice(' ~ values ~ ', 1, ' ~ limit_num ~ ')' -%}
    {%- endif -%}
    array_join({{ values }}, {{ delimiter_text }})
{%- endmacro %}
