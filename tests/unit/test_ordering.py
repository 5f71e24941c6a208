"""Wave ordering: the iterative depth walk agrees with the obvious recursive one, and
a dependency chain of any length is ordered (the recursive walk hit Python's limit)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from hypothesis import given
from hypothesis import strategies as st

from reconciler.planner.ordering import levels

NAMES = [f"s{i}" for i in range(8)]


def recursive_levels(nodes: set[str], edges: Callable[[str], set[str]]) -> Mapping[str, int]:
    """The definition: longest path, cutting edges back into the current path (itself too)."""
    depth: dict[str, int] = {}

    def visit(node: str, path: frozenset[str]) -> int:
        if node in depth:
            return depth[node]
        nexts = sorted(n for n in edges(node) if n in nodes and n not in path | {node})
        level = 1 + max((visit(n, path | {node}) for n in nexts), default=-1)
        depth[node] = level
        return level

    for node in sorted(nodes):
        visit(node, frozenset())
    return depth


@given(
    st.sets(st.sampled_from(NAMES)),
    st.dictionaries(st.sampled_from(NAMES), st.sets(st.sampled_from(NAMES))),
)
def test_iterative_levels_match_the_recursive_definition(
    nodes: set[str], graph: dict[str, set[str]]
) -> None:
    def edges(node: str) -> set[str]:
        return graph.get(node, set())

    assert levels(nodes, edges) == recursive_levels(nodes, edges)


def test_a_chain_longer_than_the_recursion_limit_is_ordered() -> None:
    n = 5000
    nodes = {f"s{i:05}" for i in range(n)}

    def edges(node: str) -> set[str]:
        i = int(node[1:])
        return {f"s{i - 1:05}"} if i else set()

    depth = levels(nodes, edges)
    assert depth["s00000"] == 0
    assert depth[f"s{n - 1:05}"] == n - 1


def test_a_cycle_is_cut_not_looped() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}}
    depth = levels(set(graph), lambda node: graph[node])
    assert depth == {"a": 2, "b": 1, "c": 0}
