"""What the engine really does to one container (the real engine, by container id).

A paused container is unpaused (Docker refuses to start one), never started; one
replica of a scaled service is repaired alone: the others keep their ids and keep
running, also when the one to repair is what a killed Compose recreate leaves (the new
container still named `<old id12>_<project>-<service>-<n>`). Each then converges: a
second plan is empty.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from state.engine import NUMBER_LABEL
from tests.integration.plain_stack import PlainStack, unique_project_name

TABLE = """default = "test"
[environments.test]
description = "one scaled service"
files = ["compose.yaml"]
"""
COMPOSE = """services:
  worker:
    image: spot-busybox:local
    pull_policy: never
    init: true
    command: ["sleep", "3600"]
    scale: 3
"""


class Project:
    """A scaled busybox project on the real engine, driven through `reconcile`."""

    def __init__(self, directory: Path, name: str) -> None:
        self.directory, self.name = directory, name

    def reconcile(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "reconciler", *args],
            cwd=self.directory,
            capture_output=True,
            text=True,
            env={**os.environ, "APP_ENV": "test", "COMPOSE_PROJECT_NAME": self.name},
        )

    def containers(self) -> dict[str, tuple[int, str, str]]:
        """id -> (number, name, state) of every container of the project."""
        labelled = f"label=com.docker.compose.project={self.name}"
        ids = subprocess.run(
            ["docker", "ps", "-aq", "--no-trunc", "--filter", labelled],
            capture_output=True, text=True, check=True,
        ).stdout.split()  # fmt: skip
        if not ids:
            return {}
        found = json.loads(
            subprocess.run(
                ["docker", "inspect", *ids], capture_output=True, text=True, check=True
            ).stdout
        )
        return {
            c["Id"]: (
                int(c["Config"]["Labels"][NUMBER_LABEL]),
                c["Name"].lstrip("/"),
                c["State"]["Status"],
            )
            for c in found
        }

    def by_number(self, number: int) -> str:
        (found,) = [cid for cid, (n, _, _) in self.containers().items() if n == number]
        return found


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    (tmp_path / "compose").mkdir()
    (tmp_path / "compose/environments.toml").write_text(TABLE)
    (tmp_path / "compose/compose.yaml").write_text(COMPOSE)
    name = unique_project_name("replicas")
    made = Project(tmp_path, name)
    try:
        done = made.reconcile("--no-wait")
        assert done.returncode == 0, done.stderr
        yield made
    finally:
        PlainStack(directory=tmp_path, app_env="test", name=name).remove_everything()


def plan_of(project: Project) -> tuple[int, str]:
    done = project.reconcile("--plan")
    return done.returncode, done.stdout


def test_a_paused_container_is_unpaused_not_started(project: Project) -> None:
    paused = project.by_number(2)
    subprocess.run(["docker", "pause", paused], check=True, capture_output=True)
    code, shown = plan_of(project)
    assert code == 2 and "> unpause" in shown and "paused" in shown, shown
    before = project.containers()
    done = project.reconcile("--no-wait")
    assert done.returncode == 0, done.stderr
    after = project.containers()
    assert set(after) == set(before), "unpausing replaced a container"
    assert {state for _, _, state in after.values()} == {"running"}
    assert plan_of(project)[0] == 0


@pytest.mark.parametrize("beside_its_twin", [False, True], ids=["alone", "beside-the-old-one"])
def test_one_replica_is_repaired_alone_even_a_half_renamed_leftover(
    project: Project, beside_its_twin: bool
) -> None:
    """The leftover of a killed recreate: Compose made the new #2 as `<old id12>_name`
    and died before renaming it (and, beside its twin, before removing the old #2)."""
    old = project.by_number(2)
    leftover_name = f"{old[:12]}_{project.name}-worker-2"
    if beside_its_twin:  # the new #2, with Compose's labels, created beside the old one
        (inspected,) = json.loads(
            subprocess.run(["docker", "inspect", old], capture_output=True, check=True).stdout
        )
        labels = [f"--label={k}={v}" for k, v in inspected["Config"]["Labels"].items()]
        copy = subprocess.run(
            ["docker", "create", "--name", leftover_name, *labels, "spot-busybox:local",
             "sleep", "3600"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        leftovers = {copy}
    else:
        subprocess.run(["docker", "rename", old, leftover_name], check=True)
        leftovers = {old}
    others = {project.by_number(1), project.by_number(3)}
    code, shown = plan_of(project)
    assert code == 2, shown
    assert ("extra replica" if beside_its_twin else "left half-renamed") in shown, shown
    done = project.reconcile("--no-wait")
    assert done.returncode == 0, done.stderr + done.stdout
    after = project.containers()
    assert others <= set(after), "a replica the plan kept was replaced"
    assert not leftovers & set(after), "the leftover is still there"
    assert all(after[cid][2] == "running" for cid in others)
    assert len(after) == 3 and all(state == "running" for _, _, state in after.values())
    assert all("_" not in name for _, name, _ in after.values())
    assert plan_of(project)[0] == 0


ONE_SHOT = """services:
  migrate:
    image: spot-busybox:local
    pull_policy: never
    command: ["sh", "-c", "echo ran >> /runs/log"]
    volumes: [runs:/runs]
    scale: 2
  api:
    image: spot-busybox:local
    pull_policy: never
    init: true
    command: ["sleep", "3600"]
    depends_on:
      migrate: {condition: service_completed_successfully}
volumes:
  runs:
"""


def test_a_missing_one_shot_replica_is_made_without_running_the_other_again(
    tmp_path: Path,
) -> None:
    """`up --no-recreate migrate` would start the completed #1 again (a migration run
    twice); only the missing #2 is created and started."""
    (tmp_path / "compose").mkdir()
    (tmp_path / "compose/environments.toml").write_text(TABLE)
    (tmp_path / "compose/compose.yaml").write_text(ONE_SHOT)
    name = unique_project_name("oneshot-gap")
    made = Project(tmp_path, name)
    try:
        done = made.reconcile()
        assert done.returncode == 0, done.stderr
        ids = {name: cid for cid, (_, name, _) in made.containers().items()}
        first, second = ids[f"{name}-migrate-1"], ids[f"{name}-migrate-2"]
        started = _state(first, "StartedAt")
        subprocess.run(["docker", "rm", second], check=True, capture_output=True)
        code, shown = plan_of(made)
        assert code == 2 and "+ create" in shown and "migrate" in shown, shown
        done = made.reconcile()
        assert done.returncode == 0, done.stderr + done.stdout
        assert _state(first, "StartedAt") == started, "the completed replica ran again"
        runs = subprocess.run(
            ["docker", "run", "--rm", "-v", f"{name}_runs:/runs", "spot-busybox:local",
             "cat", "/runs/log"],
            capture_output=True, text=True, check=True,
        ).stdout.split()  # fmt: skip
        assert runs == ["ran"] * 3, "two first runs and the new replica's, nothing more"
        assert plan_of(made)[0] == 0
    finally:
        PlainStack(directory=tmp_path, app_env="test", name=name).remove_everything()


def _state(container: str, field: str) -> str:
    """One field of the container's State, as `docker inspect` shows it."""
    return subprocess.run(
        ["docker", "inspect", "-f", f"{{{{.State.{field}}}}}", container],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip


HEALTHY = """services:
  web:
    image: spot-busybox:local
    pull_policy: never
    init: true
    command: ["sleep", "3600"]
    healthcheck: {test: ["CMD", "true"], interval: 1s, timeout: 2s, retries: 1}
"""


def test_an_unpaused_container_unhealthy_from_its_pause_is_waited_for(tmp_path: Path) -> None:
    """Probes fail while paused; after unpause Docker reads `unhealthy` until the next
    probe. The health gate waits for that probe instead of failing the apply."""
    (tmp_path / "compose").mkdir()
    (tmp_path / "compose/environments.toml").write_text(TABLE)
    (tmp_path / "compose/compose.yaml").write_text(HEALTHY)
    name = unique_project_name("unpause-health")
    made = Project(tmp_path, name)
    try:
        assert made.reconcile().returncode == 0
        (web,) = made.containers()
        subprocess.run(["docker", "pause", web], check=True, capture_output=True)
        for _ in range(60):
            if _state(web, "Health.Status") == "unhealthy":
                break
            time.sleep(0.5)
        health = _state(web, "Health.Status")
        assert health == "unhealthy", "the paused container's probes never failed"
        done = made.reconcile()
        assert done.returncode == 0, done.stderr + done.stdout
        assert "unpause" in done.stdout and _state(web, "Health.Status") == "healthy"
        assert plan_of(made)[0] == 0
    finally:
        PlainStack(directory=tmp_path, app_env="test", name=name).remove_everything()
