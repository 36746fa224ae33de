{#-
    on-run-start: make every file-backed source (meta `omniplay_files: true`) readable as
    `<raw schema>.<entity>` before anything runs, and fail naming the source when its file
    is missing. DuckDB reads the Parquet files in place through views; other engines get
    the same tables from omniplay's loader, so there is nothing to do for them here.
    Set var omniplay__register_source_files to false when the raw tables already exist.
-#}
{% macro register_source_files() -%}
    {{ return(adapter.dispatch('register_source_files', 'omniplay')()) }}
{%- endmacro %}

{% macro default__register_source_files() -%}
    {{ return('') }}
{%- endmacro %}

{% macro duckdb__register_source_files() -%}
    {%- if not execute or not var('omniplay__register_source_files', true) -%}
        {{ return('') }}
    {%- endif -%}
    {%- set statements = [] -%}
    {%- set schemas = [] -%}
    {%- for node in graph.sources.values() | sort(attribute='unique_id') -%}
        {%- if node.package_name == project_name and node.meta.get('omniplay_files') -%}
            {%- set patterns = omniplay.source_location(node.source_name, node.name) -%}
            {%- set found = [] -%}
            {%- for pattern in patterns if not found -%}
                {%- set matches = run_query("select count(*) from glob(" ~ dbt.string_literal(pattern) ~ ")") -%}
                {%- if matches.columns[0].values()[0] > 0 -%}
                    {%- do found.append(pattern) -%}
                {%- endif -%}
            {%- endfor -%}
            {%- if not found -%}
                {{ exceptions.raise_compiler_error(
                    "Source " ~ node.source_name ~ "." ~ node.name ~ ": no file at " ~ patterns | join(' or ')
                    ~ ". Run `omniplay generate` or set OMNIPLAY_DATA_DIR."
                ) }}
            {%- endif -%}
            {%- if node.schema not in schemas -%}
                {%- do schemas.append(node.schema) -%}
                {%- do statements.append("create schema if not exists " ~ api.Relation.create(database=node.database, schema=node.schema).include(identifier=false)) -%}
            {%- endif -%}
            {%- set relation = api.Relation.create(database=node.database, schema=node.schema, identifier=node.identifier) -%}
            {%- do statements.append(
                "create or replace view " ~ relation
                ~ " as select * from read_parquet(" ~ dbt.string_literal(found[0]) ~ ", union_by_name = true)"
            ) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(statements | join(';\n')) }}
{%- endmacro %}
