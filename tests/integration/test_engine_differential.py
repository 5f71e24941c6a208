"""The in-memory engine against the real one: the same operations, the same results.

The property tests trust tests/memory_engine.py to behave as Docker and Compose v2
do; each behaviour it has that the reconciler could be wrong about is driven here on
a small busybox project on the real engine (through the product's Docker adapter:
Compose v2 and the docker CLI) and on the in-memory engine, step by step, and the
observable results are compared: containers (service, number, status, health), which
ids changed, the daemon's words when it refuses. Numbering has its own file
(tests/integration/test_numbering.py).
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest

from state.docker.adapter import DockerEngine
from state.engine import (
    NUMBER_LABEL,
    ONEOFF_LABEL,
    SERVICE_LABEL,
    ContainerEngine,
    ContainerStatus,
    Recreate,
)
from state.errors import ReconcilerError
from state.model.desired import DesiredState, desire
from state.resolve.project import load_project
from tests.integration.plain_stack import PlainStack, unique_project_name
from tests.memory_engine import Crash, MemoryEngine

TABLE = """default = "test"
[environments.test]
description = "a scaled service with a healthcheck, one whose probe fails"
files = ["compose.yaml"]
"""
COMPOSE = """x-busybox: &busybox
  image: spot-busybox:local
  pull_policy: never
  init: true
  command: ["sleep", "3600"]

services:
  app:
    <<: *busybox
    restart: unless-stopped
    scale: ${APP_SCALE:-1}
    healthcheck:
      test: ["CMD", "true"]
      interval: 10s
      retries: 1
  sick:
    <<: *busybox
    healthcheck:
      test: ["CMD", "false"]
      interval: 10s
      retries: 1
  dozer:
    <<: *busybox
    healthcheck:
      test: ["CMD", "true"]
      interval: 2s
      timeout: 1s
      retries: 1
  patient:
    <<: *busybox
    depends_on:
      dozer: {condition: service_healthy}
  sickly:
    <<: *busybox
    healthcheck:
      test: ["CMD", "false"]
      interval: 1s
      timeout: 1s
      retries: 1
  needy:
    <<: *busybox
    depends_on:
      sickly: {condition: service_healthy}
"""
Row = tuple[str, int, str, str | None]


class Twins:
    """The real project and its in-memory twin."""

    def __init__(self, directory: Path, name: str) -> None:
        self.directory = directory
        self.name = name
        (directory / ".env").write_text("APP_SCALE=2\n")
        project = load_project(directory, project_name=name, process_env={})
        self.real = DockerEngine(project)
        self.desired: DesiredState = desire(project, self.real)
        self.memory = MemoryEngine(
            self.desired, failing_health={"sick", "sickly"}, probed_health=True
        )

    @property
    def engines(self) -> tuple[ContainerEngine, MemoryEngine]:
        return self.real, self.memory

    def both(self, act: Callable[[ContainerEngine], None]) -> list[str | None]:
        """Do `act` to each engine; what each refused with (None: done)."""
        said: list[str | None] = []
        for engine in self.engines:
            try:
                act(engine)
                said.append(None)
            except ReconcilerError as exc:
                said.append(daemon_words(str(exc)))
        return said

    def rows(self, engine: ContainerEngine) -> list[Row]:
        return sorted(
            (
                r.labels[SERVICE_LABEL],
                int(r.labels[NUMBER_LABEL]),
                r.status.value,
                r.health,
            )
            for r in engine.containers(self.name)
        )

    def ids(self, engine: ContainerEngine, service: str) -> dict[int, str]:
        return {
            int(r.labels[NUMBER_LABEL]): r.id
            for r in engine.containers(self.name)
            if r.labels[SERVICE_LABEL] == service and r.labels.get(ONEOFF_LABEL) != "True"
        }

    def id_of(self, engine: ContainerEngine, service: str, number: int) -> str:
        return self.ids(engine, service)[number]

    def settled_real(self, done: Callable[[list[Row]], bool], timeout: float = 30) -> list[Row]:
        """The real engine's rows once `done` holds (health probes take real time)."""
        deadline = time.monotonic() + timeout
        while True:
            rows = self.rows(self.real)
            if done(rows) or time.monotonic() > deadline:
                return rows
            time.sleep(0.5)


def daemon_words(message: str) -> str:
    """The daemon's refusal, without ids and names that differ between the twins."""
    found = re.search(r"Error response from daemon: ([^\n]*)", message)
    words = found.group(1) if found else message.splitlines()[0]
    return re.sub(r"network \S+ id \S+", "network N id ID", words).strip()


@pytest.fixture
def twins(tmp_path: Path) -> Iterator[Twins]:
    (tmp_path / "compose").mkdir()
    (tmp_path / "compose/environments.toml").write_text(TABLE)
    (tmp_path / "compose/compose.yaml").write_text(COMPOSE)
    name = unique_project_name("differential")
    try:
        yield Twins(tmp_path, name)
    finally:
        PlainStack(directory=tmp_path, app_env="test", name=name).remove_everything()


def no_health_starting(rows: list[Row]) -> bool:
    return all(health != "starting" for *_, health in rows)


def test_health_starts_as_starting_then_a_probe_decides(twins: Twins) -> None:
    assert twins.both(lambda e: e.up(["app", "sick"], recreate=Recreate.CHANGED)) == [None, None]
    first = [twins.rows(e) for e in twins.engines]
    assert first[0] == first[1]
    assert {health for *_, health in first[0]} == {"starting"}
    real = twins.settled_real(no_health_starting)
    assert real == twins.rows(twins.memory)
    assert {(s, h) for s, _, _, h in real} == {("app", "healthy"), ("sick", "unhealthy")}


def test_one_up_waits_for_a_healthy_dependency_and_fails_on_an_unhealthy_one(
    twins: Twins,
) -> None:
    """Compose's `up` starts what waits for a healthy dependency among its services only
    once it is healthy; one whose dependency turns unhealthy is left created, and the
    `up` fails in Compose's words (the runner lets one `up` span such waves)."""
    assert twins.both(lambda e: e.up(["dozer", "patient"], recreate=Recreate.CHANGED)) == [
        None,
        None,
    ]
    waited = [("dozer", 1, "running", "healthy"), ("patient", 1, "running", None)]
    assert twins.rows(twins.real) == twins.rows(twins.memory) == waited
    said = []
    for engine in twins.engines:
        with pytest.raises(ReconcilerError) as failed:
            engine.up(["sickly", "needy"], recreate=Recreate.CHANGED)
        said.append(str(failed.value))
    words = [re.search(r"dependency failed to start: container \S+ (.*)", w) for w in said]
    assert [w and w.group(1) for w in words] == ["is unhealthy", "is unhealthy"], said
    left = [[r for r in twins.rows(e) if r[0] in ("needy", "sickly")] for e in twins.engines]
    assert (
        left[0] == left[1] == [("needy", 1, "created", None), ("sickly", 1, "running", "unhealthy")]
    )


def test_paused_is_refused_by_start_and_by_up(twins: Twins) -> None:
    twins.both(lambda e: e.up(["app"], recreate=Recreate.CHANGED))
    paused = {id(e): twins.id_of(e, "app", 1) for e in twins.engines}
    subprocess.run(["docker", "pause", paused[id(twins.real)]], check=True, capture_output=True)
    twins.memory.disturb_status(paused[id(twins.memory)], ContainerStatus.PAUSED)
    start = twins.both(lambda e: e.start([paused[id(e)]]))
    assert start[0] == start[1] == "cannot start a paused container, try unpause instead"
    up = twins.both(lambda e: e.up(["app"], recreate=Recreate.CHANGED))
    assert up[0] == up[1] == "cannot start a paused container, try unpause instead"
    assert twins.both(lambda e: e.unpause([paused[id(e)]])) == [None, None]
    assert twins.rows(twins.real)[0][2] == twins.rows(twins.memory)[0][2] == "running"


def test_unpause_keeps_the_stale_health_until_the_next_probe(twins: Twins) -> None:
    """A paused container's probes fail (Docker cannot exec in it), so it turns
    `unhealthy`; unpause resumes it with that word until the next probe says healthy."""
    twins.both(lambda e: e.up(["dozer"], recreate=Recreate.CHANGED))
    assert twins.rows(twins.memory) == [("dozer", 1, "running", "starting")]  # one probe
    healthy = twins.settled_real(lambda rows: rows == [("dozer", 1, "running", "healthy")])
    assert healthy == twins.rows(twins.memory) == [("dozer", 1, "running", "healthy")]
    real_id, memory_id = twins.id_of(twins.real, "dozer", 1), twins.id_of(twins.memory, "dozer", 1)
    subprocess.run(["docker", "pause", real_id], check=True, capture_output=True)
    twins.memory.disturb_status(memory_id, ContainerStatus.PAUSED)
    paused = twins.settled_real(lambda rows: rows[0][3] == "unhealthy")
    assert paused == twins.rows(twins.memory) == [("dozer", 1, "paused", "unhealthy")]
    unpaused_at = time.time()
    assert twins.both(lambda e: e.unpause([twins.id_of(e, "dozer", 1)])) == [None, None]
    real = twins.rows(twins.real)
    memory_first, memory_next = twins.rows(twins.memory), twins.rows(twins.memory)
    assert memory_first == [("dozer", 1, "running", "unhealthy")]  # stale, as it was
    assert memory_next == [("dozer", 1, "running", "healthy")]  # its next probe decides
    # The real probe runs every 2 s: if one ran between the unpause and the read, the
    # real engine is a probe ahead of the memory's first read.
    assert real == (memory_next if _probed_since(real_id, unpaused_at) else memory_first)
    assert twins.settled_real(lambda rows: rows[0][3] == "healthy") == memory_next


def test_force_recreate_replaces_the_services_named_keeping_numbers(twins: Twins) -> None:
    twins.both(lambda e: e.up(["app", "sick"], recreate=Recreate.CHANGED))
    before = {id(e): (twins.ids(e, "app"), twins.ids(e, "sick")) for e in twins.engines}
    assert twins.both(lambda e: e.up(["app"], recreate=Recreate.ALWAYS)) == [None, None]
    for engine in twins.engines:
        apps, sicks = twins.ids(engine, "app"), twins.ids(engine, "sick")
        old_apps, old_sicks = before[id(engine)]
        assert sorted(apps) == sorted(old_apps) == [1, 2]
        assert not set(apps.values()) & set(old_apps.values())  # every replica new
        assert sicks == old_sicks  # the service not named is left alone


def test_a_process_that_dies_comes_back_a_stopped_one_does_not(twins: Twins) -> None:
    twins.both(lambda e: e.up(["app"], recreate=Recreate.CHANGED))
    real_id, memory_id = twins.id_of(twins.real, "app", 1), twins.id_of(twins.memory, "app", 1)
    pid = _inspect(real_id, "{{.State.Pid}}")
    subprocess.run(["kill", "-9", pid], check=True)  # the process dies; nobody stopped it
    twins.memory.die(memory_id)
    deadline = time.monotonic() + 20

    def back() -> bool:  # restarted, and done restarting ("restarting" comes first)
        state = _inspect(real_id, "{{.RestartCount}} {{.State.Status}}")
        return state.split()[0] != "0" and state.endswith(" running")

    while not back() and time.monotonic() < deadline:
        time.sleep(0.3)
    real = (_inspect(real_id, "{{.State.Status}}"), int(_inspect(real_id, "{{.RestartCount}}")))
    memory = twins.memory.containers_by_id[memory_id]
    assert real == (memory.status.value, memory.restarts) == ("running", 1)
    assert twins.both(lambda e: e.stop([twins.id_of(e, "app", 1)])) == [None, None]
    time.sleep(2)  # a restart policy would have brought it back by now
    real_after = _inspect(real_id, "{{.State.Status}}")
    assert real_after == twins.memory.containers_by_id[memory_id].status.value == "exited"


def test_a_network_a_one_off_uses_cannot_be_removed(twins: Twins) -> None:
    twins.both(lambda e: e.up(["app"], recreate=Recreate.CHANGED))
    compose = ["docker", "compose", "--project-directory", str(twins.directory)]
    compose += ["-f", str(twins.directory / "compose/compose.yaml"), "-p", twins.name]
    subprocess.run([*compose, "run", "-d", "--no-deps", "app", "sleep", "300"], check=True)
    twins.memory.add("app", 1, oneoff=True)
    twins.both(lambda e: e.remove(list(twins.ids(e, "app").values())))
    networks = [e.networks(twins.name) for e in twins.engines]
    assert networks[0] == networks[1] == [f"{twins.name}_default"]
    refused = twins.both(lambda e: e.remove_networks([f"{twins.name}_default"]))
    assert (
        refused[0]
        == refused[1]
        == "error while removing network: network N id ID has active endpoints"
    )


def _probed_since(container_id: str, moment: float) -> bool:
    """Whether a health probe of the real container started after `moment` (epoch s)."""
    probes = json.loads(_inspect(container_id, "{{json .State.Health.Log}}"))
    return any(_epoch(probe["Start"]) > moment for probe in probes)


def _epoch(timestamp: str) -> float:
    """Docker's RFC 3339 time with nanoseconds (2026-12-02T15:20:01.123456789Z), in s."""
    found = re.fullmatch(r"(.{19})(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", timestamp)
    assert found, f"not a Docker timestamp: {timestamp}"
    whole, fraction, zone = found.groups()
    moment = datetime.fromisoformat(whole + ("+00:00" if zone == "Z" else zone))
    return moment.timestamp() + float("0." + (fraction or "0"))


def _inspect(container_id: str, template: str) -> str:
    out = subprocess.run(
        ["docker", "inspect", "-f", template, container_id],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def test_the_leftover_of_a_recreate_killed_midway_is_met_alike(twins: Twins) -> None:
    """The in-memory engine's crash inside an `up` leaves the old container stopped and
    renamed `<id12>_<name>`, as a Compose recreate killed between rename and create
    does (reproduced on the real engine with `docker rename`); then each engine's `up`
    treats the leftover alike: the service's container, started under that name."""
    (twins.directory / ".env").write_text("APP_SCALE=1\n")
    project = load_project(twins.directory, project_name=twins.name, process_env={})
    twins.real = DockerEngine(project)
    twins.desired = desire(project, twins.real)
    twins.memory.desired = twins.desired
    twins.both(lambda e: e.up(["app"], recreate=Recreate.CHANGED))
    real_id = twins.id_of(twins.real, "app", 1)
    subprocess.run(["docker", "stop", "-t", "1", real_id], check=True, capture_output=True)
    name = f"{twins.name}-app-1"
    subprocess.run(["docker", "rename", real_id, f"{real_id[:12]}_{name}"], check=True)
    twins.memory.crash_after_writes, twins.memory.crash_inside_up = 0, True
    with pytest.raises(Crash):
        twins.memory.up(["app"], recreate=Recreate.ALWAYS)

    def shapes(engine: ContainerEngine) -> list[tuple[str, str]]:
        return sorted(
            (re.sub(r"^[0-9a-f]{12}_", "ID12_", r.name), r.status.value)
            for r in engine.containers(twins.name)
        )

    assert shapes(twins.real) == shapes(twins.memory) == [(f"ID12_{name}", "exited")]
    assert twins.both(lambda e: e.up(["app"], recreate=Recreate.CHANGED)) == [None, None]
    assert shapes(twins.real) == shapes(twins.memory)
