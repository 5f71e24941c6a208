"""Start-first recreates (plan and apply stages): who gets one, what the plan says, and how
the runner does it over the in-memory engine: the new container beside the old one,
awaited, then the old one removed; a new one that never gets ready is removed and the
old one was never stopped; killed at any write, the next run converges. No Docker here
(tests/integration/test_start_first.py does it on the real engine)."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest

from reconciler.execute.executor import execute
from reconciler.execute.runner import EngineRunner
from reconciler.planner.downtime import FROM_CONFIG, START, START_FIRST, predict
from reconciler.planner.plan import ActionKind, Strategy, plan
from reconciler.planner.snapshot import Snapshot
from reconciler.render import plans
from state.engine import NUMBER_LABEL, ContainerStatus
from state.model.desired import DesiredService, DesiredState, Published
from state.model.observed import ObservedState, observe
from tests.builders import container, desired, observed, service
from tests.memory_engine import Crash, MemoryEngine
from tests.property.driver import quick_retrying, reconcile
from tests.property.oracle import look, problems

OPT_IN = {"update_order": "start-first"}


def web(**extra: object) -> DesiredService:
    return service("web", env="dev", **{**OPT_IN, **extra})  # type: ignore[arg-type]


def _switch(spec: DesiredService) -> tuple[DesiredState, ObservedState]:
    """A prod container of `spec`, which now wants dev: a recreate."""
    return desired(spec, env="dev"), observed(container("web"))


def test_an_opted_in_service_that_can_run_twice_is_recreated_start_first() -> None:
    wanted, world = _switch(web(ports=(Published(target=80),)))  # an ephemeral host port
    (recreate,) = plan(wanted, world).actions
    assert (recreate.kind, recreate.start_first) == (ActionKind.RECREATE, True)
    assert recreate.renumbered == 2, "the new one comes beside #1: Compose numbers it #2"
    assert recreate.reasons == ("APP_ENV prod -> dev",)
    snap = Snapshot(
        wanted, world, plan(wanted, world), downtime=predict(wanted, plan(wanted, world))
    )
    text = plans.plan_text(snap)
    assert "~ recreate (start-first) spot-web-1" in text, text
    assert "(its replacement is #2)" in text
    assert f"down ~0 s {START_FIRST}" in text
    document = json.loads(plans.plan_json(snap))
    assert document["schema_version"] == 7
    assert document["actions"][0]["start_first"] is True
    assert document["actions"][0]["downtime"] == {"seconds": 0.0, "from": START_FIRST}


@pytest.mark.parametrize(
    ("extra", "why"),
    [
        (
            {"container_name": "the-web"},
            "start-first refused: container_name the-web fixes one name",
        ),
        ({"ports": (Published(published="8080", target=80),)}, "host port 8080 is fixed"),
        (
            {"ports": (Published(host_ip="127.0.0.1", published="8080-8081", target=80),)},
            "host port 127.0.0.1:8080-8081 is fixed",
        ),
    ],
)
def test_one_that_cannot_run_twice_says_why_and_is_stop_first(
    extra: dict[str, object], why: str
) -> None:
    wanted, world = _switch(web(**extra))
    (recreate,) = plan(wanted, world).actions
    assert not recreate.start_first
    assert recreate.renumbered is None, "stop-first keeps its number"
    assert recreate.reasons[-1].startswith("start-first refused: ")
    assert why in recreate.reasons[-1] and recreate.reasons[-1].endswith("; stop-first")
    guess = predict(wanted, plan(wanted, world)).actions[0]
    assert (guess.seconds, guess.source) == (10.0 + START, FROM_CONFIG)  # the stop counts
    line = plans.action_line(recreate)
    assert "recreate (start-first)" not in line and "start-first refused" in line


def test_no_opt_in_no_start_first_and_no_note() -> None:
    wanted, world = _switch(service("web", env="dev", container_name="the-web"))
    (recreate,) = plan(wanted, world).actions
    assert not recreate.start_first and not any("start-first" in r for r in recreate.reasons)


def test_restart_stops_first_whatever_the_order() -> None:
    wanted = desired(web(), env="dev")
    restart = plan(wanted, observed(container("web", env="dev")), Strategy.ALWAYS)
    assert [(a.kind, a.start_first) for a in restart.actions] == [
        (ActionKind.STOP, False),
        (ActionKind.RECREATE, False),
    ]


def test_replicas_each_get_the_next_number_and_creates_follow() -> None:
    wanted = desired(web(replicas=3), env="dev")
    world = observed(container("web", 1), container("web", 2))
    actions = plan(wanted, world).actions
    recreates = [(a.number, a.renumbered) for a in actions if a.kind is ActionKind.RECREATE]
    assert recreates == [(1, 3), (2, 4)], "each new one after the highest there is then"
    assert [a.number for a in actions if a.kind is ActionKind.CREATE] == [5]


def test_an_interrupted_one_keeps_the_ready_new_container() -> None:
    """Killed after the new one got ready: the old one goes, nothing is recreated."""
    wanted = desired(web(), env="dev")
    old, new = container("web", 1), container("web", 2, env="dev")
    actions = plan(wanted, observed(old, new)).actions
    assert [(a.kind, a.container_id) for a in actions] == [(ActionKind.REMOVE, old.id)]


@pytest.mark.parametrize(
    "left",
    [{"status": ContainerStatus.CREATED}, {"health": "starting"}, {"health": "unhealthy"}],
)
def test_an_interrupted_one_whose_new_container_is_not_ready_starts_again(
    left: dict[str, Any],
) -> None:
    """Killed before the new one got ready: the old one, still serving, stays; the new one
    goes first, so the new start-first recreate that follows is numbered #2 again."""
    wanted = desired(web(), env="dev")
    old, new = container("web", 1), container("web", 2, env="dev", **left)
    actions = plan(wanted, observed(old, new)).actions
    assert [(a.kind, a.container_id, a.start_first, a.renumbered) for a in actions] == [
        (ActionKind.REMOVE, new.id, False, None),
        (ActionKind.RECREATE, old.id, True, 2),
    ]


def _engine(spec: DesiredService, **options: object) -> tuple[DesiredState, MemoryEngine, str]:
    state = desired(spec, env="dev")
    engine = MemoryEngine(state, **options)  # type: ignore[arg-type]
    old = engine.add("web", app_env="prod", config_hash="hash-web-prod")
    return state, engine, old.id


def test_the_runner_starts_the_new_one_waits_then_removes_the_old() -> None:
    state, engine, old = _engine(web(has_healthcheck=True), probed_health=True)
    planned = plan(state, observe(engine, state.project))
    runner = EngineRunner(engine, state, sleep=lambda s: None)
    result = execute(planned, runner, retrying=quick_retrying)
    assert result.ok, result.error
    assert [verb for verb, _ in engine.writes] == ["create_beside", "start", "remove"]
    (left,) = engine.containers_by_id.values()
    assert (left.labels[NUMBER_LABEL], left.status, left.health) == ("2", "running", "healthy")
    assert old not in engine.containers_by_id
    assert plan(state, observe(engine, state.project)).is_empty


def test_a_new_container_never_ready_is_removed_and_the_old_never_stopped() -> None:
    state, engine, old = _engine(web(has_healthcheck=True), probed_health=True)
    engine.failing_health.add("web")
    was = engine.snapshot()[old]
    planned = plan(state, observe(engine, state.project))
    result = execute(planned, EngineRunner(engine, state, sleep=lambda s: None))
    assert not result.ok
    assert "web-2: running, unhealthy" in (result.error or "")
    assert "spot-web-1 kept serving" in (result.error or "")
    assert list(engine.containers_by_id) == [old], "the new one removed, nothing else"
    assert engine.containers_by_id[old] == was, "the old one untouched: never stopped"
    assert [verb for verb, _ in engine.writes] == ["create_beside", "start", "remove"]
    assert ("stop", ("web",)) not in engine.writes


def test_a_retried_call_adds_no_second_container() -> None:
    """A transient failure after the new one was made: the retry adds none again."""
    state, engine, old = _engine(web())
    runner = EngineRunner(engine, state, wait=False)
    (action,) = plan(state, observe(engine, state.project)).actions
    before = runner._ids_of("web")
    runner._before[old] = before  # the first try got this far, then the engine blipped
    engine.create_beside("web", 2)
    runner.perform(ActionKind.RECREATE, [action])
    assert [c.labels[NUMBER_LABEL] for c in engine.containers_by_id.values()] == ["2"]


@pytest.mark.parametrize("inside", [False, True])
@pytest.mark.parametrize("writes", range(4))
@pytest.mark.parametrize("replicas", [1, 2])
def test_killed_at_any_write_the_next_run_converges(
    writes: int, inside: bool, replicas: int
) -> None:
    """Every crash point of a start-first recreate (before create_beside, inside it,
    before the start, before the removal of the old one, after it): the next run ends
    with one container per replica, all new, numbered without repeats."""
    state = desired(web(has_healthcheck=True, replicas=replicas), env="dev")
    engine = MemoryEngine(state, probed_health=True, gate=True)
    for number in range(1, replicas + 1):
        engine.add("web", number, app_env="prod", config_hash="hash-web-prod")
    before = look(engine)
    engine.crash_after_writes, engine.crash_inside_up = writes, inside
    with contextlib.suppress(Crash):
        reconcile(engine, state)
    crashed = [f for f in engine.fired if f.startswith("crash")]
    assert crashed or writes >= 3 * replicas, "a crash point inside the recreates was reached"
    if crashed == ["crash before remove"]:  # the new one ready beside the old one
        assert len(engine.containers_by_id) == replicas + 1
    engine.crash_after_writes = None
    result = reconcile(engine, state)
    assert result.ok, result.error
    assert problems(state, before, look(engine)) == [], crashed


def test_a_batch_retried_after_a_later_failure_does_not_replace_it_twice() -> None:
    """The batch's start-first recreate is done, then another service's part of the same
    batch fails for a moment: the batch is performed again; the done one is left as is."""
    state, engine, _ = _engine(web())
    runner = EngineRunner(engine, state, wait=False)
    (action,) = plan(state, observe(engine, state.project)).actions
    runner.perform(ActionKind.RECREATE, [action])
    runner.perform(ActionKind.RECREATE, [action])  # the retry
    assert [c.labels[NUMBER_LABEL] for c in engine.containers_by_id.values()] == ["2"]


class _Swarmish:
    """An engine with no way to add a container beside (a swarm's): the rest is memory's."""

    def __init__(self, engine: MemoryEngine) -> None:
        self._engine = engine

    def __getattr__(self, name: str) -> Any:
        if name == "create_beside":
            raise AttributeError(name)
        return getattr(self._engine, name)


def test_an_engine_that_cannot_add_one_beside_updates_the_service_itself() -> None:
    """On a swarm, `stack deploy` honours update_config.order: one forced `up`."""
    state, engine, old = _engine(web())
    (action,) = plan(state, observe(engine, state.project)).actions
    runner = EngineRunner(_Swarmish(engine), state, wait=False)
    runner.perform(ActionKind.RECREATE, [action])
    assert engine.writes == [("up", ("web",))]
    assert old not in engine.containers_by_id
