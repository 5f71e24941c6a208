"""The start flow (reconciler/execute/start_flow.py): a joined stage of starts goes as
Compose's `start` does, each service once its own dependencies are met, with no
barrier at a wave or at another service's health (no Docker: a fake start and look)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from reconciler.execute.runner import NotReady
from reconciler.execute.start_flow import Pace, needs_of, start_flow
from state.errors import PermanentError
from state.model.desired import Dependency
from tests.builders import desired, service


class World:
    """Fake time, and services that become ready at a set time after their start."""

    def __init__(self, ready_after: dict[str, float], fails: Sequence[str] = ()) -> None:
        self.now = 0.0
        self.ready_after = ready_after
        self.fails = set(fails)
        self.started: dict[str, float] = {}
        self.order: list[str] = []
        self.looks: list[tuple[tuple[str, ...], float]] = []

    def pace(self, wait_timeout: float = 60.0) -> Pace:
        return Pace(lambda: self.now, self.sleep, wait_timeout)

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def start(self, ids: Sequence[str]) -> None:
        for name in ids:
            if name in self.fails:
                raise PermanentError(f"docker start failed: {name}")
            self.started[name] = self.now
            self.order.append(name)

    def look(self, services: Sequence[str], deadline: float) -> set[str]:
        self.looks.append((tuple(services), deadline))
        return {s for s in services if self.now >= self.started[s] + self.ready_after.get(s, 0.0)}


def groups(*services: str) -> dict[str, list[str]]:
    return {s: [s] for s in services}  # a container id per service: its name


def test_each_service_waits_for_its_own_dependency_only() -> None:
    # b-head is slow to get healthy; a-next starts as soon as a-head is, not with b's.
    world = World({"a-head": 1.0, "b-head": 5.0})
    needs = {"a-next": {"a-head": True}, "b-next": {"b-head": True}}
    start_flow(
        groups("a-head", "b-head", "a-next", "b-next"), needs, world.start, world.look, world.pace()
    )
    assert world.started["a-next"] < world.started["b-head"] + 5.0
    assert 1.0 <= world.started["a-next"] <= 1.5  # seen within one poll of being ready
    assert world.started["b-next"] >= 5.0


def test_a_start_only_dependency_releases_at_once_and_a_chain_keeps_its_order() -> None:
    world = World({})
    needs = {"b": {"a": False}, "c": {"b": False}}
    start_flow(groups("c", "b", "a"), needs, world.start, world.look, world.pace())
    assert world.order == ["a", "b", "c"]
    assert world.looks == []  # nothing waits on a health: no look at all


def test_a_dependency_that_fails_its_look_starts_nothing_behind_it() -> None:
    world = World({"head": 0.0, "other": 0.0})

    def look(services: Sequence[str], deadline: float) -> set[str]:
        raise NotReady("head: unhealthy", ("head",))

    needs = {"next": {"head": True}, "after-next": {"next": False}}
    with pytest.raises(NotReady, match="head: unhealthy"):
        start_flow(
            groups("head", "other", "next", "after-next"), needs, world.start, look, world.pace()
        )
    assert world.order == ["head"]  # other waited for head's start, then the flow stopped


def test_what_something_waits_on_starts_first_the_rest_after_its_start() -> None:
    world = World({"head": 1.0})
    needs = {"next": {"head": True}}
    start_flow(groups("leaf", "next", "head"), needs, world.start, world.look, world.pace())
    assert world.order == ["head", "leaf", "next"]


def test_a_failed_start_stops_the_flow_and_is_raised() -> None:
    world = World({}, fails=["a"])
    with pytest.raises(PermanentError, match="docker start failed: a"):
        start_flow(groups("a", "b"), {"b": {"a": False}}, world.start, world.look, world.pace())
    assert world.order == []


def test_the_look_is_given_the_deadline_of_the_earliest_start_it_waits_for() -> None:
    world = World({"head": 0.3})
    start_flow(
        groups("head", "next"), {"next": {"head": True}}, world.start, world.look, world.pace(7.0)
    )
    assert world.looks and all(deadline == 7.0 for _, deadline in world.looks)  # started at 0


def test_needs_say_which_waits_are_looks() -> None:
    state = desired(
        service("db", has_healthcheck=True),
        service("cache"),
        service("migrate"),
        service(
            "api",
            depends_on=[
                Dependency(service="db", condition="service_healthy"),
                Dependency(service="cache"),
                Dependency(service="migrate", condition="service_completed_successfully"),
            ],
        ),
    )
    assert needs_of(state, ["api", "cache"]) == {
        "api": {"db": True, "cache": False, "migrate": True},
        "cache": {},
    }
