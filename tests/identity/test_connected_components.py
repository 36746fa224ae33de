"""Connected components through a real `dbt build` (macros/identity, materialization
`connected_components`), compared with networkx on hundreds of Hypothesis-drawn graphs.

One build of tests/identity/dbt_cc_project serves the comparison tests: every graph is
loaded into one edge table with its own node-id prefix, and one 10,000-node path with
shuffled labels into another, whose recorded round count is checked against the
acceptance bound 2*log2(n) + 5.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import pytest

from tests.identity.cc_project import BuildOutcome, CcProject, round_bound
from tests.identity.graphs import Graph, edge_rows, generate, shuffled_path

pytestmark = pytest.mark.dbt

GRAPH_COUNT = 600  # drawn by Hypothesis; a few explicit edge cases come on top
POSTGRES_GRAPHS = 200  # the first ones (with the explicit 10k path): same SQL, slower engine
CHAIN_NODES = 10_000


@pytest.fixture(scope="module")
def cc_graphs() -> list[Graph]:
    return generate(GRAPH_COUNT)


@pytest.fixture(scope="module")
def expected(cc_graphs: list[Graph]) -> list[dict[str, str]]:
    """networkx's answer per graph: node id -> smallest node id of its component."""
    return [graph.expected(i) for i, graph in enumerate(cc_graphs)]


@pytest.fixture(scope="module")
def chain() -> Graph:
    return shuffled_path(CHAIN_NODES, seed=20261122)


def _build_all(project: CcProject, graphs: list[Graph], chain: Graph) -> BuildOutcome:
    project.load_edges({"graph_edges": edge_rows(graphs), "chain_edges": chain.labelled(0)})
    outcome = project.build()
    assert outcome.success, f"dbt build failed: {outcome.exception} {_failures(outcome)}"
    return outcome


@pytest.fixture(scope="module")
def duckdb_cc(tmp_path_factory: pytest.TempPathFactory, cc_graphs: list[Graph],
              chain: Graph) -> tuple[CcProject, BuildOutcome]:
    project = CcProject.duckdb(tmp_path_factory.mktemp("cc-duckdb"))
    return project, _build_all(project, cc_graphs, chain)


def _failures(outcome: BuildOutcome) -> dict[str, str]:
    return {uid: f"{status}: {outcome.messages[uid][:500]}"
            for uid, status in outcome.statuses.items() if status not in {"success", "pass"}}


def assert_components_match(project: CcProject, graphs: list[Graph], expected: list[dict[str, str]]) -> None:
    """Every graph's (node, component) rows equal networkx's answer; report the smallest miss."""
    actual: dict[int, dict[str, str]] = defaultdict(dict)
    for node, component in project.components("cc_graphs").items():
        actual[int(node[1:node.index("_")])][node] = component
    assert set(actual) <= set(range(len(graphs))), "nodes outside every generated graph"
    wrong = [i for i in range(len(graphs)) if actual.get(i, {}) != expected[i]]
    if wrong:
        i = min(wrong, key=lambda k: graphs[k].n)
        diff = {node: (actual[i].get(node), expected[i].get(node))
                for node in set(actual[i]) | set(expected[i]) if actual[i].get(node) != expected[i].get(node)}
        raise AssertionError(
            f"{len(wrong)} of {len(graphs)} graphs differ from networkx. Smallest: graph {i} "
            f"({graphs[i].n} nodes, shapes {graphs[i].shapes}), edges {graphs[i].labelled(i)[:40]}; "
            f"node: (actual, expected) {dict(list(diff.items())[:20])}"
        )


def integer_node(node: str) -> int:
    """The integer id cc_graphs_integer gives the node g<i>_<v>: i * 1,000,000 + v."""
    graph, number = node[1:].split("_")
    return int(graph) * 1_000_000 + int(number)


def assert_integer_components_match(project: CcProject, expected: list[dict[str, str]]) -> None:
    """cc_graphs_integer (cc_integer_nodes: the ids are used as they are) labels each node with the
    smallest integer id of its networkx component."""
    members: dict[str, list[int]] = defaultdict(list)
    for answer in expected:
        for node, label in answer.items():
            members[label].append(integer_node(node))
    want = {node: min(ids) for ids in members.values() for node in ids}
    actual = project.components("cc_graphs_integer")
    wrong = {node: (actual.get(node), want.get(node)) for node in set(actual) | set(want)
             if actual.get(node) != want.get(node)}
    assert not wrong, f"{len(wrong)} of {len(want)} integer nodes differ from networkx: {dict(list(wrong.items())[:20])}"


def assert_chain_converged(project: CcProject, chain: Graph) -> int:
    assert project.components("cc_chain") == chain.expected(0)
    [entry] = project.round_log("cc_chain")
    assert (entry["nodes"], entry["edges"], entry["components"], entry["largest_component"]) == (
        CHAIN_NODES, CHAIN_NODES - 1, 1, CHAIN_NODES)
    # A recorded round is one large-star pass, one small-star pass and the finished-star check.
    assert 1 <= entry["rounds"] <= round_bound(CHAIN_NODES), entry
    return entry["rounds"]


def test_build_runs_the_data_tests(duckdb_cc: tuple[CcProject, BuildOutcome]) -> None:
    _, outcome = duckdb_cc
    tests = {uid: status for uid, status in outcome.statuses.items() if uid.startswith("test.")}
    assert "test.omniplay.cc_graphs_labels_are_minimal_members" in tests
    assert any(uid.startswith("test.omniplay.unique_cc_graphs_node") for uid in tests)
    assert set(tests.values()) == {"pass"}
    assert {outcome.statuses[f"model.omniplay.{m}"]
            for m in ("cc_graphs", "cc_graphs_integer", "cc_chain", "cc_no_edges")} == {"success"}


def test_components_equal_networkx(duckdb_cc: tuple[CcProject, BuildOutcome], cc_graphs: list[Graph],
                                   expected: list[dict[str, str]]) -> None:
    assert len(cc_graphs) >= 500
    assert max(graph.n for graph in cc_graphs if "path" in graph.shapes) >= CHAIN_NODES
    assert_components_match(duckdb_cc[0], cc_graphs, expected)


def test_integer_node_components_equal_networkx(duckdb_cc: tuple[CcProject, BuildOutcome],
                                                 expected: list[dict[str, str]]) -> None:
    assert_integer_components_match(duckdb_cc[0], expected)


def test_shuffled_10k_chain_converges_within_log_bound(duckdb_cc: tuple[CcProject, BuildOutcome],
                                                       chain: Graph) -> None:
    assert_chain_converged(duckdb_cc[0], chain)


def test_round_log_records_each_build(duckdb_cc: tuple[CcProject, BuildOutcome], cc_graphs: list[Graph],
                                      expected: list[dict[str, str]]) -> None:
    project, _ = duckdb_cc
    [graphs_entry] = project.round_log("cc_graphs")
    [empty_entry] = project.round_log("cc_no_edges")
    [chain_entry] = project.round_log("cc_chain")
    assert graphs_entry["invocation_id"] == chain_entry["invocation_id"] == empty_entry["invocation_id"]

    sizes = Counter(component for answer in expected for component in answer.values())
    distinct_edges = {frozenset(edge) for i, graph in enumerate(cc_graphs)
                      for edge in graph.labelled(i) if None not in edge and edge[0] != edge[1]}
    assert graphs_entry["nodes"] == sum(graph.n for graph in cc_graphs)
    assert graphs_entry["edges"] == len(distinct_edges)
    assert graphs_entry["components"] == len(sizes)
    assert graphs_entry["largest_component"] == max(sizes.values())
    assert graphs_entry["rounds"] <= round_bound(graphs_entry["largest_component"])

    assert (empty_entry["rounds"], empty_entry["nodes"], empty_entry["components"]) == (0, 0, 0)
    assert project.query(f"select count(*) from {project.model_schema}.cc_no_edges") == [(0,)]


def test_round_cap_fails_clearly_and_keeps_the_previous_table(tmp_path: Path) -> None:
    project = CcProject.duckdb(tmp_path)
    path = shuffled_path(3_000, seed=7)
    project.load_edges({"graph_edges": [], "chain_edges": path.labelled(0)})

    assert project.build(select=["cc_chain"]).success
    [first] = project.round_log("cc_chain")
    assert first["rounds"] > 2

    capped = project.build(select=["cc_chain"], vars={"omniplay__cc_max_rounds": 2})
    assert not capped.success
    message = capped.messages["model.omniplay.cc_chain"]
    assert "did not converge within 2 rounds" in message
    assert "omniplay__cc_max_rounds" in message
    # The failed build swapped nothing in and logged nothing.
    assert project.components("cc_chain") == path.expected(0)
    assert len(project.round_log("cc_chain")) == 1

    assert project.build(select=["cc_chain"]).success
    log = project.round_log("cc_chain")
    assert len(log) == 2 and log[0]["invocation_id"] != log[1]["invocation_id"]
    assert log[1]["rounds"] == first["rounds"]

    # The model config cc_max_rounds beats the project variable.
    overridden = project.build(select=["cc_chain_capped"], vars={"cc_enable_capped_model": True})
    assert "did not converge within 2 rounds" in overridden.messages["model.omniplay.cc_chain_capped"]


@pytest.mark.parametrize("cap", [0, "many"])
def test_invalid_round_cap_is_a_configuration_error(tmp_path: Path, cap: object) -> None:
    project = CcProject.duckdb(tmp_path)
    project.load_edges({"graph_edges": [("a", "b")], "chain_edges": []})
    outcome = project.build(select=["cc_no_edges"], vars={"omniplay__cc_max_rounds": cap})
    assert not outcome.success
    message = outcome.messages["model.omniplay.cc_no_edges"]
    assert "must be a positive integer" in message and "omniplay__cc_max_rounds" in message


def test_postgres_components_equal_networkx(postgres_server, tmp_path_factory: pytest.TempPathFactory,
                                            cc_graphs: list[Graph], expected: list[dict[str, str]],
                                            chain: Graph) -> None:
    database = postgres_server.create_database("omniplay_cc")
    project = CcProject.postgres(tmp_path_factory.mktemp("cc-postgres"), postgres_server.env(database))
    graphs = cc_graphs[:POSTGRES_GRAPHS]
    _build_all(project, graphs, chain)
    assert_components_match(project, graphs, expected[:POSTGRES_GRAPHS])
    assert_integer_components_match(project, expected[:POSTGRES_GRAPHS])
    assert_chain_converged(project, chain)
