"""Container numbers of a scaled service: the in-memory engine against the real one.

The property tests trust the in-memory engine to number and scale as Compose does;
this pins it. One small busybox project (`worker`, `scale: ${WORKER_SCALE}`) runs on
the real engine; the same desired state drives a MemoryEngine. Every step (scale,
remove a number, stop a number, reconcile) is done to both, and both must then hold
the same numbers. Reconcile steps also check that the plan named the numbers that
really appeared and that a second plan is empty.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.execute.executor import execute
from reconciler.execute.runner import EngineRunner
from reconciler.planner.plan import ActionKind, Plan, plan
from state.docker.adapter import DockerEngine
from state.engine import NUMBER_LABEL, ContainerEngine, ContainerStatus, Recreate
from state.model.desired import DesiredState, desire
from state.model.observed import observe
from state.resolve.project import load_project
from tests.integration.plain_stack import PlainStack, unique_project_name
from tests.memory_engine import MemoryEngine

SERVICE = "worker"
TABLE = """default = "test"
[environments.test]
description = "one scaled busybox service"
files = ["compose.yaml"]
"""
COMPOSE = """services:
  worker:
    image: spot-busybox:local
    pull_policy: never
    init: true
    command: ["sleep", "3600"]
    scale: ${WORKER_SCALE:-1}
"""


class Twins:
    """The real project and its in-memory twin, driven step by step."""

    def __init__(self, directory: Path, name: str) -> None:
        self.directory = directory
        self.name = name
        self.memory: MemoryEngine | None = None
        self.scale(1)

    def scale(self, replicas: int) -> None:
        """Set the desired scale (in .env, as a user would); the engines see it at `up`."""
        (self.directory / ".env").write_text(f"WORKER_SCALE={replicas}\n")
        project = load_project(self.directory, project_name=self.name, process_env={})
        self.real = DockerEngine(project)
        self.desired: DesiredState = desire(project, self.real)
        assert self.desired.services[SERVICE].replicas == replicas
        if self.memory is None:
            self.memory = MemoryEngine(self.desired)
        self.memory.desired = self.desired

    @property
    def engines(self) -> tuple[ContainerEngine, MemoryEngine]:
        assert self.memory is not None
        return self.real, self.memory

    def up(self) -> None:
        for engine in self.engines:
            engine.up([SERVICE], recreate=Recreate.CHANGED)

    def remove(self, number: int) -> None:
        for engine in self.engines:
            engine.remove([_id_of(engine, self.name, number)])

    def stop(self, number: int) -> None:
        for engine in self.engines:
            engine.stop([_id_of(engine, self.name, number)])

    def reconcile(self) -> list[int]:
        """Plan and apply on both; the numbers each plan said it would create."""
        created = []
        for engine in self.engines:
            the_plan = plan(self.desired, observe(engine, self.name))
            result = execute(the_plan, EngineRunner(engine, self.desired, wait=False))
            assert result.ok, result.error
            created.append(_created(the_plan))
            assert plan(self.desired, observe(engine, self.name)).is_empty, type(engine)
        assert created[0] == created[1]
        return created[0]

    def numbers(self) -> list[list[tuple[int, str]]]:
        """Per engine: (number, status) of each container, sorted."""
        return [
            sorted(
                (int(r.labels[NUMBER_LABEL]), r.status.value) for r in engine.containers(self.name)
            )
            for engine in self.engines
        ]

    def assert_same(self, expected: list[int]) -> None:
        real, memory = self.numbers()
        assert real == memory
        assert [n for n, _ in real] == expected


def _id_of(engine: ContainerEngine, project: str, number: int) -> str:
    (record,) = [r for r in engine.containers(project) if r.labels[NUMBER_LABEL] == str(number)]
    return record.id


def _created(the_plan: Plan) -> list[int]:
    return sorted(a.number for a in the_plan.actions if a.kind is ActionKind.CREATE)


@pytest.fixture
def twins(tmp_path: Path) -> Iterator[Twins]:
    (tmp_path / "compose").mkdir()
    (tmp_path / "compose/environments.toml").write_text(TABLE)
    (tmp_path / "compose/compose.yaml").write_text(COMPOSE)
    name = unique_project_name("numbers")
    try:
        yield Twins(tmp_path, name)
    finally:
        PlainStack(directory=tmp_path, app_env="test", name=name).remove_everything()


def test_compose_up_numbers_alike_on_both_engines(twins: Twins) -> None:
    twins.scale(3)
    twins.up()
    twins.assert_same([1, 2, 3])
    twins.remove(2)
    twins.up()  # the gap stays: the new one is #4
    twins.assert_same([1, 3, 4])
    twins.scale(2)
    twins.up()  # scale down from the top
    twins.assert_same([1, 3])
    twins.remove(1)
    twins.stop(3)
    twins.scale(4)
    twins.up()  # the stopped one is started, two more after the highest
    twins.assert_same([3, 4, 5, 6])
    assert {status for _, status in twins.numbers()[0]} == {ContainerStatus.RUNNING.value}
    twins.scale(0)
    twins.up()
    twins.assert_same([])
    twins.scale(2)
    twins.up()  # from nothing: numbering starts again at 1
    twins.assert_same([1, 2])


def test_reconcile_plans_the_numbers_compose_gives_and_then_rests(twins: Twins) -> None:
    twins.scale(3)
    assert twins.reconcile() == [1, 2, 3]
    twins.remove(2)
    assert twins.reconcile() == [4]  # never #2: Compose gives the highest + 1
    twins.assert_same([1, 3, 4])
    twins.remove(1)
    twins.remove(3)
    twins.scale(2)
    assert twins.reconcile() == [5]
    twins.assert_same([4, 5])
    twins.scale(1)
    assert twins.reconcile() == []
    twins.assert_same([4])


def test_create_beside_numbers_and_leaves_the_others_alike(twins: Twins) -> None:
    """`up --no-start --no-deps --no-recreate --scale worker=N worker` (a start-first
    recreate's new container): after the highest number, not started; a stopped one
    stays stopped, nothing is recreated, on both engines."""
    twins.scale(2)
    twins.up()
    twins.stop(1)
    for engine in twins.engines:
        engine.create_beside(SERVICE, 3)  # type: ignore[attr-defined]
    real, memory = twins.numbers()
    assert real == memory == [(1, "exited"), (2, "running"), (3, "created")]
    twins.remove(2)
    for engine in twins.engines:
        engine.create_beside(SERVICE, 4)  # type: ignore[attr-defined]
    real, memory = twins.numbers()
    assert real == memory == [(1, "exited"), (3, "created"), (4, "created"), (5, "created")]
