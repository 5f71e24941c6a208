"""The teardown flow, driven with a fake runner (no Docker): a service goes once what
waits on it is gone, not when its whole wave is; a failure skips only what waits on
it; each action ends in exactly one outcome."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from reconciler.execute.flow import flow, flows
from reconciler.execute.outcome import OutcomeStatus
from reconciler.planner.ordering import teardown_waits
from reconciler.planner.plan import Action, ActionKind, Plan, plan
from reconciler.planner.teardown import teardown_plan
from state.errors import PermanentError
from state.model.observed import ObservedState
from tests.builders import container, desired, observed, service
from tests.property.driver import quick_retrying

REPO = Path(__file__).resolve().parents[2]
# web -> api -> db, and a worker alone whose stop is slow.
WORLD = observed(
    container("db"),
    container("api", depends_on=["db"]),
    container("web", depends_on=["api"]),
    container("worker"),
    container("worker", 2),
)


class Runner:
    """Records the order batches start and end; `hold` blocks a service's batch until
    an event is set; `fail` makes a service's batch raise."""

    def __init__(
        self,
        hold: dict[str, threading.Event] | None = None,
        fail: str = "",
        starting: dict[str, threading.Event] | None = None,
    ) -> None:
        self.hold = hold or {}
        self.fail = fail
        self.starting = starting or {}  # set when that service's batch starts
        self.started: list[str] = []
        self.batches: list[tuple[str, ...]] = []
        self.lock = threading.Lock()

    def perform(self, kind: ActionKind, actions: Sequence[Action]) -> None:
        services = tuple(a.service for a in actions)
        with self.lock:
            self.started.append(services[0])
            self.batches.append(tuple(f"{a.service}-{a.number}" for a in actions))
        if services[0] in self.starting:
            self.starting[services[0]].set()
        held = self.hold.get(services[0])
        if held is not None:
            assert held.wait(10), f"{services[0]} was held for 10 s"
        if services[0] == self.fail:
            raise PermanentError(f"cannot stop {self.fail}")

    def settle(self, actions: Sequence[Action]) -> None:
        raise AssertionError("a teardown brings nothing up")


def stop_all(world: ObservedState = WORLD) -> tuple[Plan, dict[str, frozenset[str]]]:
    planned = teardown_plan(world, ActionKind.STOP, "stop requested")
    return planned, teardown_waits({a.service for a in planned.actions}, world)


def test_a_service_goes_once_what_waits_on_it_is_gone_not_its_whole_wave() -> None:
    planned, waits = stop_all()
    # The waves: [web, worker], [api], [db]. Hold worker (wave 1) until db (wave 3) has
    # started: with each wave a barrier, that never happens.
    db_started = threading.Event()
    runner = Runner(hold={"worker": db_started}, starting={"db": db_started})
    result = flow(planned, runner, waits, retrying=quick_retrying)
    assert result.ok, result.error
    order = runner.started
    assert order.index("web") < order.index("api") < order.index("db")
    assert set(order[:2]) == {"web", "worker"}  # no dependents: both at once
    assert ("worker-2", "worker-1") in runner.batches  # one batch, highest number first
    assert sorted(o.action.service for o in result.outcomes) == sorted(
        a.service for a in planned.actions
    )
    assert {o.status for o in result.outcomes} == {OutcomeStatus.DONE}


def test_a_failure_skips_what_waits_on_it_and_the_rest_goes_on() -> None:
    planned, waits = stop_all()
    runner = Runner(fail="api")
    result = flow(planned, runner, waits, retrying=quick_retrying)
    assert result.error == "cannot stop api"
    status = {(o.action.service, o.action.number): o.status for o in result.outcomes}
    assert status == {
        ("web", 1): OutcomeStatus.DONE,
        ("worker", 1): OutcomeStatus.DONE,
        ("worker", 2): OutcomeStatus.DONE,
        ("api", 1): OutcomeStatus.FAILED,
        ("db", 1): OutcomeStatus.SKIPPED,  # api still runs: db must not go
    }
    assert "db" not in runner.started
    (skipped,) = [o for o in result.outcomes if o.status is OutcomeStatus.SKIPPED]
    assert skipped.error == "upstream failed: cannot stop api"


def test_stray_labels_in_a_cycle_still_end_in_the_waves_order() -> None:
    world = observed(container("a", depends_on=["b"]), container("b", depends_on=["a"]))
    planned, waits = stop_all(world)
    runner = Runner()
    result = flow(planned, runner, waits, retrying=quick_retrying)
    assert result.ok and len(result.outcomes) == 2
    assert runner.started == [a.service for a in planned.actions]


@pytest.mark.parametrize(
    ("built", "expected"),
    [
        (teardown_plan(WORLD, ActionKind.STOP, "stop"), True),
        (teardown_plan(WORLD, ActionKind.REMOVE, "down"), True),
        (plan(desired(service("db")), observed(container("old"))), False),  # creates too
    ],
)
def test_only_a_plan_of_one_teardown_kind_flows(built: Plan, expected: bool) -> None:
    assert flows(built) is expected


def test_what_nothing_waits_on_goes_as_one_batch() -> None:
    # cache and worker release nothing when they end: one `docker container stop` for
    # both (a plain project of independent services stops in one process, as a wave).
    world = observed(*WORLD.containers, container("cache"))
    planned, waits = stop_all(world)
    runner = Runner()
    assert flow(planned, runner, waits, retrying=quick_retrying).ok
    assert sorted(runner.batches) == [
        ("api-1",),
        ("cache-1", "worker-2", "worker-1"),
        ("db-1",),
        ("web-1",),
    ]


def test_a_failure_skips_each_waiting_service_once_where_waits_meet() -> None:
    # a depends on b and c, b on c: a goes first, then b, then c. a fails: b waits on
    # it, c on both; each is skipped once, and neither runs.
    world = observed(
        container("a", depends_on=["b", "c"]), container("b", depends_on=["c"]), container("c")
    )
    planned, waits = stop_all(world)
    assert waits == {"a": frozenset(), "b": {"a"}, "c": {"a", "b"}}
    runner = Runner(fail="a")
    result = flow(planned, runner, waits, retrying=quick_retrying)
    status = {o.action.service: o.status for o in result.outcomes}
    assert status == {
        "a": OutcomeStatus.FAILED,
        "b": OutcomeStatus.SKIPPED,
        "c": OutcomeStatus.SKIPPED,
    }
    assert len(result.outcomes) == 3 and runner.started == ["a"]


def test_batches_that_succeed_at_once_never_import_the_retry_library() -> None:
    # tenacity costs ~0.04 s to import: before the first `docker container stop`, were
    # the policy built up front. A fresh interpreter, so nothing imported it before.
    code = """
import sys
from reconciler.execute.flow import flow
from reconciler.planner.ordering import teardown_waits
from reconciler.planner.plan import ActionKind
from reconciler.planner.teardown import teardown_plan
from tests.builders import container, observed
world = observed(container("db"), container("api", depends_on=["db"]), container("worker"))
planned = teardown_plan(world, ActionKind.STOP, "stop")
class Runner:
    def perform(self, kind, actions): pass
    def settle(self, actions): pass
waits = teardown_waits({a.service for a in planned.actions}, world)
assert flow(planned, Runner(), waits).ok
assert "tenacity" not in sys.modules, "the retry policy was built before any failure"
"""
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert ran.returncode == 0, ran.stderr
