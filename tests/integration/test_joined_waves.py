"""Joined waves on the real engine : where no health gate stands between two
waves, one `compose up` brings both up, and Compose itself keeps their order.

One group of the bench's synthetic project (tests/bench/synthetic.py): s000 has a
healthcheck; s001 waits for it (service_healthy); s002 and s003 chain behind s001,
s007 behind s006 (service_started, no healthchecks); the rest stand alone. Wave by
wave that is four `compose up` calls and four gates; joined, two: everything that
needs no health (s007 with wave 1), then what s000's health gates.
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


def started_at(project: SyntheticProject, *services: str) -> list[datetime]:
    names = [f"{project.name}-{s}-1" for s in services]
    out = subprocess.run(
        ["docker", "container", "inspect", *names], capture_output=True, text=True, check=True
    ).stdout
    return [moment(c["State"]["StartedAt"]) for c in json.loads(out)]


def test_first_up_joins_the_waves_no_gate_separates(project: SyntheticProject) -> None:
    ours = Ours(project)
    made = engine_calls(ours, app_env="prod", expect=(0,))
    calls = up_calls(made)
    # While s000's health is awaited, what comes after it is created, not started.
    assert up_calls(made, "create") == [["s001", "s002", "s003"]]
    assert calls == [
        ["s000", "s004", "s006", "s008", "s009", "s007"],  # s007 needs s006 running only
        ["s001", "s002", "s003"],  # after the gate on s000's health: one call for 3 waves
    ]
    # Compose kept the order inside the joined call; the gate kept s001 behind s000.
    s000, s001, s002, s003 = started_at(project, "s000", "s001", "s002", "s003")
    assert s000 < s001 <= s002 <= s003
    health = subprocess.run(
        ["docker", "inspect", "-f", "{{json .State.Health.Log}}", f"{project.name}-s000-1"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    first_healthy = min(moment(e["End"]) for e in json.loads(health) if e["ExitCode"] == 0)
    assert first_healthy < s001, "s001 started before s000 was healthy"
    ours.plan("prod")  # converged: a second run has nothing to do (exit 0)


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


CHAIN = """\
x-service: &service
  image: spot-busybox:local
  pull_policy: never
  init: true
  command: ["sleep", "2147483647"]

services:
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
