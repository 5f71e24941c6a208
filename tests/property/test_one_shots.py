"""Properties of one-shots (services waited for with `service_completed_successfully`),
over generated worlds that hold at least one: after an apply each has completed (exited
0) unless it sits in a crash loop, and a second apply neither re-runs one nor touches
anything (the in-memory engine runs a started one-shot to completion at once)."""

from __future__ import annotations

from hypothesis import given

from reconciler.planner.plan import NoopReason, one_shots
from state.engine import ONEOFF_LABEL, ContainerStatus
from state.model.desired import DesiredState
from tests.memory_engine import MemContainer, MemoryEngine
from tests.property.driver import reconcile
from tests.property.strategies import PROJECT, worlds


def containers_of(engine: MemoryEngine, service: str) -> list[MemContainer]:
    return [
        c
        for c in engine.containers_by_id.values()
        if c.project == PROJECT and c.labels.get(ONEOFF_LABEL) != "True" and c.service == service
    ]


@given(worlds().filter(lambda case: bool(one_shots(case[0]))))
def test_one_shots_end_completed_and_a_second_apply_runs_none_again(
    case: tuple[DesiredState, MemoryEngine],
) -> None:
    desired, engine = case
    first = reconcile(engine, desired)
    assert first.ok, first.error
    for name in one_shots(desired):
        for container in containers_of(engine, name):
            assert container.status is ContainerStatus.RESTARTING or (
                container.status is ContainerStatus.EXITED and container.exit_code == 0
            ), (name, container.status, container.exit_code)
    runs = {cid: c.started for cid, c in engine.containers_by_id.items()}
    second = reconcile(engine, desired)
    assert second.ok and second.plan.is_empty, second.said
    assert {cid: c.started for cid, c in engine.containers_by_id.items()} == runs
    completed = {n.service for n in second.plan.noops if n.reason is NoopReason.COMPLETED}
    assert completed <= one_shots(desired)
    assert all(containers_of(engine, name) for name in completed)
