"""Ordering: assign each planned action its wave (plan stage).

Teardown first, dependents first, in Compose's order: a service goes as soon as every
removed service that depends on it is gone (so nothing loses what it needs while up,
and one with no dependents goes in the first wave, beside the deepest dependents);
then the bring-up, dependencies first: a service comes up in the wave after its
deepest dependency. One wave's actions are independent and may run together.

Who depends on whom: the desired state's depends_on, each container's depends_on label,
and, for a teardown without a desired state, what the compose files declare when they
could be read (`declared`): a container created by `up --no-deps` carries no label for
a dependency outside that call, which Compose drops. Pure; the depth of a dependency
chain is computed without recursion, so a chain of any length is fine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace

from reconciler.planner.actions import KIND_ORDER, TEARDOWN, Action
from state.model.desired import DesiredState
from state.model.observed import ObservedState


def order(
    actions: Iterable[Action],
    desired: DesiredState | None,
    observed: ObservedState,
    declared: Mapping[str, Iterable[str]] | None = None,
) -> tuple[Action, ...]:
    """Assign waves: teardown (dependents first), then bring-up (dependencies first).
    `declared`: service -> the services it depends on, from the compose files."""
    actions = list(actions)
    wanted = set(desired.services) if desired else set()
    depends = _depends(desired, observed, declared)
    removed = {a.service for a in actions if a.kind in TEARDOWN}
    waits = _waits(removed, depends)
    teardown = levels(removed, lambda s: set(waits[s]))
    top = max(teardown.values(), default=-1)

    bring_up = levels(wanted, lambda s: depends[s] & wanted)
    waves: list[Action] = []
    for action in actions:
        if action.kind in TEARDOWN:
            wave = teardown[action.service]
        else:
            wave = top + 1 + bring_up[action.service]
        waves.append(replace(action, wave=wave))
    used = sorted({a.wave for a in waves})
    renumber = {old: new for new, old in enumerate(used, start=1)}
    ordered = [replace(a, wave=renumber[a.wave]) for a in waves]
    ordered.sort(
        key=lambda a: (
            a.wave,
            KIND_ORDER[a.kind],
            a.service,
            -a.number if a.kind in TEARDOWN else a.number,
            a.container_id or "",
        )
    )
    return tuple(ordered)


def teardown_waits(
    services: Iterable[str],
    observed: ObservedState,
    declared: Mapping[str, Iterable[str]] | None = None,
) -> dict[str, frozenset[str]]:
    """For a teardown of `services`: each one -> those of them that depend on it, which
    must be gone first (the edges its waves come from; reconciler/execute/flow.py)."""
    return _waits(set(services), _depends(None, observed, declared))


def _depends(
    desired: DesiredState | None,
    observed: ObservedState,
    declared: Mapping[str, Iterable[str]] | None,
) -> dict[str, set[str]]:
    """Service -> what it depends on: the desired state's, the labels', the files'."""
    wanted = desired.services if desired else {}
    depends = {name: set(desired.dependencies(name)) for name in wanted if desired}
    for container in observed.containers:
        depends.setdefault(container.service, set()).update(container.depends_on)
    for service, dependencies in (declared or {}).items():
        depends.setdefault(service, set()).update(dependencies)
    return depends


def _waits(removed: set[str], depends: Mapping[str, set[str]]) -> dict[str, frozenset[str]]:
    found: dict[str, set[str]] = {service: set() for service in removed}
    for service in removed:
        for dependency in depends.get(service, set()) & removed:
            found[dependency].add(service)
    return {service: frozenset(waiting) for service, waiting in found.items()}


def levels(nodes: set[str], edges: Callable[[str], set[str]]) -> Mapping[str, int]:
    """Longest-path depth of each node along `edges` (0 for a node with none).

    An iterative depth-first walk: a node's depth is one more than its deepest
    successor's. Compose rejects cycles in depends_on; an edge back into the walk's
    current path (a cycle in stray labels) is cut, never looped.
    """
    depth: dict[str, int] = {}
    on_path: set[str] = set()
    for root in sorted(nodes):
        if root in depth:
            continue
        stack: list[tuple[str, list[str]]] = [(root, _successors(root, nodes, edges, on_path))]
        on_path.add(root)
        while stack:
            node, pending = stack[-1]
            while pending and (pending[-1] in depth or pending[-1] in on_path):
                pending.pop()  # done already, or a cycle back into the path: no descent
            if pending:
                child = pending.pop()
                on_path.add(child)
                stack.append((child, _successors(child, nodes, edges, on_path)))
                continue
            stack.pop()
            on_path.discard(node)
            seen = [depth[n] for n in edges(node) if n in nodes and n in depth]
            depth[node] = 1 + max(seen, default=-1)
    return depth


def _successors(
    node: str, nodes: set[str], edges: Callable[[str], set[str]], on_path: set[str]
) -> list[str]:
    return sorted((n for n in edges(node) if n in nodes and n not in on_path), reverse=True)
