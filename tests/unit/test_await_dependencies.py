"""Before bringing a service up, what it depends on outside the batch and the gate
waits for is ready first, as Compose waits: a one-shot the plan left
alone while it still runs, an untouched healthchecked dependency. Fake clock, no Docker."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from reconciler.execute.runner import NotReady
from reconciler.planner.plan import ActionKind
from state.engine import ContainerRecord, ContainerStatus, Recreate
from tests.unit.test_health_gate import ONE_SHOT, ScriptedEngine, creates, gate, record


class Recording(ScriptedEngine):
    """The scripted reads, and the `up` calls made (with the reads left at that time)."""

    def __init__(self, *snapshots: list[ContainerRecord]) -> None:
        super().__init__(*snapshots)
        self.ups: list[tuple[tuple[str, ...], int]] = []

    def up(self, services: Sequence[str], *, recreate: Recreate) -> None:
        self.ups.append((tuple(services), len(self.snapshots)))


def test_a_dependent_waits_for_a_one_shot_the_plan_left_running() -> None:
    engine = Recording(
        [record("job", ContainerStatus.RUNNING)],  # the migration of a killed run
        [record("job", ContainerStatus.EXITED)],  # done: exit 0
    )
    gate(engine, state=ONE_SHOT).perform(ActionKind.CREATE, creates("app"))
    assert engine.ups == [(("app",), 1)]  # up only after the second look


def test_a_dependent_is_not_brought_up_beside_a_failed_one_shot() -> None:
    engine = Recording([record("job", ContainerStatus.EXITED, exit_code=3)])
    with pytest.raises(NotReady, match="did not complete successfully: job"):
        gate(engine, state=ONE_SHOT).perform(ActionKind.CREATE, creates("app"))
    assert engine.ups == []


def test_nothing_is_awaited_without_a_gate_or_inside_the_batch() -> None:
    engine = Recording([record("job", ContainerStatus.RUNNING)])
    runner = gate(engine, state=ONE_SHOT)
    runner.perform(ActionKind.CREATE, creates("job", "app"))  # Compose orders these itself
    runner.wait = False
    runner.perform(ActionKind.CREATE, creates("app"))  # --no-wait
    assert engine.ups == [(("job", "app"), 1), (("app",), 1)]
