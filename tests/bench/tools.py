"""The two tools under comparison, driven the way a user drives them.

`Ours` runs the installed `reconcile` entry point; `Compose` runs `docker compose`
with the very arguments and environment the reconciler hands Compose for the same
project and APP_ENV (files, profiles, project directory and name). Each call checks
its exit code, so a run that failed is never timed as a fast one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from state.resolve.project import load_project
from tests.bench.synthetic import SyntheticProject

RECONCILE = Path(sys.executable).parent / "reconcile"
TIMEOUT_S = 600


class ToolFailed(RuntimeError):
    """A benchmarked command exited with an unexpected code."""


def _environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The caller's environment without anything that would steer either tool."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("APP_ENV", "LOG_LEVEL") and not k.startswith("COMPOSE_")
    }
    return {**env, **(extra or {})}


def _run(command: Sequence[str], env: dict[str, str], expect: Sequence[int] = (0,)) -> str:
    proc = subprocess.run(command, capture_output=True, text=True, env=env, timeout=TIMEOUT_S)
    if proc.returncode not in expect:
        raise ToolFailed(
            f"{' '.join(command)} exited {proc.returncode}:\n{proc.stdout}{proc.stderr}"
        )
    return proc.stdout + proc.stderr


class Ours:
    """`reconcile` on the synthetic project."""

    name = "ours"

    def __init__(self, project: SyntheticProject) -> None:
        self.project = project

    def command(self, *args: str) -> list[str]:
        target = ["--project-name", self.project.name]
        target += ["--project-directory", str(self.project.directory)]
        return [str(RECONCILE), *args, *target]

    def run(self, *args: str, app_env: str, expect: Sequence[int] = (0,)) -> str:
        return _run(self.command(*args), _environment({"APP_ENV": app_env}), expect)

    def plan(self, app_env: str) -> None:
        self.run("--plan", app_env=app_env)  # exit 0: nothing to do, else it failed

    def up(self, app_env: str) -> None:
        self.run(app_env=app_env)

    def status(self, app_env: str) -> None:
        self.run("status", app_env=app_env)

    def stop(self, app_env: str) -> None:
        self.run("stop", app_env=app_env)

    def switch(self, app_env: str) -> None:
        self.up(app_env)


class Compose:
    """`docker compose` on the same files, profiles, project name and variables."""

    name = "compose"

    def __init__(self, project: SyntheticProject) -> None:
        self.project = project

    def run(self, *args: str, app_env: str) -> str:
        project = load_project(
            self.project.directory,
            project_name=self.project.name,
            process_env={"APP_ENV": app_env},
        )
        command = ["docker", "compose", *project.compose_args(), *args]
        return _run(command, _environment(project.process_variables()))

    def plan(self, app_env: str) -> None:
        # Compose has no plan: its cheapest answer to "is it converged" is a no-op up.
        self.run("up", "--detach", app_env=app_env)

    def up(self, app_env: str) -> None:
        # --wait: reconcile also waits until every service is healthy or running.
        self.run("up", "--detach", "--wait", "--remove-orphans", app_env=app_env)

    def status(self, app_env: str) -> None:
        self.run("ps", app_env=app_env)

    def stop(self, app_env: str) -> None:
        self.run("stop", app_env=app_env)

    def switch(self, app_env: str) -> None:
        """up, then remove the services of profiles no longer active: `--remove-orphans`
        keeps them (they are in the files), where reconcile removes them."""
        self.up(app_env)
        unwanted = sorted(
            {s.name for s in self.project.specs} - set(self.project.services(app_env))
        )
        if unwanted:
            self.run("rm", "--stop", "--force", *unwanted, app_env=app_env)


Tool = Ours | Compose


def engine_calls(ours: Ours, *args: str, app_env: str, expect: Sequence[int]) -> list[str]:
    """Every `docker` process `reconcile ARGS` starts, counted by a shim first on PATH."""
    return engine_calls_per_run(ours, *args, app_env=app_env, expect=expect, runs=1)[0]


def engine_calls_per_run(
    ours: Ours, *args: str, app_env: str, expect: Sequence[int], runs: int
) -> list[list[str]]:
    """The `docker` processes of each of `runs` runs of `reconcile ARGS`, one shim for all:
    the first run's compose config answers are cached (the shim is a new `docker` on
    PATH, so a new key), the later runs are answered by the cache."""
    real = shutil.which("docker")
    if real is None:
        raise ToolFailed("no docker client on PATH")
    found: list[list[str]] = []
    with tempfile.TemporaryDirectory(prefix="spotbench-shim-") as shim:
        log = Path(shim) / "calls.log"
        script = Path(shim) / "docker"
        script.write_text(f'#!/bin/sh\necho "$*" >> "{log}"\nexec "{real}" "$@"\n')
        script.chmod(0o755)
        env = _environment({"APP_ENV": app_env, "PATH": f"{shim}:{os.environ['PATH']}"})
        for _ in range(runs):
            log.unlink(missing_ok=True)
            _run(ours.command(*args), env, expect)
            found.append(log.read_text().splitlines() if log.exists() else [])
    return found
