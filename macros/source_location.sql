{#-
    Where the files of one source table are: `$OMNIPLAY_DATA_DIR/<source>/<entity>.parquet`,
    or a folder of part files `$OMNIPLAY_DATA_DIR/<source>/<entity>/*.parquet`.
    Returns both glob patterns, file first; register_source_files reads whichever exists.
-#}
{% macro source_location(source_name, table_name) -%}
    {{ return(adapter.dispatch('source_location', 'omniplay')(source_name, table_name)) }}
{%- endmacro %}

{% macro default__source_location(source_name, table_name) -%}
    {%- set data_dir = env_var('OMNIPLAY_DATA_DIR', 'data/demo').rstrip('/') -%}
    {%- set base = data_dir ~ '/' ~ source_name ~ '/' ~ table_name -%}
    {{ return([base ~ '.parquet', base ~ '/*.parquet']) }}
{%- endmacro %}
