{#-
    A column of a source table that not every deployment has (Snowplow's load_tstamp,
    Segment's context_device_id): the quoted column when the relation has it, else the
    SQL expression `default` (a typed null, another column). Looked up in the warehouse
    at run time; at parse time always the default.
-#}
{% macro optional_column(relation, column_name, default) -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- if column.name | lower == column_name | lower -%}
                {{ return(adapter.quote(column.name)) }}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(default) }}
{%- endmacro %}
