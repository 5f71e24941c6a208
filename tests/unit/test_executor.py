"""The executor, driven with a fake runner and plain values (no Docker): waves in
order, one call per kind, retries bounded, later waves skipped after a failure."""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.execute.executor import execute
from reconciler.execute.outcome import OutcomeStatus
from reconciler.execute.runner import NotReady
from reconciler.planner.plan import Action, ActionKind, plan
from state.engine import ContainerStatus
from state.errors import PermanentError, TransientError
from tests.builders import container, desired, observed, service
from tests.property.driver import quick_retrying


class FakeRunner:
    """Records batches; fails as told."""

    def __init__(
        self,
        fail: dict[tuple[ActionKind, str], list[Exception]] | None = None,
        settle_error: Exception | None = None,
    ) -> None:
        self.calls: list[tuple[ActionKind, tuple[str, ...]]] = []
        self.settled: list[tuple[str, ...]] = []
        self.fail = fail or {}
        self.settle_error = settle_error

    def perform(self, kind: ActionKind, actions: Sequence[Action]) -> None:
        services = tuple(a.service for a in actions)
        self.calls.append((kind, services))
        for name in services:
            errors = self.fail.get((kind, name))
            if errors:
                raise errors.pop(0)

    def settle(self, actions: Sequence[Action]) -> None:
        self.settled.append(tuple(a.service for a in actions))
        if self.settle_error:
            raise self.settle_error


CHAIN = desired(
    service("db"), service("api", depends_on=["db"]), service("worker"), known={"adminer"}
)
WORLD = observed(container("adminer"), container("worker", status=ContainerStatus.EXITED))


def test_waves_run_in_order_one_call_per_kind_and_each_wave_is_settled() -> None:
    runner = FakeRunner()
    result = execute(plan(CHAIN, WORLD), runner, retrying=quick_retrying)
    assert result.ok
    assert runner.calls == [
        (ActionKind.REMOVE, ("adminer",)),
        (ActionKind.CREATE, ("db",)),
        (ActionKind.START, ("worker",)),
        (ActionKind.CREATE, ("api",)),
    ]
    assert runner.settled == [("db", "worker"), ("api",)]
    assert {o.status for o in result.outcomes} == {OutcomeStatus.DONE}


def test_transient_errors_are_retried_and_then_succeed() -> None:
    runner = FakeRunner(fail={(ActionKind.CREATE, "db"): [TransientError("daemon away")] * 2})
    result = execute(plan(CHAIN, WORLD), runner, retrying=quick_retrying)
    assert result.ok
    assert runner.calls.count((ActionKind.CREATE, ("db",))) == 3


def test_permanent_error_fails_at_once_and_later_waves_are_skipped() -> None:
    runner = FakeRunner(fail={(ActionKind.CREATE, "db"): [PermanentError("port in use")]})
    result = execute(plan(CHAIN, WORLD), runner, retrying=quick_retrying)
    assert result.error == "port in use"
    assert runner.calls.count((ActionKind.CREATE, ("db",))) == 1
    status = {o.action.service: o.status for o in result.outcomes}
    assert status == {
        "adminer": OutcomeStatus.DONE,
        "db": OutcomeStatus.FAILED,
        "worker": OutcomeStatus.DONE,
        "api": OutcomeStatus.SKIPPED,
    }
    assert (ActionKind.CREATE, ("api",)) not in runner.calls


def test_retries_are_bounded() -> None:
    runner = FakeRunner(fail={(ActionKind.CREATE, "db"): [TransientError("x")] * 10})
    result = execute(plan(CHAIN, WORLD), runner, retrying=quick_retrying)
    assert result.error == "x"
    assert runner.calls.count((ActionKind.CREATE, ("db",))) == 3


def test_a_failed_health_gate_stops_the_apply() -> None:
    runner = FakeRunner(settle_error=NotReady("db never healthy"))
    result = execute(plan(CHAIN, WORLD), runner, retrying=quick_retrying)
    assert result.error == "db never healthy"
    assert [o.action.service for o in result.outcomes if o.status is OutcomeStatus.SKIPPED] == [
        "api"
    ]


def test_an_empty_plan_does_nothing() -> None:
    runner = FakeRunner()
    result = execute(plan(desired(service("db")), observed(container("db"))), runner)
    assert (result.ok, result.outcomes, runner.calls, runner.settled) == (True, (), [], [])


def test_a_transient_error_while_settling_is_retried_not_fatal() -> None:
    runner = FakeRunner()
    blips = [TransientError("daemon away")]

    def settle(actions: Sequence[Action]) -> None:
        runner.settled.append(tuple(a.service for a in actions))
        if blips:
            raise blips.pop()

    runner.settle = settle  # type: ignore[method-assign]
    result = execute(plan(CHAIN, WORLD), runner, retrying=quick_retrying)
    assert result.ok, result.error
    assert runner.settled[:2] == [("db", "worker"), ("db", "worker")]  # once more, then on
