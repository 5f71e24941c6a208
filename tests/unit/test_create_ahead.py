"""Creating ahead: while a stage waits for health, the containers of later
services that have none yet are created, not started, as Compose's own `up` creates
every container before it starts any. No Docker here."""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.execute.executor import execute
from reconciler.execute.runner import EngineRunner
from reconciler.execute.swarm_runner import SwarmRunner
from reconciler.planner.plan import Action, plan
from state.engine import ContainerStatus, Recreate
from state.errors import EngineError
from state.model.desired import DesiredState
from tests.builders import container, desired, observed, service
from tests.property.driver import quick_retrying

HEAD = service("head", has_healthcheck=True)
STATE = desired(
    HEAD,
    service("gated", depends_on=["head"]),
    service("behind", depends_on=["gated"]),
    service("scaled", depends_on=["head"], replicas=2),
)


class Recorder:
    """An engine that records the writes the runner asks for."""

    def __init__(self, create_error: Exception | None = None) -> None:
        self.calls: list[tuple[str, tuple[str, ...]]] = []
        self.create_error = create_error

    def up(self, services: Sequence[str], *, recreate: Recreate) -> None:
        self.calls.append(("up", tuple(services)))

    def containers(self, project: str) -> list[object]:
        return []  # records nothing: a gap's create makes nothing to start here

    def create(self, services: Sequence[str]) -> None:
        self.calls.append(("create", tuple(services)))
        if self.create_error:
            raise self.create_error


def run(state: DesiredState, world: object, engine: object) -> None:
    runner = EngineRunner(engine, state, wait=False)  # type: ignore[arg-type]
    result = execute(plan(state, world), runner, retrying=quick_retrying)  # type: ignore[arg-type]
    assert result.ok, result.error


def test_later_services_without_containers_are_created_while_health_is_awaited() -> None:
    engine = Recorder()
    # scaled has replica 1 already: it is not created ahead; its gap is filled by a
    # create of its own, beside replica 1 (tests/unit/test_replica_gaps.py).
    run(STATE, observed(container("scaled", 1)), engine)
    assert engine.calls == [
        ("up", ("head",)),
        ("create", ("gated", "behind")),
        ("up", ("gated", "behind")),
        ("create", ("scaled",)),
    ]


def test_nothing_is_created_ahead_without_a_health_to_wait_for() -> None:
    state = desired(service("a"), service("b", depends_on=["a"]))
    world = observed(container("a", status=ContainerStatus.EXITED))  # a: start, b: create
    engine = Recorder()
    engine.start = lambda ids: engine.calls.append(("start", tuple(ids)))  # type: ignore[attr-defined]
    run(state, world, engine)
    assert [verb for verb, _ in engine.calls] == ["start", "up"]


def test_a_failure_to_create_ahead_is_left_to_the_later_up() -> None:
    engine = Recorder(create_error=EngineError("no space left"))
    run(STATE, observed(), engine)
    assert engine.calls[-1][0] == "up"


def test_an_engine_that_cannot_create_is_not_asked() -> None:
    class UpOnly:
        def __init__(self) -> None:
            self.calls: list[tuple[str, tuple[str, ...]]] = []

        def up(self, services: Sequence[str], *, recreate: Recreate) -> None:
            self.calls.append(("up", tuple(services)))

    engine = UpOnly()
    run(STATE, observed(), engine)
    assert [verb for verb, _ in engine.calls] == ["up", "up"]


def test_the_stage_and_later_actions_reach_prepare_as_the_executor_sees_them() -> None:
    seen: list[tuple[list[str], list[str]]] = []

    class Watching(EngineRunner):
        def prepare(self, stage: Sequence[Action], later: Sequence[Sequence[Action]]) -> None:
            seen.append(([a.service for a in stage], [a.service for s in later for a in s]))

    runner = Watching(Recorder(), STATE, wait=False)  # type: ignore[arg-type]
    assert execute(plan(STATE, observed()), runner, retrying=quick_retrying).ok
    assert seen == [(["head"], ["gated", "scaled", "scaled", "behind"])]


def test_a_later_stage_that_recreates_is_not_created_ahead() -> None:
    # gated is recreated: its stage is one forced `up`, which would recreate whatever
    # was created ahead in it (behind, new): so nothing is.
    engine = Recorder()
    run(STATE, observed(container("gated", config_hash="old")), engine)
    assert engine.calls == [("up", ("head",)), ("up", ("gated", "scaled", "behind"))]


def test_the_swarm_never_creates_ahead() -> None:
    engine = Recorder()
    runner = SwarmRunner(engine, STATE, wait=False)  # type: ignore[arg-type]
    later = plan(STATE, observed()).waves()[1:]
    runner.prepare(plan(STATE, observed()).waves()[0], later)
    assert engine.calls == []
