{#-
    Append one row for this build of the connected_components model `model_name` to the
    round log next to `target_relation` and say the figures in dbt's log. `solved` is
    the dict returned by cc_solve.
-#}
{% macro cc_record_rounds(target_relation, model_name, solved) -%}
    {%- set log_relation = omniplay.cc_rounds_relation(target_relation) -%}
    {%- set finished_at = modules.datetime.datetime.now(modules.pytz.utc) -%}
    {%- set stamp = '%Y-%m-%d %H:%M:%S.%f' -%}
    {%- do omniplay.cc_run_sql(omniplay.cc_create_rounds_table_sql(log_relation)) -%}
    {%- do omniplay.cc_run_sql(
        "insert into " ~ log_relation ~ " (model, invocation_id, build_started_at, finished_at, rounds,"
        ~ " nodes, edges, components, largest_component, solver_seconds) values ("
        ~ dbt.string_literal(model_name) ~ ", "
        ~ dbt.string_literal(invocation_id) ~ ", "
        ~ "cast(" ~ dbt.string_literal(run_started_at.strftime(stamp)) ~ " as " ~ dbt.type_timestamp() ~ "), "
        ~ "cast(" ~ dbt.string_literal(finished_at.strftime(stamp)) ~ " as " ~ dbt.type_timestamp() ~ "), "
        ~ solved.rounds ~ ", " ~ solved.nodes ~ ", " ~ solved.edges ~ ", " ~ solved.components ~ ", "
        ~ solved.largest_component ~ ", " ~ '%.3f' | format(solved.seconds)
        ~ ")") -%}
    {%- do log("connected_components " ~ model_name ~ ": converged in " ~ solved.rounds ~ " rounds ("
               ~ solved.nodes ~ " nodes, " ~ solved.edges ~ " edges, " ~ solved.components ~ " components, largest "
               ~ solved.largest_component ~ ", " ~ '%.1f' | format(solved.seconds) ~ " s)", info=True) -%}
    {{ return('') }}
{%- endmacro %}
