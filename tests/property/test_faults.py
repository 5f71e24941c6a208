"""Faults: an action fails once (transiently or for good), an engine says "done" and
does nothing, or the process dies between two actions or inside an `up`. The next
reconcile must still converge, as the oracle (tests/property/oracle.py) judges the
world.

Each fault is aimed at an operation the world's plan will call (one the run has not
yet faulted first, else the rarest half of the time), so it fires: every example
checks that its fault was injected, and every property checks, after its run, that it
injected a fault into each operation that some plan of the run called.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable, Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.planner.plan import Action, ActionKind
from state.model.desired import DesiredState
from tests.builders import desired as make_desired
from tests.builders import service
from tests.memory_engine import Crash, Fault, MemoryEngine
from tests.property.driver import Run, current_plan, reconcile
from tests.property.oracle import World, look, problems
from tests.property.strategies import worlds

# Rarest first: a plan that restarts a dependent also creates or recreates something.
OPERATIONS = ("restart", "unpause", "create", "create_beside", "start", "remove", "up")
CALLS = {
    ActionKind.CREATE: "up",
    ActionKind.RECREATE: "up",
    ActionKind.START: "start",
    ActionKind.UNPAUSE: "unpause",
    ActionKind.RESTART: "restart",
    ActionKind.REMOVE: "remove",
}


def aimed(
    desired: DesiredState,
    engine: MemoryEngine,
    data: st.DataObject,
    seen: Counter[str],
    fired: Counter[str],
) -> str | None:
    """An operation the plan for this world calls (None: it calls none); `seen` counts
    the operations plans of the run called."""
    engine.desired = desired
    planned = calls_of(current_plan(engine, desired).actions, desired)
    seen.update(planned)
    engine.calls.clear()
    called = [op for op in OPERATIONS if op in planned]
    if not called:
        return None
    # Drawn whatever the run's history, so a failing example replays with the same
    # draws (hypothesis refuses data generation that depends on outside state).
    rarest = data.draw(st.booleans(), label="rarest first")
    drawn = data.draw(st.sampled_from(called), label="operation")
    unfired = [op for op in called if not fired[op]]
    if unfired:  # an operation this run has not yet put a fault into, the rarest seen
        return min(unfired, key=lambda op: seen[op])  # first: one seen once is not missed
    return called[0] if rarest else drawn


def calls_of(actions: Sequence[Action], desired: DesiredState) -> set[str]:
    """The engine operations a plan's actions call. A service that keeps containers
    while some are made (a gap filled, one replica replaced) gets them by `create`
    then `start` by id, not by `up` (reconciler/execute/runner.py); a start-first
    recreate adds its new one beside the old (`create_beside`), starts it, removes the old."""
    creates = Counter(a.service for a in actions if a.kind is ActionKind.CREATE)
    recreated = {a.service for a in actions if a.kind is ActionKind.RECREATE}
    called: set[str] = set()
    for action in actions:
        spec = desired.services.get(action.service)
        kept = spec and action.service not in recreated and creates[action.service] < spec.replicas
        if action.kind is ActionKind.CREATE and kept:
            called |= {"create", "start"}
        elif action.kind is ActionKind.RECREATE and action.start_first:  # beside the old
            called |= {"create_beside", "start", "remove"}
        elif action.kind is ActionKind.RECREATE and action.renumbered is not None:
            called |= {"remove", "create", "start"}
        elif action.kind in CALLS:
            called.add(CALLS[action.kind])
    return called


def every_operation_fired(fired: Counter[str], seen: Counter[str]) -> None:
    """Each operation some plan of the run called got a fault that fired."""
    missing = [op for op in OPERATIONS if seen[op] and not fired[op]]
    assert not missing, f"no fault fired into {missing} in this run: {dict(fired)}"


Inject = Callable[[MemoryEngine, str], str]  # arm a fault; the word `fired` will hold
Judge = Callable[[DesiredState, MemoryEngine, Run, World], None]


def fault_in_each_operation(inject: Inject, judge: Judge) -> None:
    """The property over generated worlds: one fault aimed at an operation the plan
    calls, `inject`ed, fired (checked), then the run `judge`d; afterwards, every
    operation some plan of the run called got a fault that fired."""
    fired: Counter[str] = Counter()
    seen: Counter[str] = Counter()

    @given(worlds(), st.data())
    def prop(case: tuple[DesiredState, MemoryEngine], data: st.DataObject) -> None:
        desired, engine = case
        operation = aimed(desired, engine, data, seen, fired)
        if operation is None:
            return
        before = look(engine)
        word = inject(engine, operation)
        result = reconcile(engine, desired)
        assert word in engine.fired, (operation, engine.calls)
        fired[operation] += 1
        judge(desired, engine, result, before)

    prop()
    every_operation_fired(fired, seen)


def failing(*, transient: bool) -> Inject:
    """Arm an engine failure of the operation: once (transient) or for good."""

    def inject(engine: MemoryEngine, operation: str) -> str:
        engine.faults.append(Fault(operation, transient=transient))
        return operation

    return inject


def test_a_transient_failure_is_retried_within_the_same_run() -> None:
    def judge(desired: DesiredState, engine: MemoryEngine, result: Run, before: World) -> None:
        assert result.ok, result.error
        assert problems(desired, before, look(engine)) == []

    fault_in_each_operation(failing(transient=True), judge)


def test_after_a_permanent_failure_the_next_run_converges() -> None:
    def judge(desired: DesiredState, engine: MemoryEngine, result: Run, before: World) -> None:
        if not result.ok:
            assert "injected permanent failure" in (result.error or "")
        again = reconcile(engine, desired)
        assert again.ok, again.error
        assert problems(desired, before, look(engine)) == []

    fault_in_each_operation(failing(transient=False), judge)


def crash_then_converge(
    engine: MemoryEngine, desired: DesiredState, writes: int, inside_up: bool, fired: Counter[str]
) -> None:
    """Die after `writes` writes (or inside that `up`), noting the crash in `fired`; the
    next run must converge, as the oracle judges the world."""
    before = look(engine)
    engine.crash_after_writes, engine.crash_inside_up = writes, inside_up
    with contextlib.suppress(Crash):  # the process "died": nothing after that ran
        reconcile(engine, desired)
    fired.update(f for f in engine.fired if f.startswith("crash"))
    engine.crash_after_writes = None
    result = reconcile(engine, desired)
    assert result.ok, result.error
    assert problems(desired, before, look(engine)) == []


def test_after_dying_between_two_actions_or_inside_an_up_the_next_run_converges() -> None:
    fired: Counter[str] = Counter()

    @given(worlds(), st.integers(0, 6), st.booleans())
    def prop(case: tuple[DesiredState, MemoryEngine], writes: int, inside_up: bool) -> None:
        desired, engine = case
        crash_then_converge(engine, desired, writes, inside_up, fired)

    prop()
    # A recreate by `up` killed inside it, once whatever was drawn (the worlds reach one
    # only when the drawn write count lands on an `up`).
    state = make_desired(service("db", config_hash="new"))
    engine = MemoryEngine(state, probed_health=True)
    engine.add("db", config_hash="old")
    crash_then_converge(engine, state, 0, True, fired)
    assert fired["crash inside up"] and sum(fired.values()) > fired["crash inside up"], fired


def test_a_crash_really_interrupts_the_apply() -> None:
    """The fault mode itself works: a crash before the first write stops everything."""
    state = make_desired(service("db"), service("api", depends_on=["db"]))
    engine = MemoryEngine(state)
    engine.crash_after_writes = 0
    with pytest.raises(Crash):
        reconcile(engine, state)
    assert engine.containers_by_id == {}
    assert not current_plan(engine, state).is_empty


def test_apply_succeeds_only_when_a_fresh_plan_is_empty() -> None:
    """An engine that says "done" and does nothing: the final check must notice (or a
    later call meets what the lie left, as Docker would: a container left paused that
    `up` must start is refused)."""

    def inject(engine: MemoryEngine, operation: str) -> str:
        engine.silent.add(operation)
        return f"silent {operation}"

    def judge(desired: DesiredState, engine: MemoryEngine, result: Run, before: World) -> None:
        engine.silent.clear()
        if result.ok:
            assert problems(desired, before, look(engine)) == []
        else:
            error = result.error or ""
            lie_met = "silent unpause" in engine.fired and (
                "cannot start a paused container" in error
            )
            assert "did not converge" in error or lie_met, error

    fault_in_each_operation(inject, judge)
