"""Faults: an action fails once (transiently or for good), or the process dies between
two actions. The next reconcile must still converge, as the oracle
(tests/property/oracle.py) judges the world."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from state.model.desired import DesiredState
from tests.builders import desired as make_desired
from tests.builders import service
from tests.memory_engine import Crash, Fault, MemoryEngine
from tests.property.driver import current_plan, reconcile
from tests.property.oracle import look, problems
from tests.property.strategies import worlds

OPERATIONS = ("up", "start", "unpause", "restart", "remove")


@given(worlds(), st.sampled_from(OPERATIONS))
def test_a_transient_failure_is_retried_within_the_same_run(
    case: tuple[DesiredState, MemoryEngine], operation: str
) -> None:
    desired, engine = case
    before = look(engine)
    engine.faults.append(Fault(operation, transient=True))
    result = reconcile(engine, desired)
    assert result.ok, result.error
    assert problems(desired, before, look(engine)) == []


@given(worlds(), st.sampled_from(OPERATIONS))
def test_after_a_permanent_failure_the_next_run_converges(
    case: tuple[DesiredState, MemoryEngine], operation: str
) -> None:
    desired, engine = case
    before = look(engine)
    engine.faults.append(Fault(operation, transient=False))
    result = reconcile(engine, desired)
    if not result.ok:
        assert "injected permanent failure" in (result.error or "")
    again = reconcile(engine, desired)
    assert again.ok, again.error
    assert problems(desired, before, look(engine)) == []


@given(worlds(), st.integers(0, 6))
def test_after_dying_between_two_actions_the_next_run_converges(
    case: tuple[DesiredState, MemoryEngine], writes_before_death: int
) -> None:
    desired, engine = case
    before = look(engine)
    engine.crash_after_writes = writes_before_death
    with contextlib.suppress(Crash):  # the process "died": nothing after that ran
        reconcile(engine, desired)
    engine.crash_after_writes = None
    result = reconcile(engine, desired)
    assert result.ok, result.error
    assert problems(desired, before, look(engine)) == []


def test_a_crash_really_interrupts_the_apply() -> None:
    """The fault mode itself works: a crash before the first write stops everything."""
    state = make_desired(service("db"), service("api", depends_on=["db"]))
    engine = MemoryEngine(state)
    engine.crash_after_writes = 0
    with pytest.raises(Crash):
        reconcile(engine, state)
    assert engine.containers_by_id == {}
    assert not current_plan(engine, state).is_empty


@given(worlds(), st.sampled_from(OPERATIONS))
def test_apply_succeeds_only_when_a_fresh_plan_is_empty(
    case: tuple[DesiredState, MemoryEngine], operation: str
) -> None:
    """An engine that says "done" and does nothing: the final check must notice (or a
    later call meets what the lie left, as Docker would: a container left paused that
    `up` must start is refused)."""
    desired, engine = case
    before = look(engine)
    engine.silent.add(operation)
    result = reconcile(engine, desired)
    engine.silent.clear()
    if result.ok:
        assert problems(desired, before, look(engine)) == []
    else:
        error = result.error or ""
        lie_met = operation == "unpause" and "cannot start a paused container" in error
        assert "did not converge" in error or lie_met, error
