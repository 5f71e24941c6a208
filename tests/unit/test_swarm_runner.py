"""The swarm's health gate (reconciler/execute/swarm_runner.py) over scripted service statuses:
it waits for the update a deploy asked for, reports Swarm's rollback with its cause,
and names the tasks that are not running when time is up. No engine."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from reconciler.execute.runner import NotReady
from reconciler.execute.swarm_runner import SwarmRunner, UpdateRolledBack
from reconciler.planner.plan import Action, ActionKind
from state.model.desired import DesiredService, DesiredState
from state.resolve.appenv import ResolvedAppEnv, Source
from state.swarm.records import ServiceStatus

NOW = time.time()
BEFORE = datetime.fromtimestamp(NOW - 60, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
AFTER = datetime.fromtimestamp(NOW + 0.5, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def status(
    running: int = 1, state: str = "completed", started: str = BEFORE, **kw: Any
) -> ServiceStatus:
    values: dict[str, Any] = {
        "name": "demo_api",
        "replicas": 1,
        "running": running,
        "update_state": state,
        "update_started": started,
        "update_message": "",
        "problems": (),
        "template_changed": True,
    }
    return ServiceStatus(**{**values, **kw})


@dataclass
class Scripted:
    """A SwarmPort answering one scripted status per read (the last one repeats)."""

    script: list[ServiceStatus]
    deployed_at: dict[str, float] = field(default_factory=lambda: {"demo_api": NOW})
    reads: int = 0

    def service_statuses(self, project: str) -> dict[str, ServiceStatus]:
        answer = self.script[min(self.reads, len(self.script) - 1)]
        self.reads += 1
        return {answer.name: answer}

    def last_failure(self, service: str) -> str:
        return "task demo_api.1 failed: task: non-zero exit (3)"


def gate(engine: Scripted, timeout: float = 10.0) -> SwarmRunner:
    desired = DesiredState(
        project="demo",
        app_env=ResolvedAppEnv(name="prod", source=Source.COMMAND_LINE),
        profiles=(),
        services={
            "api": DesiredService(
                name="api", image="i", image_id=None, config_hash="h", app_env="prod"
            )
        },
    )
    ticks = iter(range(10_000))
    return SwarmRunner(
        engine,  # type: ignore[arg-type]  # the gate reads only what Scripted has
        desired,
        wait_timeout=timeout,
        clock=lambda: float(next(ticks)),
        sleep=lambda seconds: None,
    )


ACTION = Action(kind=ActionKind.RECREATE, service="api", number=1, reasons=("x",))


def test_the_gate_waits_for_the_update_the_deploy_asked_for() -> None:
    engine = Scripted([status(), status(state="updating", started=AFTER), status(started=AFTER)])
    gate(engine).settle([ACTION])
    assert engine.reads == 3  # the old tasks running right after the deploy did not count


def test_a_rollback_is_reported_with_swarms_reason_once_undone() -> None:
    reason = "update rolled back due to failure or early termination of task t1"
    engine = Scripted(
        [
            status(state="rollback_started", started=AFTER, update_message=reason),
            status(state="rollback_completed", started=AFTER, update_message="rollback completed"),
        ]
    )
    with pytest.raises(UpdateRolledBack) as caught:
        gate(engine).settle([ACTION])
    assert reason in str(caught.value) and "non-zero exit (3)" in str(caught.value)
    assert engine.reads == 2


def test_an_older_rollback_is_not_this_runs_failure() -> None:
    engine = Scripted([status(state="rollback_completed", template_changed=False)])
    gate(engine).settle([ACTION])


def test_time_up_names_the_tasks_that_are_not_running() -> None:
    stuck = status(
        running=0,
        state="",
        template_changed=False,
        problems=("demo_api.1 on no node: pending (no suitable node)",),
    )
    with pytest.raises(NotReady, match=r"(?s)0/1 running.*no suitable node"):
        gate(Scripted([stuck]), timeout=3).settle([ACTION])
