{#-
    Connected components of the edge list `edges_sql` (columns `node_a`, `node_b`) with the
    alternating large-star/small-star algorithm (Kiveris et al., 2014, "Connected Components
    in MapReduce and Beyond"). Node ids are first numbered densely (bigint joins are several
    times cheaper than text joins), edges are kept oriented (hi > lo), and every round runs
    one large-star and one small-star pass, then moves components that became finished
    stars (a root whose children touch nothing else) out of the working set, so later rounds
    only touch the components still being merged. The number of rounds grows with the
    logarithm of the largest component, not with its diameter. `integer_nodes` (model
    config `cc_integer_nodes`): the nodes are unique integers already and serve as the ids.

    Every statement is set-based on scratch tables that are dropped as soon as the next
    step exists; each round ends with a commit so engines can free the dropped tables.
    Past `max_rounds` rounds it stops with an error naming the cap and the variable.

    Returns a dict: `sql` (select of `node`, `component` over the scratch tables), `scratch`
    (relations to drop with `cc_drop_scratch_tables` once `sql` has been persisted),
    `rounds`, `nodes`, `edges` (distinct undirected edges between two different nodes),
    `components`, `largest_component`.
-#}
{% macro cc_solve(edges_sql, scratch_prefix='cc', max_rounds=64, integer_nodes=false) -%}
    {%- set cap = max_rounds | string | trim -%}
    {%- if not cap.isdigit() or (cap | int) < 1 -%}
        {{ exceptions.raise_compiler_error(
            "connected_components: the round cap must be a positive integer, got '" ~ max_rounds
            ~ "'. Please set var omniplay__cc_max_rounds (or the model config cc_max_rounds) to e.g. 64."
        ) }}
    {%- endif -%}
    {%- set max_rounds = cap | int -%}

    {%- set t = {} -%}
    {%- for step in ['input', 'nodes', 'edges', 'large', 'small', 'flagged', 'done'] -%}
        {%- do t.update({step: omniplay.cc_scratch_relation(scratch_prefix, step)}) -%}
    {%- endfor -%}
    {%- do omniplay.cc_drop_scratch_tables(t.values() | list) -%}

    {#- Setup: the model's edges once, dense node numbers, oriented distinct edges. -#}
    {%- do omniplay.cc_create_scratch_table(t.input,
        "select node_a, node_b from (\n" ~ edges_sql ~ "\n) as model_edges") -%}
    {%- do omniplay.cc_create_scratch_table(t.nodes, omniplay.cc_number_nodes_sql(t.input, integer_nodes)) -%}
    {%- do omniplay.cc_create_scratch_table(t.edges, omniplay.cc_orient_edges_sql(t.input, t.nodes, integer_nodes)) -%}
    {%- do omniplay.cc_drop_scratch_tables([t.input]) -%}
    {%- do omniplay.cc_create_scratch_table(t.done, "select hi, lo from " ~ t.edges ~ " where 1 = 0") -%}
    {%- set sizes = omniplay.cc_run_sql(
        "select (select count(*) from " ~ t.nodes ~ ") as nodes, (select count(*) from " ~ t.edges ~ ") as edges") -%}
    {%- set ns = namespace(rounds=0, active=sizes.columns[1].values()[0] | int) -%}
    {%- set input_edges = ns.active -%}

    {%- for round in range(1, max_rounds + 1) -%}
        {%- if ns.active == 0 -%}{%- break -%}{%- endif -%}
        {%- do omniplay.cc_create_scratch_table(t.large, omniplay.cc_large_star_sql(t.edges)) -%}
        {%- do omniplay.cc_drop_scratch_tables([t.edges]) -%}
        {%- do omniplay.cc_create_scratch_table(t.small, omniplay.cc_small_star_sql(t.large)) -%}
        {%- do omniplay.cc_drop_scratch_tables([t.large]) -%}
        {%- do omniplay.cc_create_scratch_table(t.flagged, omniplay.cc_flag_finished_sql(t.small)) -%}
        {%- do omniplay.cc_drop_scratch_tables([t.small]) -%}
        {%- do omniplay.cc_insert_into_scratch(t.done,
            "select hi, lo from " ~ t.flagged ~ " where is_finished") -%}
        {%- do omniplay.cc_create_scratch_table(t.edges,
            "select hi, lo from " ~ t.flagged ~ " where not is_finished") -%}
        {%- do omniplay.cc_drop_scratch_tables([t.flagged]) -%}
        {%- set ns.active = omniplay.cc_run_sql("select count(*) as active from " ~ t.edges).columns[0].values()[0] | int -%}
        {%- set ns.rounds = round -%}
        {%- do log("connected_components " ~ scratch_prefix ~ ": round " ~ round ~ ", "
                   ~ ns.active ~ " edges still active", info=False) -%}
        {%- do adapter.commit() -%}
    {%- endfor -%}

    {%- if ns.active > 0 -%}
        {%- do omniplay.cc_drop_scratch_tables(t.values() | list) -%}
        {{ exceptions.raise_database_error(
            "connected_components: " ~ scratch_prefix ~ " did not converge within " ~ max_rounds
            ~ " rounds (" ~ ns.active ~ " of " ~ input_edges ~ " edges still active). Rounds grow with log2 of"
            ~ " the largest component (about 14 for a 10,000-node path, 17 for 100,000), so either the cap is"
            ~ " too low or the graph has a giant component (often a junk identifier shared by unrelated"
            ~ " records: check the edge model's guards). Raise the cap with"
            ~ " --vars '{omniplay__cc_max_rounds: " ~ (max_rounds * 2) ~ "}' or the model config cc_max_rounds."
        ) }}
    {%- endif -%}
    {%- do omniplay.cc_drop_scratch_tables([t.edges]) -%}

    {%- set merged = omniplay.cc_run_sql(
        "select coalesce(sum(members), 0) as members, coalesce(max(members), 0) as largest from ("
        ~ "select lo, count(*) as members from " ~ t.done ~ " group by lo) as stars") -%}
    {%- set nodes = sizes.columns[0].values()[0] | int -%}
    {%- set largest = (merged.columns[1].values()[0] | int) + 1 if (merged.columns[1].values()[0] | int) > 0
                      else (1 if nodes > 0 else 0) -%}

    {%- set final_sql -%}
{%- if integer_nodes %}
{#- Every finished star is rooted at its smallest id, here the node itself: no labelling pass. #}
select
    nodes.node,
    coalesce(done.lo, nodes.node) as component
from {{ t.nodes }} as nodes
left join {{ t.done }} as done
    on done.hi = nodes.node
{%- else %}
with roots as (
    select
        nodes.node,
        coalesce(done.lo, nodes.id) as root
    from {{ t.nodes }} as nodes
    left join {{ t.done }} as done
        on done.hi = nodes.id
),

{#- A grouped min and a join: cheaper than a window partitioned by root over every node. -#}
labels as (
    select
        root,
        min(node) as component
    from roots
    group by root
)

select
    roots.node,
    labels.component
from roots
inner join labels
    on labels.root = roots.root
{%- endif %}
    {%- endset -%}

    {{ return({
        'sql': final_sql,
        'scratch': [t.nodes, t.done],
        'rounds': ns.rounds,
        'nodes': nodes,
        'edges': input_edges,
        'components': nodes - (merged.columns[0].values()[0] | int),
        'largest_component': largest,
    }) }}
{%- endmacro %}
