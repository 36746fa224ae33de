{#-
    Materialization `connected_components`: the model's SQL returns an undirected edge list
    (`node_a`, `node_b`; a self-loop or a null on one side carries an isolated node, duplicate
    edges are harmless) and the model becomes one row per node: (`node`, `component`), where
    `component` is the smallest node id of the node's connected component.

    A materialization rather than a macro called from hooks: the model stays an ordinary node
    of the DAG (ref, lineage, docs, data tests, grants, contracts all apply), the loop runs on
    the model's own connection and transaction, and the old table is swapped for the new one
    only after the solver converged, exactly like the built-in `table` materialization.
    The solver is `omniplay.cc_solve` (large-star/small-star); every build appends its round
    count to `<model schema>.identity_cc_rounds` (`omniplay.cc_record_rounds`).
-#}
{% materialization connected_components, default %}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set intermediate_relation = make_intermediate_relation(target_relation) -%}
    {%- set preexisting_intermediate_relation = load_cached_relation(intermediate_relation) -%}
    {%- set backup_relation_type = 'table' if existing_relation is none else existing_relation.type -%}
    {%- set backup_relation = make_backup_relation(target_relation, backup_relation_type) -%}
    {%- set preexisting_backup_relation = load_cached_relation(backup_relation) -%}
    {%- set grant_config = config.get('grants') -%}
    {%- set max_rounds = config.get('cc_max_rounds', var('omniplay__cc_max_rounds', 64)) -%}

    {{ drop_relation_if_exists(preexisting_intermediate_relation) }}
    {{ drop_relation_if_exists(preexisting_backup_relation) }}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {%- set started = modules.datetime.datetime.now() -%}
    {%- set solved = omniplay.cc_solve(sql, scratch_prefix=this.identifier, max_rounds=max_rounds,
                                       integer_nodes=config.get('cc_integer_nodes', false)) -%}

    {% call statement('main') -%}
        {{ get_create_table_as_sql(False, intermediate_relation, solved.sql) }}
    {%- endcall %}
    {%- do solved.update({'seconds': (modules.datetime.datetime.now() - started).total_seconds()}) -%}

    {%- do omniplay.cc_drop_scratch_tables(solved.scratch) -%}
    {% do create_indexes(intermediate_relation) %}

    {% if existing_relation is not none %}
        {%- set existing_relation = load_cached_relation(existing_relation) -%}
        {% if existing_relation is not none %}
            {{ adapter.rename_relation(existing_relation, backup_relation) }}
        {% endif %}
    {% endif %}
    {{ adapter.rename_relation(intermediate_relation, target_relation) }}

    {{ run_hooks(post_hooks, inside_transaction=True) }}

    {%- do omniplay.cc_record_rounds(target_relation, model.name, solved) -%}

    {% set should_revoke = should_revoke(existing_relation, full_refresh_mode=True) %}
    {% do apply_grants(target_relation, grant_config, should_revoke=should_revoke) %}
    {% do persist_docs(target_relation, model) %}

    {{ adapter.commit() }}

    {{ drop_relation_if_exists(backup_relation) }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
