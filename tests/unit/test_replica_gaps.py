"""A gap in a scaled service is filled beside what stays (apply stage): only the
missing containers are created and started; a kept one is not touched, so a one-shot
replica that completed is not run again and a container the plan leaves alone stays
as it is (`up --no-recreate SERVICE` would start them all). No Docker here."""

from __future__ import annotations

from reconciler.execute.executor import execute
from reconciler.execute.runner import EngineRunner
from reconciler.planner.plan import ActionKind, plan
from state.engine import ContainerStatus
from state.model.desired import Dependency
from state.model.observed import observe
from tests.builders import desired, service
from tests.memory_engine import MemoryEngine
from tests.property.driver import quick_retrying

STATE = desired(
    service("migrate", replicas=2),
    service(
        "api",
        depends_on=[Dependency(service="migrate", condition="service_completed_successfully")],
    ),
)


def test_a_missing_one_shot_replica_is_made_without_rerunning_the_completed_one() -> None:
    engine = MemoryEngine(STATE)
    done = engine.add("migrate", 1, status=ContainerStatus.EXITED, exit_code=0)
    engine.add("api")
    planned = plan(STATE, observe(engine, STATE.project))
    assert [(a.kind, a.service) for a in planned.actions] == [(ActionKind.CREATE, "migrate")]
    runs_before = done.started
    result = execute(planned, EngineRunner(engine, STATE, wait=False), retrying=quick_retrying)
    assert result.ok, result.error
    assert engine.containers_by_id[done.id].started == runs_before, "not run again"
    made = [c for c in engine.containers_by_id.values() if c.service == "migrate" and c is not done]
    assert [c.labels["com.docker.compose.container-number"] for c in made] == ["2"]
    assert made[0].started > runs_before, "the new replica was started"
    assert [verb for verb, _ in engine.writes] == ["create", "start"]
