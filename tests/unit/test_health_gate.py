"""The health gate (EngineRunner.settle) over scripted container records, on a fake
clock: healthy, running, or (a one-shot) exited 0 in time, or a failure naming the
service, its last health output and its log: at once where Compose's `up --wait`
fails at once (exited, dead, unhealthy), else after the timeout."""

from __future__ import annotations

import pytest

from reconciler.execute.runner import EngineRunner, NotReady
from reconciler.planner.plan import Action, ActionKind
from state.engine import ContainerRecord, ContainerStatus
from state.model.desired import Dependency, DesiredState
from tests.builders import desired, service

# `app` waits for `job` to complete: job is a one-shot (reconciler/planner/plan.py, one_shots).
ONE_SHOT = desired(
    service("db", has_healthcheck=True),
    service("job"),
    service(
        "app", depends_on=[Dependency(service="job", condition="service_completed_successfully")]
    ),
)


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


def gate(
    engine: ScriptedEngine, timeout: float = 5.0, state: DesiredState | None = None
) -> EngineRunner:
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    state = state or desired(service("db", has_healthcheck=True), service("job"))
    return EngineRunner(
        engine,  # type: ignore[arg-type]  # only the reads the gate makes
        state,
        wait_timeout=timeout,
        clock=lambda: now[0],
        sleep=sleep,
    )


def creates(*services: str) -> list[Action]:
    return [Action(kind=ActionKind.CREATE, service=s, number=1, reasons=()) for s in services]


def test_gate_waits_until_healthy_and_until_a_one_shot_exited_0() -> None:
    """A one-shot still running is not ready (its dependent must not start yet)."""
    engine = ScriptedEngine(
        [record("db", ContainerStatus.RUNNING, "starting"), record("job", ContainerStatus.RUNNING)],
        [record("db", ContainerStatus.RUNNING, "healthy"), record("job", ContainerStatus.RUNNING)],
        [record("db", ContainerStatus.RUNNING, "healthy"), record("job", ContainerStatus.EXITED)],
    )
    runner = gate(engine, state=ONE_SHOT)
    runner.settle(creates("db", "job"))
    assert len(engine.snapshots) == 1  # the third snapshot was reached
    assert runner.clock() > 0.0


def test_gate_waits_the_timeout_for_a_one_shot_still_running_saying_who_waits() -> None:
    engine = ScriptedEngine([record("job", ContainerStatus.RUNNING)])
    runner = gate(engine, timeout=3, state=ONE_SHOT)
    with pytest.raises(NotReady) as caught:
        runner.settle(creates("job"))
    assert runner.clock() >= 3
    assert str(caught.value).startswith(
        "not ready after 3 s (--wait-timeout): job (spot-job-1: running)\n"
        "  a one-shot: app waits for it to exit with code 0\n"
    )


def test_gate_fails_a_one_shot_that_exited_non_zero_at_once() -> None:
    engine = ScriptedEngine([record("job", ContainerStatus.EXITED, exit_code=3)])
    runner = gate(engine, timeout=120, state=ONE_SHOT)
    with pytest.raises(NotReady) as caught:
        runner.settle(creates("job"))
    assert runner.clock() == 0.0
    assert caught.value.services == ("job",)
    assert str(caught.value).startswith(
        "did not complete successfully: job (spot-job-1: exited with code 3)\n"
        "  a one-shot: app waits for it to exit with code 0\n"
    )


def test_gate_fails_a_service_nobody_waits_for_that_exited_0_at_once_saying_why() -> None:
    """As Compose's `up --wait` ("container X exited (0)"): it should have kept running."""
    engine = ScriptedEngine([record("job", ContainerStatus.EXITED, exit_code=0)])
    runner = gate(engine, timeout=120)
    with pytest.raises(NotReady) as caught:
        runner.settle(creates("job"))
    assert runner.clock() == 0.0
    assert str(caught.value).startswith(
        "failed to start: job (spot-job-1: exited with code 0)\n"
        "  it exited by itself: a service should keep running, unless one that depends on it "
        "waits for it with `condition: service_completed_successfully`\n"
    )


def test_gate_fails_an_unhealthy_container_at_once_but_waits_for_a_starting_one() -> None:
    """Compose's --wait: `unhealthy` fails at once, `starting` gets the whole timeout."""
    engine = ScriptedEngine([record("db", ContainerStatus.RUNNING, "unhealthy")])
    runner = gate(engine, timeout=120)
    with pytest.raises(NotReady, match=r"^failed to start: db \(spot-db-1: running, unhealthy\)"):
        runner.settle(creates("db"))
    assert runner.clock() == 0.0
    waiting = gate(ScriptedEngine([record("db", ContainerStatus.RUNNING, "starting")]), timeout=7)
    with pytest.raises(NotReady, match=r"^not ready after 7 s"):
        waiting.settle(creates("db"))
    assert waiting.clock() >= 7


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


@pytest.mark.parametrize(
    ("status", "code", "shown"),
    [(ContainerStatus.EXITED, 3, "exited with code 3"), (ContainerStatus.DEAD, 0, "dead")],
)
def test_gate_fails_at_once_for_a_container_nothing_will_restart(
    status: ContainerStatus, code: int, shown: str
) -> None:
    """Exited with an error or dead: no wait for --wait-timeout (Compose's --wait neither);
    a service still starting beside it does not hold the failure back."""
    engine = ScriptedEngine(
        [record("db", ContainerStatus.RUNNING, "starting"), record("job", status, exit_code=code)]
    )
    runner = gate(engine, timeout=120)
    with pytest.raises(NotReady) as caught:
        runner.settle(
            [Action(kind=ActionKind.CREATE, service=s, number=1, reasons=()) for s in ("db", "job")]
        )
    assert runner.clock() == 0.0  # not one poll interval slept
    assert caught.value.services == ("job",)
    assert str(caught.value).startswith(f"failed to start: job (spot-job-1: {shown}")


def test_gate_polls_fast_then_backs_off() -> None:
    slept: list[float] = []
    engine = ScriptedEngine([record("db", ContainerStatus.RUNNING, "starting")])
    runner = gate(engine, timeout=5)
    clock = runner.sleep

    def recording(seconds: float) -> None:
        slept.append(seconds)
        clock(seconds)

    runner.sleep = recording
    with pytest.raises(NotReady):
        runner.settle([Action(kind=ActionKind.CREATE, service="db", number=1, reasons=())])
    assert slept[:5] == [0.1, 0.2, 0.4, 0.5, 0.5]  # then Compose's own tick
    assert max(slept) == 0.5


def test_an_unpaused_container_still_unhealthy_from_its_pause_is_given_its_next_probe() -> None:
    """Probes fail while a container is paused; after unpause Docker shows `unhealthy`
    until the next probe. The gate waits for it instead of failing at once."""
    engine = ScriptedEngine(
        [record("db", ContainerStatus.RUNNING, "unhealthy")],
        [record("db", ContainerStatus.RUNNING, "unhealthy")],
        [record("db", ContainerStatus.RUNNING, "healthy")],
    )
    unpause = Action(
        kind=ActionKind.UNPAUSE, service="db", number=1, reasons=(), container_id="id-db"
    )
    runner = gate(engine, timeout=60)
    runner.settle([unpause])
    assert 0 < runner.clock() < 60
    still = gate(ScriptedEngine([record("db", ContainerStatus.RUNNING, "unhealthy")]), timeout=9)
    with pytest.raises(NotReady, match=r"^not ready after 9 s"):
        still.settle([unpause])  # never healthy again: the timeout ends it, naming it
