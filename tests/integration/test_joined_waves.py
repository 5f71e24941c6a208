"""Joined waves on the real engine: where no health gate of ours must stand between
two waves, one call brings both up, and Compose itself keeps their order.

One group of the bench's synthetic project (tests/bench/synthetic.py): s000 has a
healthcheck; s001 waits for it (service_healthy); s002 and s003 chain behind s001,
s007 behind s006 (service_started, no healthchecks); the rest stand alone. Wave by
wave that is four `compose up` calls and four gates. A first up is one: Compose's
`up` waits for s000's health before s001 itself. An env switch, two: everything that
needs no health, then what s000's new health gates (the old dependents keep serving
until then). A start after a stop goes as Compose's `start` does: each service once
its own dependencies are met (reconciler/execute/start_flow.py).
"""

from __future__ import annotations

import json
import socket
import subprocess
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from tests.bench.synthetic import SyntheticProject
from tests.bench.tools import Ours, engine_calls
from tests.integration.plain_stack import PlainStack, moment, reconcile


@pytest.fixture
def project(tmp_path: Path) -> Iterator[SyntheticProject]:
    made = SyntheticProject.create(tmp_path, 10)
    try:
        yield made
    finally:
        made.remove_everything()


def up_calls(calls: list[str], verb: str = "up") -> list[list[str]]:
    """The services of each `compose ... up` call, in the order named: those that start
    them ("up"), or those that only create them (`up --no-start`: "create")."""
    found = []
    for call in calls:
        words = call.split()
        if words[:1] != ["compose"] or "up" not in words:
            continue
        if ("--no-start" in words) == (verb == "create"):
            found.append([w for w in words[words.index("up") + 1 :] if not w.startswith("-")])
    return [[w for w in services if w != "never"] for services in found]  # --pull never


def started_at(project: str, *services: str) -> list[datetime]:
    names = [f"{project}-{s}-1" for s in services]
    out = subprocess.run(
        ["docker", "container", "inspect", *names], capture_output=True, text=True, check=True
    ).stdout
    return [moment(c["State"]["StartedAt"]) for c in json.loads(out)]


def test_first_up_is_one_compose_up_that_waits_for_health_itself(
    project: SyntheticProject,
) -> None:
    ours = Ours(project)
    made = engine_calls(ours, app_env="prod", expect=(0,))
    # Every container is new: one `compose up`, which waits for s000's health itself
    # before it starts s001, as Compose's own `up` does; nothing to create ahead.
    assert up_calls(made, "create") == []
    assert up_calls(made) == [
        ["s000", "s004", "s006", "s008", "s009", "s001", "s007", "s002", "s003"]
    ]
    s000, s001, s002, s003 = started_at(project.name, "s000", "s001", "s002", "s003")
    assert s000 < s001 <= s002 <= s003
    assert first_healthy(project.name, "s000") < s001, "s001 started before s000 was healthy"
    ours.plan("prod")  # converged: a second run has nothing to do (exit 0)


def first_healthy(project: str, service: str) -> datetime:
    """When the service's container first passed its healthcheck since it last started."""
    out = subprocess.run(
        ["docker", "inspect", f"{project}-{service}-1"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    (state,) = [c["State"] for c in json.loads(out)]
    since = moment(state["StartedAt"])
    passed = [moment(e["End"]) for e in state["Health"]["Log"] if e["ExitCode"] == 0]
    return min(t for t in passed if t > since)


def test_an_env_switch_joins_recreates_with_fresh_creates(project: SyntheticProject) -> None:
    ours = Ours(project)
    ours.up("prod")
    calls = up_calls(engine_calls(ours, app_env="dev", expect=(0,)))
    # s005 (dev only, created) waits for s000's health like s001: both after the gate.
    assert calls == [
        ["s000", "s004", "s006", "s008", "s009", "s007"],
        ["s001", "s005", "s002", "s003"],
    ]
    ours.plan("dev")


HEADER = """\
x-service: &service
  image: spot-busybox:local
  pull_policy: never
  init: true
  command: ["sleep", "2147483647"]

services:
"""
CHAIN = (
    HEADER
    + """\
  a:
    <<: *service
  b:
    <<: *service
    depends_on: [a]
  c:
    <<: *service
    depends_on: [b]
    ports: ["127.0.0.1:{port}:80"]
"""
)
TABLE = (
    'default = "prod"\n\n[environments.prod]\ndescription = "a chain"\nfiles = ["compose.yaml"]\n'
)


def test_a_failed_joined_up_is_laid_on_the_service_that_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """a -> b -> c is one joined `up`; c's port is taken. Compose brings a and b up and
    fails c: the outcomes must say so (not blame a, nor skip b)."""
    monkeypatch.setenv("RECONCILE_LOCK_DIR", str(tmp_path / "locks"))
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    (tmp_path / "compose").mkdir()
    (tmp_path / "compose/compose.yaml").write_text(CHAIN.format(port=taken.getsockname()[1]))
    (tmp_path / "compose/environments.toml").write_text(TABLE)
    stack = PlainStack(tmp_path, "prod", f"spotit-joinfail-{uuid.uuid4().hex[:6]}")
    try:
        result = reconcile(stack, "--format", "json", app_env="prod")
        document = json.loads(result.stdout)
        assert result.returncode == 1, result.stderr
        assert [(o["service"], o["status"]) for o in document["outcomes"]] == [
            ("a", "done"),
            ("b", "done"),
            ("c", "failed"),
        ]
        assert {a["service"] for a in document["remaining"]} == {"c"}
    finally:
        taken.close()
        stack.remove_everything()


SLOW_AND_FAST = (
    HEADER
    + """\
  fast:
    <<: *service
    healthcheck: {test: ["CMD", "true"], interval: 2s, timeout: 2s, retries: 3}
  slow:  # healthy some 5 s after each start
    <<: *service
    command: ["sh", "-c", "rm -f /ready; sleep 5; touch /ready; exec sleep 2147483647"]
    healthcheck: {test: ["CMD", "test", "-f", "/ready"], interval: 1s, timeout: 2s, retries: 30}
  after-fast:
    <<: *service
    depends_on: {fast: {condition: service_healthy}}
  after-slow:
    <<: *service
    depends_on: {slow: {condition: service_healthy}}
"""
)


def test_each_service_waits_for_its_own_dependency_only_as_compose_start_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """after-fast needs only fast's health: it starts before slow is healthy, on a first
    up, on a start after a stop (the start flow, no barrier at slow's health), and with
    Compose's own `start`, the oracle. after-slow waits for slow's health in each."""
    monkeypatch.setenv("RECONCILE_LOCK_DIR", str(tmp_path / "locks"))
    (tmp_path / "compose").mkdir()
    (tmp_path / "compose/compose.yaml").write_text(SLOW_AND_FAST)
    (tmp_path / "compose/environments.toml").write_text(TABLE)
    stack = PlainStack(tmp_path, "prod", f"spotit-flow-{uuid.uuid4().hex[:6]}")

    def judged(how: str) -> None:
        after_fast, after_slow = started_at(stack.name, "after-fast", "after-slow")
        slow_healthy = first_healthy(stack.name, "slow")
        assert after_fast < slow_healthy, f"{how}: after-fast waited for slow's health"
        assert slow_healthy < after_slow, f"{how}: after-slow started before slow was healthy"

    try:
        for how in ("first up", "start after stop"):
            result = reconcile(stack, app_env="prod")
            assert result.returncode == 0, result.stdout + result.stderr
            judged(how)
            assert reconcile(stack, "stop", app_env="prod").returncode == 0
        stack.compose("start")
        judged("docker compose start")
    finally:
        stack.remove_everything()
