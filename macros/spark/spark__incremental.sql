{#-
    Materialization `incremental` on Spark (overrides dbt-spark's for this project).
    dbt-spark merges only into Delta/Iceberg/Hudi tables; omniplay keeps to Spark's
    built-in Parquet, which cannot delete or update rows. So an incremental build writes
    the model's new rows to a batch table, then a new table of the existing rows whose
    `unique_key` is not in the batch plus the batch (the result of `delete+insert`;
    without a unique_key the batch is appended), and swaps it in. The model's SQL still
    reads only what changed (is_incremental()); the price is rewriting the table, which
    Spark does in parallel. A full refresh (or a first build) is a plain table build.
-#}
{% materialization incremental, adapter='spark' -%}
    {%- set unique_key = config.get('unique_key') -%}
    {%- set keys = ([unique_key] if unique_key is string else unique_key) if unique_key else [] -%}
    {%- set on_schema_change = incremental_validate_on_schema_change(config.get('on_schema_change'), default='ignore') -%}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set batch_relation = this.incorporate(path={'identifier': this.identifier ~ '__omniplay_batch'}, type='table') -%}
    {%- set merged_relation = this.incorporate(path={'identifier': this.identifier ~ '__omniplay_merged'}, type='table') -%}

    {{ run_hooks(pre_hooks) }}
    {%- do adapter.drop_relation(batch_relation) -%}
    {%- do adapter.drop_relation(merged_relation) -%}

    {%- if existing_relation is none or existing_relation.is_view or should_full_refresh() -%}
        {%- if existing_relation is not none -%}
            {%- do adapter.drop_relation(existing_relation) -%}
        {%- endif -%}
        {%- call statement('main') -%}
            create table {{ target_relation }} using parquet as
            {{ sql }}
        {%- endcall -%}
    {%- else -%}
        {%- call statement('batch') -%}
            create table {{ batch_relation }} using parquet as
            {{ sql }}
        {%- endcall -%}
        {%- set existing_columns = adapter.get_columns_in_relation(existing_relation) | map(attribute='name') | list -%}
        {%- set batch_columns = adapter.get_columns_in_relation(batch_relation) | map(attribute='name') | list -%}
        {%- if on_schema_change != 'ignore' and existing_columns != batch_columns -%}
            {%- do adapter.drop_relation(batch_relation) -%}
            {{ exceptions.raise_compiler_error(
                "The columns of incremental model " ~ this ~ " changed (" ~ existing_columns | join(', ') ~ " -> "
                ~ batch_columns | join(', ') ~ ") and on_schema_change is '" ~ on_schema_change
                ~ "'. Rebuild it with --full-refresh."
            ) }}
        {%- endif -%}
        {%- set columns = existing_columns | join(', ') -%}
        {%- call statement('main') -%}
            create table {{ merged_relation }} using parquet as
            select {{ columns }} from {{ existing_relation }} as existing
            {%- if keys %}
            where not exists (
                select 1 from {{ batch_relation }} as batch
                where {% for key in keys %}batch.{{ key }} = existing.{{ key }}{{ ' and ' if not loop.last }}{% endfor %}
            )
            {%- endif %}
            union all
            select {{ columns }} from {{ batch_relation }}
        {%- endcall -%}
        {%- do adapter.drop_relation(existing_relation) -%}
        {%- do adapter.rename_relation(merged_relation, target_relation) -%}
        {%- do adapter.drop_relation(batch_relation) -%}
    {%- endif -%}

    {{ run_hooks(post_hooks) }}
    {%- do persist_docs(target_relation, model) -%}
    {{ return({'relations': [target_relation]}) }}
{%- endmaterialization %}
