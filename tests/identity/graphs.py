"""Hypothesis-generated graphs for the connected-components tests, and their reference answer.

A graph is a union of parts (paths up to 10,000 nodes, stars, cliques, cycles, random trees,
random graphs, isolated nodes), optionally bridged by extra edges, with node labels
shuffled, edge directions flipped and some edges repeated. Isolated nodes are carried by a
self-loop or by an edge whose other end is null. Many graphs share one build: graph i's
node ids are prefixed `g<i>_`, which keeps their node sets disjoint.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass

import networkx as nx
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

SIZE_CLASSES = ("small",) * 6 + ("medium",) * 3 + ("large",)


@dataclass(frozen=True)
class Graph:
    """Integer nodes 0..n-1 and the edge rows to load; `None` is a null end."""

    n: int
    edges: tuple[tuple[int | None, int | None], ...]
    shapes: tuple[str, ...]

    def labelled(self, index: int) -> list[tuple[str | None, str | None]]:
        """The edge rows with node ids of graph number `index`."""
        return [(None if a is None else node_id(index, a), None if b is None else node_id(index, b))
                for a, b in self.edges]

    def expected(self, index: int) -> dict[str, str]:
        """node id -> smallest node id of its component, from networkx."""
        graph = nx.Graph()
        graph.add_nodes_from(node_id(index, v) for v in range(self.n))
        graph.add_edges_from((a, b) for a, b in self.labelled(index) if a is not None and b is not None)
        expected: dict[str, str] = {}
        for members in nx.connected_components(graph):
            label = min(members)
            expected.update(dict.fromkeys(members, label))
        return expected


def node_id(index: int, node: int) -> str:
    # Not zero-padded, so text order differs from numeric order ("g1_10" < "g1_9").
    return f"g{index}_{node}"


def _size(draw, small: int, medium: int, large: int) -> int:
    size_class = draw(st.sampled_from(SIZE_CLASSES))
    bounds = {"small": (1, small), "medium": (small + 1, medium), "large": (medium + 1, large)}[size_class]
    return draw(st.integers(*bounds))


@st.composite
def _part(draw) -> tuple[str, int, list[tuple[int | None, int | None]]]:
    """One connected shape (or a set of isolated nodes) on nodes 0..n-1."""
    shape = draw(st.sampled_from(["path", "star", "clique", "cycle", "tree", "random", "isolated"]))
    rnd = random.Random(draw(st.integers(0, 2**32 - 1)))
    if shape == "path":
        n = max(2, _size(draw, 40, 2_000, 10_000))
        return shape, n, [(i, i + 1) for i in range(n - 1)]
    if shape == "star":
        n = max(2, _size(draw, 20, 500, 3_000))
        return shape, n, [(0, i) for i in range(1, n)]
    if shape == "clique":
        n = draw(st.integers(2, 40))
        return shape, n, [(i, j) for i in range(n) for j in range(i + 1, n)]
    if shape == "cycle":
        n = max(3, _size(draw, 30, 1_000, 5_000))
        return shape, n, [(i, (i + 1) % n) for i in range(n)]
    if shape == "tree":
        n = max(2, _size(draw, 30, 1_000, 5_000))
        return shape, n, [(i, rnd.randrange(i)) for i in range(1, n)]
    if shape == "random":
        n = draw(st.integers(2, 30))
        edges = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=3 * n))
        # Unlinked nodes of a random part still belong to the graph: carry them with self-loops.
        return shape, n, edges + [(v, v) for v in range(n)]
    n = draw(st.integers(1, 20))
    return shape, n, [rnd.choice([(v, v), (v, None), (None, v)]) for v in range(n)]


@st.composite
def graphs(draw) -> Graph:
    """A graph as described in the module docstring."""
    parts = draw(st.lists(_part(), min_size=1, max_size=4))
    edges: list[tuple[int | None, int | None]] = []
    offset = 0
    for _shape, n, part_edges in parts:
        edges += [(None if a is None else a + offset, None if b is None else b + offset) for a, b in part_edges]
        offset += n
    total = offset
    edges += draw(st.lists(st.tuples(st.integers(0, total - 1), st.integers(0, total - 1)), max_size=4))
    rnd = random.Random(draw(st.integers(0, 2**32 - 1)))
    labels = list(range(total))
    if draw(st.booleans()) or total > 50:
        rnd.shuffle(labels)
    repeats = draw(st.integers(0, 5))
    edges += [rnd.choice(edges) for _ in range(repeats)] if edges else []
    rows = [(None if a is None else labels[a], None if b is None else labels[b]) for a, b in edges]
    rows = [(b, a) if rnd.random() < 0.5 else (a, b) for a, b in rows]
    rnd.shuffle(rows)
    return Graph(n=total, edges=tuple(rows), shapes=tuple(shape for shape, _, _ in parts))


def shuffled_path(n: int, seed: int) -> Graph:
    """A path of n nodes whose labels are a random permutation (ids not in path order)."""
    rnd = random.Random(seed)
    labels = list(range(n))
    rnd.shuffle(labels)
    return Graph(n=n, edges=tuple((labels[i], labels[i + 1]) for i in range(n - 1)), shapes=("path",))


def generate(count: int) -> list[Graph]:
    """`count` graphs drawn by Hypothesis (deterministically), plus explicit edge cases.

    Hypothesis cannot shrink across one shared build, so it is used here only to draw the
    graphs; a failing comparison reports the smallest graph that disagrees.
    """
    drawn: list[Graph] = []

    @settings(max_examples=count, derandomize=True, database=None, deadline=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(graphs())
    @example(shuffled_path(10_000, seed=1))
    @example(Graph(n=1, edges=((0, 0),), shapes=("isolated",)))
    @example(Graph(n=1, edges=((0, None),), shapes=("isolated",)))
    @example(Graph(n=1, edges=((None, 0),), shapes=("isolated",)))
    @example(Graph(n=2, edges=((0, 1), (1, 0), (0, 1), (1, 1)), shapes=("duplicates",)))
    def collect(graph: Graph) -> None:
        drawn.append(graph)

    collect()
    return drawn


def edge_rows(graphs_: Iterable[Graph]) -> list[tuple[str | None, str | None]]:
    """All graphs' edge rows in one list, graph i prefixed `g<i>_`."""
    return [row for index, graph in enumerate(graphs_) for row in graph.labelled(index)]
