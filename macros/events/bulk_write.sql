{#-
    Session settings for models that write tens of millions of event rows (pre-hook
    bulk_write_begin, post-hook bulk_write_end). DuckDB: random ids ('web:' || uuid,
    profile ids) do not compress, yet DICT_FSST analysis of every such column was most of
    the write time (a 14M-row event_id column: 9.5 CPU-s with it, 2.7 without). DuckDB 2.0
    has no other string compression, so these tables' text columns are stored plain
    (larger file). The setting is global to the database instance: bulk_write_end
    restores the default. Other engines: nothing to do.
-#}
{% macro bulk_write_begin() -%}
    {{ return(adapter.dispatch('bulk_write_begin', 'omniplay')()) }}
{%- endmacro %}

{% macro default__bulk_write_begin() -%}
    select 1
{%- endmacro %}

{% macro duckdb__bulk_write_begin() -%}
    set disabled_compression_methods = 'dict_fsst'
{%- endmacro %}

{% macro bulk_write_end() -%}
    {{ return(adapter.dispatch('bulk_write_end', 'omniplay')()) }}
{%- endmacro %}

{% macro default__bulk_write_end() -%}
    select 1
{%- endmacro %}

{% macro duckdb__bulk_write_end() -%}
    reset disabled_compression_methods
{%- endmacro %}
