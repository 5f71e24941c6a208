"""Properties of the planner and the executor, over generated worlds (in-memory engine).

Each property is its own test. The deliberately broken planners of tests/property/
mutants.py (`just mutants`) show that each one can fail.
"""

from __future__ import annotations

import random
import re
from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from reconciler.planner.plan import ActionKind, plan
from state.engine import (
    CONFIG_HASH_LABEL,
    NUMBER_LABEL,
    ONEOFF_LABEL,
    PROJECT_LABEL,
    ContainerStatus,
)
from state.model.desired import DesiredState
from state.model.observed import ObservedState, observe
from tests.builders import desired as make_desired
from tests.builders import service
from tests.memory_engine import MemoryEngine
from tests.property.driver import Run, reconcile
from tests.property.oracle import look, problems
from tests.property.strategies import PROJECT, worlds


def failed_for_a_failing_service(engine: MemoryEngine, run: Run) -> bool:
    """A run may fail only for what the world makes fail: a one-shot that exits 1, or
    (the gate on) a healthcheck that fails or a crash loop; and it must name that
    service."""
    looping = {
        c.service for c in engine.containers_by_id.values() if c.status.value == "restarting"
    }
    failing = engine.failing_runs | (engine.failing_health | looping if engine.gate else set())
    if any(re.search(rf"\b{name}\b", run.error or "") for name in failing):
        return True  # the gate's failure names the service
    # "did not converge": what is still pending is only the failing services' containers
    pending = [line for line in run.said if line.startswith("Still pending")]
    named = set(re.findall(rf"{PROJECT}-([a-z-]+?)-\d+", "\n".join(pending)))
    return bool(named) and named <= failing


@given(worlds(hard=True))
def test_convergence(case: tuple[DesiredState, MemoryEngine]) -> None:
    """Applying plan(D, O) to O yields a world the oracle (tests/property/oracle.py, not
    the planner) calls converged; or fails naming the service the world makes fail."""
    desired, engine = case
    before = look(engine)
    result = reconcile(engine, desired)
    if not result.ok:
        assert failed_for_a_failing_service(engine, result), result.error
        return
    assert problems(desired, before, look(engine)) == []


@given(worlds(hard=True))
def test_idempotence(case: tuple[DesiredState, MemoryEngine]) -> None:
    """Applying twice equals applying once; an empty plan makes no write at all."""
    desired, engine = case
    before = look(engine)
    first = reconcile(engine, desired)
    if not first.ok:
        assert failed_for_a_failing_service(engine, first), first.error
        return
    once = engine.snapshot()
    writes = len(engine.writes)
    second = reconcile(engine, desired)
    assert second.ok, second.error
    assert problems(desired, before, look(engine)) == []
    assert second.plan.is_empty
    assert len(engine.writes) == writes
    assert engine.snapshot() == once


def matching_services(desired: DesiredState, engine: MemoryEngine) -> set[str]:
    """Services whose containers already match, judged from the world, not by the planner:
    exactly numbers 1..replicas, each running with the desired hash, image and APP_ENV.
    (A dependent with `restart: true` on a service that does not match may be restarted.)"""
    matching = set()
    for name, spec in desired.services.items():
        mine = [
            c
            for c in engine.containers_by_id.values()
            if c.project == PROJECT and c.labels.get(ONEOFF_LABEL) != "True" and c.service == name
        ]
        numbers = sorted(int(c.labels[NUMBER_LABEL]) for c in mine)
        if numbers == list(range(1, spec.replicas + 1)) and all(
            c.status is ContainerStatus.RUNNING
            and c.labels.get(CONFIG_HASH_LABEL) == spec.config_hash
            and c.image_id == spec.image_id
            and c.env.get("APP_ENV") == spec.app_env
            for c in mine
        ):
            matching.add(name)
    return {
        n
        for n in matching
        if not any(d.restart and d.service not in matching for d in desired.services[n].depends_on)
    }


@given(worlds(), st.data())
def test_minimality(case: tuple[DesiredState, MemoryEngine], data: st.DataObject) -> None:
    """A service whose containers already match is never touched: same ids, not restarted.

    The world is converged first and then a few containers are disturbed, so most
    services match and the property has something to protect."""
    desired, engine = case
    reconcile(engine, desired)
    ours = sorted(
        (c for c in engine.containers_by_id.values() if c.project == PROJECT), key=lambda c: c.id
    )
    if ours:
        victims = data.draw(st.lists(st.sampled_from(ours), max_size=2, unique_by=lambda c: c.id))
        for victim in victims:
            how = data.draw(st.sampled_from(["stop", "pause", "remove", "tamper"]))
            if how == "remove":
                engine.disturb_remove(victim.id)
            elif how == "tamper":
                engine.disturb_label(victim.id, CONFIG_HASH_LABEL, "tampered")
            else:
                engine.disturb_status(
                    victim.id, ContainerStatus.EXITED if how == "stop" else ContainerStatus.PAUSED
                )
    untouchable = matching_services(desired, engine)

    def state_of_untouchable() -> dict[str, tuple[str, int]]:
        return {
            cid: (c.service, c.started)
            for cid, c in engine.containers_by_id.items()
            if c.project == PROJECT and c.service in untouchable
        }

    before = state_of_untouchable()
    reconcile(engine, desired)
    assert state_of_untouchable() == before


@given(worlds())
def test_order_dependencies_are_up_first(case: tuple[DesiredState, MemoryEngine]) -> None:
    """No container is started before what it depends on is running: in the world
    drawn, and in an empty one (the whole project brought up from nothing)."""
    desired, engine = case
    reconcile(engine, desired)
    assert engine.order_violations == []
    fresh = MemoryEngine(desired, probed_health=True)
    reconcile(fresh, desired)
    assert fresh.order_violations == []
    # And a chain whose kinds interleave: web -> api -> db, with db and web stopped and
    # api missing. One wave's actions go by kind (starts together, then one `up`), so
    # only waves keep web from starting before api exists.
    chain = make_desired(
        service("db"), service("api", depends_on=["db"]), service("web", depends_on=["api"])
    )
    world = MemoryEngine(chain, probed_health=True)
    for stopped in ("db", "web"):
        world.add(stopped, status=ContainerStatus.EXITED)
    reconcile(world, chain)
    assert world.order_violations == []


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
    shuffled_desired = replace(desired, services=dict(services))
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
    volumes = set(engine.volumes_made)
    switched = replace(desired, services={})  # every service gone from the files
    reconcile(engine, switched)
    assert engine.volumes_made >= volumes


def _ours(engine: MemoryEngine) -> dict[str, tuple[str, int, ContainerStatus, str]]:
    return {
        cid: (c.service, c.started, c.status, c.name)
        for cid, c in engine.containers_by_id.items()
        if c.project == PROJECT and c.labels.get(ONEOFF_LABEL) != "True"
    }


@given(worlds())
def test_restart_true_dependents_restart_when_their_dependency_is_new(
    case: tuple[DesiredState, MemoryEngine],
) -> None:
    """Compose's `depends_on: {X: {restart: true}}`: when X gets a new container, a
    dependent that was running untouched is restarted. Judged from the world: which
    services got new container ids, and whose StartedAt moved."""
    desired, engine = case
    before = _ours(engine)
    result = reconcile(engine, desired)
    if not result.ok:
        return
    after = _ours(engine)
    renewed = {after[cid][0] for cid in after.keys() - before.keys()}
    for name, spec in desired.services.items():
        mine_before = {cid: v for cid, v in before.items() if v[0] == name}
        mine_after = {cid for cid, v in after.items() if v[0] == name}
        untouched = (
            mine_before
            and mine_before.keys() == mine_after
            and len(mine_before) == spec.replicas
            and all(v[2] is ContainerStatus.RUNNING for v in mine_before.values())
        )
        triggers = [d.service for d in spec.depends_on if d.restart and d.service in renewed]
        if untouched and triggers:
            for cid, (_, started, _, _) in mine_before.items():
                assert after[cid][1] != started, (name, "not restarted after", triggers)


@given(worlds())
def test_writes_stay_within_the_plan(case: tuple[DesiredState, MemoryEngine]) -> None:
    """An apply changes containers only of the services its plan names: nothing else
    is created, started, stopped, renamed or removed. On the world drawn; then,
    converged, with one container of a long-running service removed by hand (its
    create must not run the completed one-shots again, nor touch anything else)."""
    desired, engine = case
    first = writes_within_the_plan(desired, engine)
    once = {d.service for s in desired.services.values() for d in s.depends_on}
    victims = sorted(
        (c.service, c.id)
        for c in engine.containers_by_id.values()
        if c.project == PROJECT
        and c.labels.get(ONEOFF_LABEL) != "True"
        and c.service in desired.services
        and c.service not in once
    )
    if first.ok and victims:
        engine.disturb_remove(victims[0][1])
        writes_within_the_plan(desired, engine)


def writes_within_the_plan(desired: DesiredState, engine: MemoryEngine) -> Run:
    engine.found()  # time passes before the run: what was due has happened
    before = _ours(engine)
    result = reconcile(engine, desired)
    after = _ours(engine)
    touched = {
        (before.get(cid) or after[cid])[0]
        for cid in before.keys() | after.keys()
        if before.get(cid) != after.get(cid)
    }
    named = {a.service for a in result.plan.actions}
    assert touched <= named, (touched - named, result.plan.actions)
    return result
