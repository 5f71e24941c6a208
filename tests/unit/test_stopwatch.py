"""Measured unavailability (reconciler/execute/stopwatch.py) on a fake clock and runner."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from reconciler.execute.executor import execute
from reconciler.execute.stopwatch import (
    NOT_READY,
    READY,
    REMOVED,
    STOPPED,
    Stopwatch,
    Timed,
    Unavailable,
)
from reconciler.planner.plan import Action, ActionKind, Plan
from state.errors import PermanentError


@dataclass
class Clock:
    now: float = 100.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Runner:
    """Each batch takes `cost` seconds of the fake clock; the gate sees `ready` at once."""

    clock: Clock
    watch: Stopwatch
    cost: dict[str, float]
    fails: frozenset[str] = frozenset()
    never_ready: frozenset[str] = frozenset()
    done: list[str] = field(default_factory=list)

    def perform(self, kind: ActionKind, actions: Sequence[Action]) -> None:
        self.clock.now += max(self.cost.get(a.service, 0.0) for a in actions)
        if any(a.service in self.fails for a in actions):
            raise PermanentError("no")

    def settle(self, actions: Sequence[Action]) -> None:
        self.clock.now += 2.0  # the gate's polls
        self.watch.seen_ready([a.service for a in actions if a.service not in self.never_ready])
        if any(a.service in self.never_ready for a in actions):
            raise PermanentError("not ready")  # as the real gate does


def _action(kind: ActionKind, service: str, wave: int) -> Action:
    return Action(kind=kind, service=service, number=1, reasons=("r",), wave=wave)


def test_a_recreate_is_down_from_its_batch_start_until_the_gate_sees_it_ready() -> None:
    plan = Plan(
        actions=(
            _action(ActionKind.RECREATE, "db", 0),
            _action(ActionKind.RECREATE, "api", 1),
        )
    )
    clock = Clock()
    watch = Stopwatch(clock=clock)
    inner = Runner(clock, watch, {"db": 3.0, "api": 1.0})
    result = execute(plan, Timed(inner, watch))
    assert result.ok
    # db: 3 s recreate + 2 s gate; api starts after db is ready: 1 s + 2 s.
    assert watch.measured() == [Unavailable("api", 3.0, READY), Unavailable("db", 5.0, READY)]


def test_stopped_removed_failed_and_never_ready_services_say_so() -> None:
    plan = Plan(
        actions=(
            _action(ActionKind.STOP, "worker", 0),
            _action(ActionKind.REMOVE, "adminer", 0),
            _action(ActionKind.RECREATE, "db", 1),
        )
    )
    clock = Clock()
    watch = Stopwatch(clock=clock)
    inner = Runner(
        clock, watch, {"worker": 1.0, "adminer": 1.0, "db": 4.0}, never_ready=frozenset({"db"})
    )
    execute(plan, Timed(inner, watch))
    found = {u.service: u for u in watch.measured()}
    assert found["worker"].until == STOPPED and found["adminer"].until == REMOVED
    assert found["db"].until == NOT_READY and found["db"].seconds == 4.0
    failing = Stopwatch(clock=clock)
    broken = Runner(clock, failing, {"db": 1.0}, fails=frozenset({"db"}))
    execute(Plan(actions=(_action(ActionKind.RECREATE, "db", 0),)), Timed(broken, failing))
    assert [u.until for u in failing.measured()] == [NOT_READY]


def test_without_the_gate_a_service_is_back_when_its_batch_ended() -> None:
    clock = Clock()
    watch = Stopwatch(clock=clock)
    watch.going_down(ActionKind.RECREATE, [_action(ActionKind.RECREATE, "db", 0)])
    clock.now += 1.5
    watch.done(ActionKind.RECREATE, [_action(ActionKind.RECREATE, "db", 0)])
    assert watch.measured(gated=False) == [Unavailable("db", 1.5, READY)]
    assert watch.measured(gated=True) == [Unavailable("db", 1.5, NOT_READY)]
    clock.now += 7
    watch.back(["db"])  # a rollback put it back
    assert watch.measured() == [Unavailable("db", 8.5, READY)]


def test_creates_and_starts_of_services_that_were_never_down_are_not_unavailability() -> None:
    clock = Clock()
    watch = Stopwatch(clock=clock)
    plan = Plan(actions=(_action(ActionKind.CREATE, "new", 0), _action(ActionKind.START, "old", 0)))
    execute(plan, Timed(Runner(clock, watch, {"new": 2.0}), watch))
    assert watch.measured() == []


def test_a_gate_that_reports_nothing_still_ends_the_downtime_when_it_settles() -> None:
    clock = Clock()
    watch = Stopwatch(clock=clock)

    class Quiet(Runner):
        def settle(self, actions: Sequence[Action]) -> None:
            self.clock.now += 4.0  # a swarm's gate: no per-service report

    inner = Quiet(clock, watch, {"db": 1.0})
    execute(Plan(actions=(_action(ActionKind.RECREATE, "db", 0),)), Timed(inner, watch))
    assert watch.measured() == [Unavailable("db", 5.0, READY)]
