"""Joined waves: consecutive waves of creates and recreates go to one
`compose up` where no health gate stands between them; everything else stays wave by
wave. EngineRunner.stage (reconciler/execute/stages.py) decides, the executor obeys (no Docker)."""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.commands.rollback import Watched, with_dependents
from reconciler.execute.executor import execute, stages
from reconciler.execute.outcome import OutcomeStatus
from reconciler.execute.runner import EngineRunner
from reconciler.execute.stages import Stage
from reconciler.execute.swarm_runner import SwarmRunner
from reconciler.planner.plan import Action, ActionKind, plan
from state.engine import ContainerStatus
from state.errors import PermanentError
from state.model.desired import Dependency, DesiredState
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


def test_what_needs_no_health_joins_the_first_stage_and_a_healthcheck_is_a_gate() -> None:
    # Waves: [a, head], [after-head, b], [c]. b and c need only a running: they join
    # the first stage; after-head waits for head's health.
    found = stages(waves_of(CHAIN), runner(CHAIN))
    assert [services_of(s) for s in found] == [["a", "head", "b", "c"], ["after-head"]]


def test_what_depends_on_an_action_held_back_is_held_back_too() -> None:
    state = desired(
        HEAD,
        service("gated", depends_on=["head"]),
        service("behind", depends_on=["gated"]),
    )
    found = stages(waves_of(state), runner(state))
    assert [services_of(s) for s in found] == [["head"], ["gated", "behind"]]


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
    assert len(stages(waves_of(CHAIN), runner(CHAIN))) == 2


class JoiningRunner(FakeRunner):
    """The executor's fake runner, joining as the real one would."""

    def stage(self, wave: Sequence[Action]) -> Stage | None:
        return runner(CHAIN).stage(wave)


def test_a_joined_stage_is_one_call_of_its_strongest_kind_and_one_gate() -> None:
    # a in sync, b recreated (its hash changed); head, after-head and c created.
    world = observed(container("a"), container("b", config_hash="old"))
    fake = JoiningRunner()
    result = execute(plan(CHAIN, world), fake, retrying=quick_retrying)
    assert result.ok
    assert fake.calls == [
        (ActionKind.RECREATE, ("head", "b", "c")),  # waves 1-3 but after-head: one call
        (ActionKind.CREATE, ("after-head",)),
    ]
    assert fake.settled == [("head", "b", "c"), ("after-head",)]


def test_a_failed_joined_call_is_performed_again_wave_by_wave_to_find_the_failure() -> None:
    port_in_use: list[Exception] = [PermanentError("port in use")] * 2  # fails when retried
    fake = JoiningRunner(fail={(ActionKind.CREATE, "c"): port_in_use})
    result = execute(plan(CHAIN, observed()), fake, retrying=quick_retrying)
    status = {o.action.service: o.status for o in result.outcomes}
    assert status == {
        "a": OutcomeStatus.DONE,
        "head": OutcomeStatus.DONE,
        "b": OutcomeStatus.DONE,
        "c": OutcomeStatus.FAILED,  # the wave that has the failure, not the first one
        "after-head": OutcomeStatus.SKIPPED,
    }
    assert result.error == "port in use"
    assert fake.calls == [
        (ActionKind.CREATE, ("a", "head", "b", "c")),  # joined, once: the error is permanent
        (ActionKind.CREATE, ("a", "head")),
        (ActionKind.CREATE, ("b",)),
        (ActionKind.CREATE, ("c",)),
    ]


def test_a_failure_in_the_first_wave_skips_the_waves_joined_to_it() -> None:
    fake = JoiningRunner(fail={(ActionKind.CREATE, "a"): [PermanentError("no image")] * 2})
    result = execute(plan(CHAIN, observed()), fake, retrying=quick_retrying)
    status = {o.action.service: o.status for o in result.outcomes}
    assert status == {
        "a": OutcomeStatus.FAILED,
        "head": OutcomeStatus.FAILED,
        "b": OutcomeStatus.SKIPPED,
        "c": OutcomeStatus.SKIPPED,
        "after-head": OutcomeStatus.SKIPPED,
    }


def test_starts_join_too_and_go_in_dependency_order() -> None:
    stopped = ContainerStatus.EXITED
    world = observed(*(container(s, status=stopped) for s in ("a", "b", "c", "head")))
    state = desired(*(s for s in CHAIN.services.values() if s.name != "after-head"))
    started: list[list[str]] = []

    class Engine:
        def start(self, ids: Sequence[str]) -> None:
            started.append([i.split("-")[1] for i in ids])

    engine_runner = EngineRunner(Engine(), state, wait=False)  # type: ignore[arg-type]
    assert len(stages(plan(state, world).waves(), engine_runner)) == 1
    result = execute(plan(state, world), engine_runner, retrying=quick_retrying)
    assert result.ok
    flat = [name for call in started for name in call]
    assert sorted(flat) == ["a", "b", "c", "head"]  # one stage, each started once
    assert flat.index("a") < flat.index("b") < flat.index("c")  # in dependency order
    assert ["a"] in started  # b waits on it: started alone, so its end releases b


HEALTHY = Dependency(service="head", condition="service_healthy")


def gated_chain(condition: str = "service_healthy") -> DesiredState:
    return desired(
        HEAD,
        service("after-head", depends_on=[Dependency(service="head", condition=condition)]),
    )


def gate_on(state: DesiredState) -> EngineRunner:
    return EngineRunner(engine=None, desired=state, wait=True)  # type: ignore[arg-type]


def test_with_the_gate_on_a_fresh_up_waits_for_health_inside_one_compose_up() -> None:
    # Compose's `up` waits for service_healthy itself: one stage, one `up`, as Compose's.
    state = gated_chain()
    assert [services_of(s) for s in stages(waves_of(state), gate_on(state))] == [
        ["head", "after-head"]
    ]
    # With the gate off (--no-wait), or waiting on a healthchecked service only for its
    # start (the gate waits for its health, Compose's `up` would not), it stays a gate.
    assert len(stages(waves_of(state), runner(state))) == 2
    started_only = gated_chain("service_started")
    assert len(stages(waves_of(started_only), gate_on(started_only))) == 2


def test_a_recreate_or_a_kept_container_keeps_the_health_gate_between_waves() -> None:
    # A recreate behind a new dependency: the old dependent keeps serving until the new
    # dependency is healthy (the env switch's order), so no one forced `up` of both.
    state = gated_chain()
    old = observed(*(container(s, config_hash="old") for s in ("head", "after-head")))
    assert len(stages(waves_of(state, old), gate_on(state))) == 2
    # A dependent that keeps a container (one replica missing) is created beside it, not
    # by an `up` that would wait: the gate stays.
    two = desired(HEAD, service("after-head", depends_on=[HEALTHY], replicas=2))
    kept = observed(container("after-head", number=1))
    assert len(stages(waves_of(two, kept), gate_on(two))) == 2


def test_with_the_gate_on_starts_behind_a_healthy_dependency_join_the_start_flow() -> None:
    state = gated_chain()
    stopped = observed(
        *(container(s, status=ContainerStatus.EXITED) for s in ("head", "after-head"))
    )
    assert [services_of(s) for s in stages(waves_of(state, stopped), gate_on(state))] == [
        ["head", "after-head"]
    ]


def test_a_rollback_takes_back_what_was_recreated_with_the_failed_service() -> None:
    # a failed its gate; b and c were recreated in the same stage, behind it: put back
    # with it (else they run the new APP_ENV beside a's old one). head stays as it is.
    world = observed(*(container(s, config_hash="old") for s in ("a", "b", "c", "head")))
    done = execute(plan(CHAIN, world), JoiningRunner(), retrying=quick_retrying).outcomes
    assert with_dependents(["a"], done, CHAIN) == ["a", "b", "c"]
    assert with_dependents(["head"], done, CHAIN) == ["head"]  # after-head was not recreated
