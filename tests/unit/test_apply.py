"""The executor, the health gate and the lock, driven with plain values (no Docker)."""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from reconciler.apply import execute
from reconciler.lock import LockBusy, project_lock
from reconciler.outcome import OutcomeStatus
from reconciler.plan import Action, ActionKind, plan
from reconciler.runner import EngineRunner, NotReady
from state.engine import ContainerRecord, ContainerStatus
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


class ScriptedEngine:
    """Returns one list of records per `containers` call; counts log reads."""

    def __init__(self, *snapshots: list[ContainerRecord]) -> None:
        self.snapshots = list(snapshots)
        self.logs_read = 0

    def containers(self, project: str) -> list[ContainerRecord]:
        return self.snapshots.pop(0) if len(self.snapshots) > 1 else self.snapshots[0]

    def log_tail(self, container_id: str, lines: int) -> str:
        self.logs_read += 1
        return "FATAL: could not bind\nexiting"


def record(
    service_name: str,
    status: ContainerStatus,
    health: str | None = None,
    exit_code: int = 0,
    output: str | None = None,
) -> ContainerRecord:
    return ContainerRecord(
        id=f"id-{service_name}",
        name=f"spot-{service_name}-1",
        labels={"com.docker.compose.project": "spot", "com.docker.compose.service": service_name},
        status=status,
        health=health,
        exit_code=exit_code,
        env={},
        image_id="x",
        health_output=output,
    )


def gate(engine: ScriptedEngine, timeout: float = 5.0) -> EngineRunner:
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    state = desired(service("db", has_healthcheck=True), service("job"))
    return EngineRunner(
        engine,
        state,
        wait_timeout=timeout,  # type: ignore[arg-type]
        clock=lambda: now[0],
        sleep=sleep,
    )


def test_gate_waits_until_healthy_and_accepts_a_finished_one_shot() -> None:
    engine = ScriptedEngine(
        [record("db", ContainerStatus.RUNNING, "starting"), record("job", ContainerStatus.RUNNING)],
        [record("db", ContainerStatus.RUNNING, "healthy"), record("job", ContainerStatus.EXITED)],
    )
    gate(engine).settle(
        [Action(kind=ActionKind.CREATE, service=s, number=1, reasons=()) for s in ("db", "job")]
    )
    assert engine.snapshots  # the second snapshot was reached


def test_gate_fails_naming_the_service_its_health_output_and_log() -> None:
    engine = ScriptedEngine(
        [record("db", ContainerStatus.RUNNING, "unhealthy", output="pg_isready: no response")]
    )
    with pytest.raises(NotReady) as caught:
        gate(engine, timeout=2).settle(
            [Action(kind=ActionKind.RECREATE, service="db", number=1, reasons=())]
        )
    message = str(caught.value)
    assert "db (spot-db-1: running, unhealthy)" in message
    assert "last health check: pg_isready: no response" in message
    assert "FATAL: could not bind" in message


def test_gate_does_not_accept_a_one_shot_that_failed() -> None:
    engine = ScriptedEngine([record("job", ContainerStatus.EXITED, exit_code=3)])
    with pytest.raises(NotReady, match="job"):
        gate(engine, timeout=1).settle(
            [Action(kind=ActionKind.CREATE, service="job", number=1, reasons=())]
        )


def _hold_lock(directory: str, ready: multiprocessing.synchronize.Event, seconds: float) -> None:  # type: ignore[name-defined]
    os.environ["RECONCILE_LOCK_DIR"] = directory
    with project_lock("demo", timeout=1):
        ready.set()
        time.sleep(seconds)


def test_second_run_fails_naming_the_holder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECONCILE_LOCK_DIR", str(tmp_path))
    ready = multiprocessing.Event()
    holder = multiprocessing.Process(target=_hold_lock, args=(str(tmp_path), ready, 5))
    holder.start()
    try:
        assert ready.wait(10)
        with (
            pytest.raises(
                LockBusy, match=rf"project demo \(pid {holder.pid}, started .*--lock-timeout"
            ),
            project_lock("demo", timeout=0.2),
        ):
            pass
    finally:
        holder.kill()
        holder.join()


def test_a_killed_holder_never_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECONCILE_LOCK_DIR", str(tmp_path))
    ready = multiprocessing.Event()
    holder = multiprocessing.Process(target=_hold_lock, args=(str(tmp_path), ready, 60))
    holder.start()
    assert ready.wait(10)
    holder.kill()  # SIGKILL: no cleanup ran
    holder.join()
    with project_lock("demo", timeout=2):
        pass
