"""Properties of the planner and the executor, over generated worlds (in-memory engine).

Each property is its own test. The deliberately broken planners of tests/property/
mutants.py (`just mutants`) show that each one can fail.
"""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from reconciler.plan import ActionKind, plan
from state.desired import DesiredState
from state.engine import ONEOFF_LABEL, PROJECT_LABEL
from state.observed import ObservedState, observe
from tests.memory_engine import MemoryEngine
from tests.property.driver import current_plan, reconcile
from tests.property.strategies import PROJECT, desired_states, seeds, world


@st.composite
def worlds(draw: st.DrawFn) -> tuple[DesiredState, MemoryEngine]:
    desired = draw(desired_states())
    return desired, world(desired, draw(seeds(desired)))


@given(worlds())
def test_convergence(case: tuple[DesiredState, MemoryEngine]) -> None:
    """Applying plan(D, O) to O yields O' with plan(D, O') empty."""
    desired, engine = case
    _, result = reconcile(engine, desired)
    assert result.ok, result.error
    assert current_plan(engine, desired).actions == ()


@given(worlds())
def test_idempotence(case: tuple[DesiredState, MemoryEngine]) -> None:
    """Applying twice equals applying once; an empty plan makes no write at all."""
    desired, engine = case
    reconcile(engine, desired)
    once = engine.snapshot()
    writes = len(engine.writes)
    second_plan, _ = reconcile(engine, desired)
    assert second_plan.is_empty
    assert len(engine.writes) == writes
    assert engine.snapshot() == once


@given(worlds())
def test_minimality(case: tuple[DesiredState, MemoryEngine]) -> None:
    """A service whose containers already match is never touched: same ids, not restarted."""
    desired, engine = case
    before_plan = current_plan(engine, desired)
    in_sync = {n.service for n in before_plan.noops}
    before = {
        cid: (c.service, c.started)
        for cid, c in engine.containers_by_id.items()
        if c.project == PROJECT and c.service in in_sync
    }
    reconcile(engine, desired)
    after = {
        cid: (c.service, c.started)
        for cid, c in engine.containers_by_id.items()
        if c.project == PROJECT and c.service in in_sync
    }
    assert after == before


@given(worlds())
def test_order_dependencies_are_up_first(case: tuple[DesiredState, MemoryEngine]) -> None:
    """No container is started before what it depends on is running."""
    desired, engine = case
    reconcile(engine, desired)
    assert engine.order_violations == []


@given(worlds())
def test_order_dependents_are_removed_first(case: tuple[DesiredState, MemoryEngine]) -> None:
    """No container is stopped or removed after what it depends on."""
    desired, engine = case
    observed = observe(engine, desired.project)
    the_plan = plan(desired, observed)
    depends = {c.service: set(c.depends_on) for c in observed.containers}
    for name, spec in desired.services.items():
        depends.setdefault(name, set()).update(d.service for d in spec.depends_on)
    removals = [a for a in the_plan.actions if a.kind is ActionKind.REMOVE]
    for dependent in removals:
        for dependency in removals:
            if (
                dependency.service in depends.get(dependent.service, set())
                and dependency.service != dependent.service
            ):
                assert dependent.wave < dependency.wave, (dependent, dependency)


@given(worlds())
def test_purity_planning_writes_nothing(case: tuple[DesiredState, MemoryEngine]) -> None:
    """Observing and planning make no write call on the engine."""
    desired, engine = case
    before = engine.snapshot()
    plan(desired, observe(engine, desired.project))
    assert engine.writes == []
    assert engine.snapshot() == before


@given(worlds(), st.randoms(use_true_random=False))
def test_purity_deterministic_under_permutation(
    case: tuple[DesiredState, MemoryEngine], rnd: random.Random
) -> None:
    """The plan does not depend on the order containers or services come in."""
    desired, engine = case
    observed = observe(engine, desired.project)
    containers = list(observed.containers)
    rnd.shuffle(containers)
    services = list(desired.services.items())
    rnd.shuffle(services)
    shuffled_desired = desired.model_copy(update={"services": dict(services)})
    shuffled = ObservedState(project=observed.project, containers=tuple(containers))
    assert plan(shuffled_desired, shuffled) == plan(desired, observed)


@given(worlds())
def test_boundaries_other_projects_and_one_offs_are_never_touched(
    case: tuple[DesiredState, MemoryEngine],
) -> None:
    desired, engine = case

    def foreign() -> dict[str, object]:
        return {
            cid: c
            for cid, c in engine.snapshot().items()
            if c.labels.get(PROJECT_LABEL) != PROJECT or c.labels.get(ONEOFF_LABEL) == "True"
        }

    before = foreign()
    reconcile(engine, desired)
    assert foreign() == before


@given(worlds())
def test_boundaries_named_volumes_are_never_removed(
    case: tuple[DesiredState, MemoryEngine],
) -> None:
    desired, engine = case
    reconcile(engine, desired)
    volumes = set(engine.volumes)
    switched = desired.model_copy(update={"services": {}})  # every service gone from the files
    reconcile(engine, switched)
    assert engine.volumes >= volumes
