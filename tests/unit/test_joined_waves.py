"""Joined waves (issue 9): consecutive waves of creates and recreates go to one
`compose up` where no health gate stands between them; everything else stays wave by
wave. EngineRunner.joins decides, the executor obeys (no Docker here)."""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.apply import execute, stages
from reconciler.outcome import OutcomeStatus
from reconciler.plan import Action, ActionKind, plan
from reconciler.rollback import Watched
from reconciler.runner import EngineRunner
from reconciler.swarm_runner import SwarmRunner
from state.desired import Dependency, DesiredState
from state.engine import ContainerStatus
from state.errors import PermanentError
from tests.builders import container, desired, observed, service
from tests.property.driver import quick_retrying
from tests.unit.test_executor import FakeRunner

HEAD = service("head", has_healthcheck=True)
CHAIN = desired(
    HEAD,
    service("a"),
    service("b", depends_on=["a"]),
    service("c", depends_on=["b"]),
    service("after-head", depends_on=["head"]),
)


def runner(state: DesiredState) -> EngineRunner:
    return EngineRunner(engine=None, desired=state, wait=False)  # type: ignore[arg-type]


def waves_of(state: DesiredState, world: object = None) -> list[tuple[Action, ...]]:
    return plan(state, world or observed()).waves()  # type: ignore[arg-type]


def services_of(stage: Sequence[Action]) -> list[str]:
    return [a.service for a in stage]


def test_a_chain_without_healthchecks_is_one_stage_and_a_healthcheck_is_a_gate() -> None:
    found = stages(waves_of(CHAIN), runner(CHAIN))
    assert [services_of(s) for s in found] == [["a", "head"], ["after-head", "b", "c"]]


def test_a_condition_other_than_started_keeps_the_gate() -> None:
    for condition in ("service_healthy", "service_completed_successfully"):
        state = desired(
            service("a"), service("b", depends_on=[Dependency(service="a", condition=condition)])
        )
        assert [services_of(s) for s in stages(waves_of(state), runner(state))] == [["a"], ["b"]]


def test_a_start_or_a_teardown_is_never_joined() -> None:
    state = desired(service("a"), service("b", depends_on=["a"]))
    world = observed(container("a", status=ContainerStatus.EXITED))  # a: start, b: create
    assert [services_of(s) for s in stages(waves_of(state, world), runner(state))] == [
        ["a"],
        ["b"],
    ]


def test_with_a_recreate_only_services_without_containers_may_be_created_alongside() -> None:
    state = desired(service("a"), service("b", depends_on=["a"], replicas=2))
    # a is recreated (its hash changed), b has replica 1 in sync and misses replica 2:
    # one forced `up` would recreate b-1 for nothing.
    world = observed(container("a", config_hash="old"), container("b", 1))
    assert len(stages(waves_of(state, world), runner(state))) == 2
    # b has no container at all: forcing its creation changes nothing.
    world = observed(container("a", config_hash="old"))
    assert [services_of(s) for s in stages(waves_of(state, world), runner(state))] == [
        ["a", "b", "b"]
    ]


def test_without_a_desired_state_or_on_a_swarm_nothing_is_joined() -> None:
    assert len(stages(waves_of(CHAIN), EngineRunner(None, None))) == 3  # type: ignore[arg-type]
    on_swarm = SwarmRunner(engine=None, desired=CHAIN)  # type: ignore[arg-type]
    assert len(stages(waves_of(CHAIN), on_swarm)) == 3


def test_the_rollback_watcher_joins_as_the_runner_it_wraps() -> None:
    assert len(stages(waves_of(CHAIN), Watched(runner(CHAIN)))) == 2


class JoiningRunner(FakeRunner):
    """The executor's fake runner, joining as the real one would."""

    def joins(self, earlier: Sequence[Action], wave: Sequence[Action]) -> bool:
        return runner(CHAIN).joins(earlier, wave)


def test_a_joined_stage_is_one_call_of_its_strongest_kind_and_one_gate() -> None:
    # a in sync, b recreated (its hash changed); head, after-head and c created.
    world = observed(container("a"), container("b", config_hash="old"))
    fake = JoiningRunner()
    result = execute(plan(CHAIN, world), fake, retrying=quick_retrying)
    assert result.ok
    assert fake.calls == [
        (ActionKind.CREATE, ("head",)),
        (ActionKind.RECREATE, ("b", "after-head", "c")),  # waves 2 and 3 in one call
    ]
    assert fake.settled == [("head",), ("b", "after-head", "c")]


def test_a_failed_joined_call_fails_its_first_wave_and_skips_the_rest() -> None:
    fake = JoiningRunner(fail={(ActionKind.CREATE, "b"): [PermanentError("port in use")]})
    result = execute(plan(CHAIN, observed()), fake, retrying=quick_retrying)
    status = {o.action.service: o.status for o in result.outcomes}
    assert status == {
        "a": OutcomeStatus.DONE,
        "head": OutcomeStatus.DONE,
        "after-head": OutcomeStatus.FAILED,
        "b": OutcomeStatus.FAILED,
        "c": OutcomeStatus.SKIPPED,
    }
    assert result.error == "port in use"
    assert fake.calls[-1] == (ActionKind.CREATE, ("after-head", "b", "c"))  # once: permanent
