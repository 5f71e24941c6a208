"""A team switches `.env` between an environment on the swarm and one on Compose: every
command finds the copy where it runs (reconciler/reads/placement.py), on the local
3-node swarm (`just swarm-up`) and the local engine, through the real `reconcile`.

A one-service project (busybox) whose prod runs on the swarm and dev on Compose, the
tests in order as a user would go: dev up locally, .env to prod, `reconcile` refuses
and `down` removes the local copy; prod up on the swarm, .env to dev: `status` shows
the swarm copy, `reconcile` refuses with both copies untouched, `down` removes it
there; two copies: status warns, down refuses until told which; a broken environment
table: down still finds the swarm copy. Runs with RECONCILE_SWARM=1 (`just test-swarm`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.test_swarm_infra import manager, swarm_answers

pytestmark = pytest.mark.skipif(
    os.environ.get("RECONCILE_SWARM") != "1",
    reason="needs the local swarm: run `just test-swarm` (RECONCILE_SWARM=1)",
)
COMPOSE = """services:
  web:
    image: spot-busybox:local
    command: ["sleep", "3600"]
    init: true
    pull_policy: never
    environment:
      APP_ENV: ${APP_ENV:-prod}
"""
TABLE = """default = "prod"
[environments.prod]
description = "on the swarm"
files = ["compose.yaml"]
backend = "swarm"
[environments.dev]
description = "on the local engine"
files = ["compose.yaml"]
"""


@dataclass
class Switched:
    directory: Path
    name: str

    def use(self, app_env: str) -> None:
        """What the team does: edit APP_ENV in .env."""
        (self.directory / ".env").write_text(f"APP_ENV={app_env}\n")

    def reconcile(self, *args: str) -> subprocess.CompletedProcess[str]:
        # APP_ENV comes from .env only (`just test-swarm` exports APP_ENV=test).
        env = {k: v for k, v in os.environ.items() if k != "APP_ENV"}
        done = subprocess.run(
            [sys.executable, "-m", "reconciler", *args, "--project-name", self.name],
            cwd=self.directory,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        print(f"$ reconcile {' '.join(args)}  (exit {done.returncode})")
        print(done.stdout + done.stderr)
        return done

    def on_swarm(self) -> dict[str, int]:
        """The project's services on the swarm: name -> spec version (changes on any write)."""
        ids = manager(
            "service", "ls", "-q", "--filter", f"label=com.docker.stack.namespace={self.name}"
        ).stdout.split()
        found = json.loads(manager("service", "inspect", *ids).stdout) if ids else []
        return {s["Spec"]["Name"]: s["Version"]["Index"] for s in found}

    def local(self) -> list[str]:
        """The project's containers on the local engine: name and state."""
        out = subprocess.run(
            ["docker", "ps", "-a", "--filter", f"label=com.docker.compose.project={self.name}",
             "--format", "{{.Names}} {{.State}}"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        return sorted(out.splitlines())


def refused(done: subprocess.CompletedProcess[str], *parts: str) -> None:
    """Exit 1, one line on stderr holding `parts`, no traceback, nothing on stdout."""
    assert done.returncode == 1, done.stdout + done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert done.stdout == ""
    for part in parts:
        assert part in done.stderr


@pytest.fixture(scope="module")
def switched(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Switched]:
    if not swarm_answers():
        pytest.fail("RECONCILE_SWARM=1 but no swarm answers: run `just swarm-up`")
    directory = tmp_path_factory.mktemp("switch")
    (directory / "compose").mkdir()
    (directory / "compose" / "compose.yaml").write_text(COMPOSE)
    (directory / "compose" / "environments.toml").write_text(TABLE)
    project = Switched(directory, f"spotit-backendrun-{uuid.uuid4().hex[:6]}")
    try:
        yield project
    finally:
        label = f"label=com.docker.compose.project={project.name}"
        for kind in ("container", "network"):
            ids = subprocess.run(
                ["docker", kind, "ls", "-q", *(["-a"] if kind == "container" else []),
                 "--filter", label], capture_output=True, text=True,
            ).stdout.split()  # fmt: skip
            if ids:
                subprocess.run(["docker", kind, "rm", *(["-f"] if kind == "container" else []),
                                *ids], capture_output=True)  # fmt: skip
        manager("stack", "rm", project.name)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (
            project.on_swarm()
            or manager(
                "network",
                "ls",
                "-q",
                "--filter",
                f"label=com.docker.stack.namespace={project.name}",
            ).stdout.strip()
        ):
            time.sleep(0.5)


def test_from_compose_to_the_swarm_apply_refuses_until_the_local_copy_is_down(
    switched: Switched,
) -> None:
    switched.use("dev")
    assert switched.reconcile().returncode == 0
    assert switched.local() == [f"{switched.name}-web-1 running"]
    switched.use("prod")
    for args in (("--plan",), ()):
        refused(
            switched.reconcile(*args),
            f"project {switched.name} runs on the compose backend, but APP_ENV=prod",
            "uses swarm",
            "nothing was changed",
            "`reconcile down --backend compose`",
        )
    assert switched.on_swarm() == {} and switched.local() == [f"{switched.name}-web-1 running"]
    down = switched.reconcile("down")
    assert down.returncode == 0, down.stderr
    assert "runs on local Compose, but APP_ENV=prod" in down.stderr
    assert switched.local() == []


def test_from_the_swarm_to_compose_status_finds_it_apply_refuses_down_removes_it(
    switched: Switched,
) -> None:
    applied = switched.reconcile()  # prod, nothing left locally: deploys to the swarm
    assert applied.returncode == 0, applied.stderr
    deployed = switched.on_swarm()
    assert list(deployed) == [f"{switched.name}_web"]
    switched.use("dev")
    status = switched.reconcile("status")
    assert status.returncode == 0, status.stderr
    assert f"project {switched.name} runs on the swarm, but APP_ENV=dev" in status.stderr
    assert f"{switched.name}_web.1" in status.stdout and "running: prod" in status.stdout
    for args in (("--plan",), (), ("restart",)):
        refused(
            switched.reconcile(*args),
            f"project {switched.name} runs on the swarm backend, but APP_ENV=dev",
            "uses compose: applying here would start a second copy",
            "`reconcile down --backend swarm`",
        )
    assert switched.on_swarm() == deployed and switched.local() == []  # nothing touched
    down = switched.reconcile("down")
    assert down.returncode == 0, down.stderr
    assert "removing it there" in down.stderr and switched.on_swarm() == {}
    assert switched.local() == []


def test_two_copies_status_warns_down_refuses_until_told_which(switched: Switched) -> None:
    assert switched.reconcile().returncode == 0  # dev, on the local engine
    explicit = switched.reconcile("--backend", "swarm")  # --backend keeps its meaning
    assert explicit.returncode == 0, explicit.stderr
    both = switched.on_swarm(), switched.local()
    status = switched.reconcile("status")
    assert status.returncode == 0
    assert f"warning: project {switched.name} also runs on the swarm" in status.stderr
    assert f"{switched.name}-web-1" in status.stdout  # APP_ENV's copy: the local one
    refused(
        switched.reconcile("down"),
        "runs on both backends",
        "`reconcile down --backend compose` or `--backend swarm`",
    )
    assert (switched.on_swarm(), switched.local()) == both
    assert switched.reconcile("down", "--backend", "compose").returncode == 0
    assert switched.local() == [] and switched.on_swarm() == both[0]


def test_with_a_broken_environment_table_down_still_finds_the_swarm_copy(
    switched: Switched,
) -> None:
    table = switched.directory / "compose" / "environments.toml"
    table.write_text(TABLE + "broken [\n")
    assert switched.reconcile("status").returncode == 1  # status needs the table
    stop = switched.reconcile("stop")
    assert stop.returncode == 0, stop.stderr
    assert "environments.toml cannot be read: stopping it there" in stop.stderr
    down = switched.reconcile("down")
    assert down.returncode == 0, down.stderr
    assert switched.on_swarm() == {}
    table.write_text(TABLE)
