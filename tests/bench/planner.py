"""The pure planner at scale: plan() alone on generated states, no Docker.

States mimic the synthetic project (groups of ten with depends_on chains and a
`restart: true` link) at thousands of services. Three shapes per size: converged
(all no-ops), an environment switch (every container recreated), and five replicas
per service (as many containers as 50,000 at 10,000 services). Linear growth means
the time per container stays flat as the size grows.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from reconciler.planner.plan import plan
from state.model.desired import Dependency, DesiredService, DesiredState
from state.model.observed import ObservedState
from tests.builders import container, desired, observed, service

GROUP = 10
REPEAT = 3


def _dependencies(index: int) -> tuple[Dependency, ...]:
    head, position = index - index % GROUP, index % GROUP
    if position == 1:
        return (Dependency(service=f"s{head}", restart=True),)
    if position in (2, 3, 7):
        return (Dependency(service=f"s{index - 1}"),)
    return ()


def states(
    size: int, *, replicas: int = 1, running_env: str = "prod"
) -> tuple[DesiredState, ObservedState]:
    """`size` services wanted in prod; their containers created for `running_env`."""
    services: list[DesiredService] = [
        service(f"s{i}", depends_on=_dependencies(i), replicas=replicas) for i in range(size)
    ]
    containers = [
        container(s.name, number, env=running_env, depends_on=[d.service for d in s.depends_on])
        for s in services
        for number in range(1, replicas + 1)
    ]
    return desired(*services), observed(*containers)


def best_of(call: Callable[[], object], repeat: int) -> float:
    """The least CPU time of `repeat` calls: plan() is single-threaded and does no I/O, so
    CPU time is its cost, and wall time on a shared machine would measure the neighbours."""
    times = []
    for _ in range(repeat):
        start = time.process_time()
        call()
        times.append(time.process_time() - start)
    return min(times)


SHAPES: dict[str, Callable[[int], tuple[DesiredState, ObservedState]]] = {
    "converged": lambda n: states(n),
    "env switch": lambda n: states(n, running_env="dev"),
    "5 replicas": lambda n: states(n, replicas=5),
}


def main(sizes: list[int]) -> dict[str, Any]:
    """Time plan() for each shape and size; print the growth; return the results."""
    results: dict[str, Any] = {}
    print(f"plan() alone, CPU time, best of {REPEAT}: seconds (microseconds per container)")
    print(f"{'shape':<12} " + " ".join(f"{'S=' + str(n):>20}" for n in sizes))
    for shape, make in SHAPES.items():
        row = {}
        for size in sizes:
            want, have = make(size)
            seconds = best_of(lambda w=want, h=have: plan(w, h), REPEAT)
            row[str(size)] = {
                "seconds": round(seconds, 4),
                "containers": len(have.containers),
                "actions": len(plan(want, have).actions),
                "us_per_container": round(1e6 * seconds / max(1, len(have.containers)), 2),
            }
        results[shape] = row
        cells = [f"{r['seconds']:8.3f} ({r['us_per_container']:7.1f})" for r in row.values()]
        print(f"{shape:<12} " + " ".join(f"{c:>20}" for c in cells), flush=True)
    return results
