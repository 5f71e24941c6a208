"""Start-first recreates on the real engine, through `reconcile`.

A service with `deploy.update_config.order: start-first` (an ephemeral host port: it
can run twice) is recreated by a configuration change while a probe reads `docker ps`
every ~0.1 s: at no moment has the service no healthy container, the old one runs
until the new one is healthy, then is removed; the new one is #2, as Compose numbers
it. A new configuration whose healthcheck fails: the new container is removed, the
old one keeps running untouched (same id, same start, no restart). A service that
cannot run twice (a fixed host port) is told so in the plan.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from state.engine import NUMBER_LABEL
from tests.integration.plain_stack import PlainStack, free_ports, unique_project_name

TABLE = """default = "test"
[environments.test]
description = "one start-first service"
files = ["compose.yaml"]
"""
COMPOSE = """services:
  web:
    image: spot-busybox:local
    pull_policy: never
    init: true
    command: ["sh", "-c", "sleep {delay}; touch /ready; exec sleep 3600"]
    environment:
      VERSION: "{version}"
    healthcheck:
      test: ["CMD", "{probe}", "-f", "/ready"]
      interval: 1s
      retries: 1
      start_period: {grace}
    ports: ["{ports}"]
    deploy:
      update_config:
        order: start-first
"""


def compose(
    version: int, *, delay: int = 0, probe: str = "test", ports: str = "80", grace: str = "20s"
) -> str:
    """The service's file: `delay` seconds until ready, `probe` (`false`: never)."""
    return COMPOSE.format(version=version, delay=delay, probe=probe, ports=ports, grace=grace)


class Project:
    def __init__(self, directory: Path, name: str) -> None:
        self.directory, self.name = directory, name

    def write(self, text: str) -> None:
        (self.directory / "compose/compose.yaml").write_text(text)

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "reconciler", *args]

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "APP_ENV": "test", "COMPOSE_PROJECT_NAME": self.name}

    def reconcile(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(*args), cwd=self.directory, capture_output=True, text=True, env=self.env
        )

    def containers(self) -> list[tuple[str, str, str, str]]:
        """(id, name, status, container number) of every container of the project."""
        labelled = f"label=com.docker.compose.project={self.name}"
        out = subprocess.run(
            ["docker", "ps", "-a", "--no-trunc", "--filter", labelled, "--format",
             "{{.ID}}\t{{.Names}}\t{{.Status}}\t{{.Label \"" + NUMBER_LABEL + "\"}}"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        return [tuple(line.split("\t")) for line in out.splitlines() if line]  # type: ignore[misc]

    def inspect(self, cid: str, template: str) -> str:
        return subprocess.run(
            ["docker", "inspect", "--format", template, cid],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    (tmp_path / "compose").mkdir()
    (tmp_path / "compose/environments.toml").write_text(TABLE)
    made = Project(tmp_path, unique_project_name("startfirst"))
    made.write(compose(1))
    try:
        done = made.reconcile()
        assert done.returncode == 0, done.stderr + done.stdout
        yield made
    finally:
        PlainStack(directory=tmp_path, app_env="test", name=made.name).remove_everything()


class Probe:
    """`docker ps` of the project, over and over, in a thread: what ran when."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.samples: list[list[tuple[str, str, str, str]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Probe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(self.project.containers())
            time.sleep(0.05)


def healthy(sample: list[tuple[str, str, str, str]]) -> set[str]:
    return {cid for cid, _, status, _ in sample if "(healthy)" in status}


def test_the_old_container_serves_until_the_new_one_is_ready(project: Project) -> None:
    ((old, old_name, _, number),) = project.containers()
    assert number == "1"
    project.write(compose(2, delay=3))  # the new one takes ~3 s to be healthy
    shown = project.reconcile("--plan").stdout
    print(shown)
    assert f"~ recreate (start-first) {old_name}" in shown, shown
    assert "(its replacement is #2)" in shown and "start-first: the old container" in shown
    with Probe(project) as probe:
        done = project.reconcile()
    print(done.stderr, done.stdout)
    assert done.returncode == 0, done.stderr + done.stdout
    ((new, new_name, status, number),) = project.containers()
    assert (number, new_name) == ("2", f"{project.name}-web-2"), "Compose's next number"
    assert new != old and "(healthy)" in status
    both = [s for s in probe.samples if len(s) == 2]
    assert both, "the new container was seen beside the old one"
    assert all(old in healthy(s) for s in both if new not in healthy(s)), (
        "the old one ran (healthy) until the new one was healthy"
    )
    assert all(healthy(s) for s in probe.samples), "a moment with no healthy container"
    print(f"{len(probe.samples)} samples, {len(both)} with both containers; never none healthy")
    assert project.reconcile("--plan").returncode == 0, "converged"
    receipt = project.reconcile("history", "show", "1").stdout
    print(receipt)
    actions, unavailable = receipt.split("unavailable (measured")
    assert f"~ recreate (start-first) {old_name}" in actions, receipt
    assert " web " not in unavailable, "a start-first recreate measures no unavailability"


def test_a_new_container_never_ready_is_removed_and_the_old_one_untouched(
    project: Project,
) -> None:
    ((old, old_name, _, _),) = project.containers()
    started = project.inspect(old, "{{.State.StartedAt}} {{.RestartCount}}")
    project.write(compose(2, probe="false", grace="0s"))  # unhealthy at its first check
    with Probe(project) as probe:
        done = project.reconcile()
    print(done.stderr, done.stdout)
    assert done.returncode == 1, done.stderr + done.stdout
    assert f"{old_name} kept serving" in done.stderr + done.stdout
    ((left, name, _, number),) = project.containers()
    assert (left, name, number) == (old, old_name, "1"), "only the old one is left"
    assert project.inspect(old, "{{.State.StartedAt}} {{.RestartCount}}") == started
    assert project.inspect(old, "{{.State.Status}}") == "running"
    assert any(len(s) == 2 for s in probe.samples), "a new container was made, then removed"
    assert all(old in healthy(s) for s in probe.samples), "the old one was never stopped"


def test_a_fixed_host_port_refuses_start_first_in_the_plan(project: Project) -> None:
    (port,) = free_ports(1)
    project.write(compose(2, ports=f"127.0.0.1:{port}:80"))
    done = project.reconcile("--plan")
    assert done.returncode == 2, done.stderr
    line = next(line for line in done.stdout.splitlines() if "~ recreate" in line)
    assert f"start-first refused: host port 127.0.0.1:{port} is fixed; stop-first" in line, line
    assert "recreate (start-first)" not in line


def test_killed_with_both_containers_the_next_run_converges_to_one(project: Project) -> None:
    """SIGKILL while the new container is beside the old one: the next plan sees both
    and ends with one container of the new configuration, numbered as Compose would."""
    ((old, _, _, _),) = project.containers()
    project.write(compose(2, delay=3))
    running = subprocess.Popen(
        project.command(), cwd=project.directory, env=project.env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while len(project.containers()) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(project.containers()) == 2, "the new container never appeared"
    finally:
        running.kill()
        running.wait()
    shown = project.reconcile("--plan").stdout
    print(shown)
    assert "- remove" in shown, "the next plan sees the extra container"
    done = project.reconcile()
    print(done.stdout)
    assert done.returncode == 0, done.stderr + done.stdout
    ((new, name, status, number),) = project.containers()
    assert new != old and "(healthy)" in status
    assert (number, name) == ("2", f"{project.name}-web-2")
    assert "VERSION=2" in project.inspect(new, "{{.Config.Env}}")
    assert project.reconcile("--plan").returncode == 0
