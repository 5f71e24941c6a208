"""The generated worlds reach the hard cases, measured: each named case must turn up
in at least its share of the examples of `worlds(hard=True)` (tests/property/
strategies.py), and too many worlds without a single container of the project fail it
too. Each case is a hypothesis `event()` (`pytest --hypothesis-show-statistics`).

`python -m tests.property.test_distribution [N]` prints the table (share per case).
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, Phase, event, given, settings

from reconciler.planner.plan import ActionKind, plan
from state.model.observed import observe
from tests.property import strategies

ONEOFF = "com.docker.compose.oneoff"
PROJECT_LABEL = "com.docker.compose.project"
NUMBER = "com.docker.compose.container-number"
Case = Callable[[Any, Any], bool]
EXAMPLES = 300


def _ours(engine: Any) -> list[Any]:
    return [
        c
        for c in engine.containers_by_id.values()
        if c.labels.get(PROJECT_LABEL) == strategies.PROJECT and c.labels.get(ONEOFF) != "True"
    ]


def _wanted(desired: Any, engine: Any, status: str) -> bool:
    return any(c.status.value == status and c.service in desired.services for c in _ours(engine))


def _edge(condition: str) -> Case:
    return lambda d, e: any(
        dep.condition == condition for s in d.services.values() for dep in s.depends_on
    )


def _gap(desired: Any, engine: Any) -> bool:
    for name, spec in desired.services.items():
        numbers = sorted({int(c.labels[NUMBER]) for c in _ours(engine) if c.service == name})
        if spec.replicas > 1 and numbers and numbers != list(range(1, len(numbers) + 1)):
            return True
    return False


def _one_shots(desired: Any) -> set[str]:
    return {
        dep.service
        for s in desired.services.values()
        for dep in s.depends_on
        if dep.condition == "service_completed_successfully"
    }


def _failing_one_shot(desired: Any, engine: Any) -> bool:
    once = _one_shots(desired)
    seeded = any(
        c.service in once and c.status.value == "exited" and c.exit_code != 0 for c in _ours(engine)
    )
    return seeded or bool(getattr(engine, "failing_runs", set()) & once)


def _restart_planned(desired: Any, engine: Any) -> bool:
    the_plan = plan(desired, observe(engine, desired.project))
    engine.calls.clear()
    return any(a.kind is ActionKind.RESTART for a in the_plan.actions)


# The case, and the least share of examples that must reach it.
CASES: dict[str, tuple[Case, float]] = {
    "a paused wanted container": (lambda d, e: _wanted(d, e, "paused"), 0.10),
    "a dead wanted container": (lambda d, e: _wanted(d, e, "dead"), 0.06),
    "a restarting wanted container": (lambda d, e: _wanted(d, e, "restarting"), 0.10),
    "a half-renamed leftover": (
        lambda d, e: any(re.match(r"^[0-9a-f]{12}_", c.name) for c in _ours(e)),
        0.10,
    ),
    "a scaled service with a gap": (_gap, 0.05),
    "profiles on": (lambda d, e: bool(d.profiles), 0.30),
    "profiles off": (lambda d, e: not d.profiles, 0.10),
    "a service_started edge": (_edge("service_started"), 0.12),
    "a service_healthy edge": (_edge("service_healthy"), 0.12),
    "a service_completed_successfully edge": (_edge("service_completed_successfully"), 0.12),
    "a failing one-shot": (_failing_one_shot, 0.05),
    "a restart: true dependent": (
        lambda d, e: any(dep.restart for s in d.services.values() for dep in s.depends_on),
        0.20,
    ),
    "a dependent's restart planned": (_restart_planned, 0.03),
    "a failing healthcheck": (lambda d, e: bool(getattr(e, "failing_health", set())), 0.10),
    "the health gate on": (lambda d, e: bool(getattr(e, "gate", False)), 0.30),
}
EMPTY = "no container of the project at all"
MOST_EMPTY = 0.25


def measure(examples: int = EXAMPLES) -> tuple[int, Counter[str]]:
    """How many of `examples` generated worlds reach each case (fixed seed)."""
    counts: Counter[str] = Counter()
    seen = [0]
    try:
        generated = strategies.worlds(hard=True)
    except TypeError:  # an older strategies module (the "before" table)
        generated = strategies.worlds()

    @settings(
        max_examples=examples,
        database=None,
        derandomize=True,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(generated)
    def look(case: tuple[Any, Any]) -> None:
        desired, engine = case
        seen[0] += 1
        if not _ours(engine):
            event(EMPTY)
            counts[EMPTY] += 1
        for name, (reached, _) in CASES.items():
            if reached(desired, engine):
                event(name)
                counts[name] += 1

    look()
    return seen[0], counts


def table(total: int, counts: Counter[str]) -> str:
    rows = [f"{'case':<42} {'share':>6}  {'least':>6}", "-" * 58]
    for name, (_, least) in CASES.items():
        rows.append(f"{name:<42} {counts[name] / total:>6.0%}  {least:>6.0%}")
    rows.append(f"{EMPTY:<42} {counts[EMPTY] / total:>6.0%}  (most {MOST_EMPTY:.0%})")
    return "\n".join([*rows, f"({total} examples)"])


def test_every_named_case_is_reached_in_its_share_of_the_worlds() -> None:
    total, counts = measure()
    short = {
        name: f"{counts[name] / total:.0%} < {least:.0%}"
        for name, (_, least) in CASES.items()
        if counts[name] / total < least
    }
    assert short == {}, table(total, counts)
    assert counts[EMPTY] / total <= MOST_EMPTY, table(total, counts)


if __name__ == "__main__":
    print(table(*measure(int(sys.argv[1]) if len(sys.argv) > 1 else EXAMPLES)))
