"""Joined waves on the real engine (issue 9): where no health gate stands between two
waves, one `compose up` brings both up, and Compose itself keeps their order.

One group of the bench's synthetic project (tests/bench/synthetic.py): s000 has a
healthcheck; s001 waits for it (service_healthy); s002 and s003 chain behind s001,
s007 behind s006 (service_started, no healthchecks); the rest stand alone. Wave by
wave that is four `compose up` calls and four gates; joined, two: everything that
needs no health (s007 with wave 1), then what s000's health gates.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.bench.synthetic import SyntheticProject
from tests.bench.tools import Ours, engine_calls


@pytest.fixture
def project(tmp_path: Path) -> Iterator[SyntheticProject]:
    made = SyntheticProject.create(tmp_path, 10)
    try:
        yield made
    finally:
        made.remove_everything()


def up_calls(calls: list[str]) -> list[list[str]]:
    """The services of each `compose ... up` call, in the order named."""
    found = []
    for call in calls:
        words = call.split()
        if words[:1] == ["compose"] and "up" in words:
            found.append([w for w in words[words.index("up") + 1 :] if not w.startswith("-")])
    return [[w for w in services if w != "never"] for services in found]  # --pull never


def started_at(project: SyntheticProject, *services: str) -> list[str]:
    names = [f"{project.name}-{s}-1" for s in services]
    out = subprocess.run(
        ["docker", "container", "inspect", *names], capture_output=True, text=True, check=True
    ).stdout
    return [c["State"]["StartedAt"] for c in json.loads(out)]


def test_first_up_joins_the_waves_no_gate_separates(project: SyntheticProject) -> None:
    ours = Ours(project)
    calls = up_calls(engine_calls(ours, app_env="prod", expect=(0,)))
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
    first_healthy = min(e["End"] for e in json.loads(health) if e["ExitCode"] == 0)
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
