"""A copy of the SPOT stack driven with plain `docker compose`, for the stack's own tests.

Each PlainStack works on a private copy of compose/ (so a test may edit the source to
see hot reload), under its own project name, with free ports on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from state.resolve.project import COMPOSE_DIR, ComposeProject, load_project

REPO = Path(__file__).resolve().parents[2]
PORT_VARIABLES = ("API_PORT", "ADMINER_PORT", "MAILHOG_PORT", "DEBUG_PORT_1", "DEBUG_PORT_2")


def require_engine(*, images: bool = True) -> None:
    """An engine with Compose v2 answers, and (`images`) every image the stack uses."""
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
    info = subprocess.run(["docker", "info"], capture_output=True, text=True)
    if probe.returncode != 0 or info.returncode != 0:
        raise RuntimeError("no Docker engine with Compose v2 answers: run `just engine` first")
    if images:
        require_images()


def require_images() -> None:
    """Every image the three environments use exists (the test recipes build them)."""
    listed = subprocess.run(
        [sys.executable, str(REPO / COMPOSE_DIR / "images/wanted.py"), "prod", "dev", "test"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    missing = [
        image
        for image in listed
        if subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode
    ]
    if missing:
        raise RuntimeError(
            f"missing images {', '.join(missing)}: run `just images prod dev test` "
            "(`just test` and `just test-integration` do)"
        )


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def copy_project(destination: Path, ports: dict[str, int]) -> Path:
    """A project directory holding a copy of compose/ and a .env with the given ports."""
    shutil.copytree(
        REPO / COMPOSE_DIR,
        destination / COMPOSE_DIR,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    (destination / ".env").write_text("".join(f"{k}={v}\n" for k, v in ports.items()))
    return destination


def unique_project_name(label: str) -> str:
    return f"spotit-{label}-{uuid.uuid4().hex[:6]}"


@dataclass
class PlainStack:
    """One environment of the stack, brought up by `docker compose` itself."""

    directory: Path
    app_env: str
    name: str
    ports: dict[str, int] = field(default_factory=dict)

    @classmethod
    def create(cls, root: Path, app_env: str, label: str) -> PlainStack:
        ports = dict(zip(PORT_VARIABLES, free_ports(len(PORT_VARIABLES)), strict=True))
        directory = copy_project(root, ports)
        return cls(
            directory=directory, app_env=app_env, name=unique_project_name(label), ports=ports
        )

    @property
    def project(self) -> ComposeProject:
        return load_project(
            self.directory, project_name=self.name, process_env={"APP_ENV": self.app_env}
        )

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.ports['API_PORT']}"

    def compose(
        self, *args: str, check: bool = True, timeout: float = 180
    ) -> subprocess.CompletedProcess[str]:
        project = self.project
        env = {**_inherited_environment(), **project.process_variables()}
        proc = subprocess.run(
            ["docker", "compose", *project.compose_args(), *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"docker compose {' '.join(args)} failed:\n{proc.stderr}")
        return proc

    def up(self) -> None:
        self.compose("up", "--detach", "--wait", "--wait-timeout", "120")

    def down(self, *, volumes: bool) -> None:
        self.compose("down", "--timeout", "5", *(["--volumes"] if volumes else []), check=False)

    def remove_everything(self) -> None:
        """Cleanup: every container of the project in any profile, its networks and volumes.

        `compose down` only sees the active profiles' services; a container of another
        profile keeps the network busy, and leaked networks exhaust Docker's address
        pools after a few dozen runs. So: containers by label first, then down, then
        whatever network or volume still carries the project's label."""
        label = f"label=com.docker.compose.project={self.name}"
        ids = [c["Id"] for c in self.containers()]
        if ids:
            subprocess.run(["docker", "rm", "-f", *ids], capture_output=True)
        self.down(volumes=True)
        for kind in ("network", "volume"):
            names = subprocess.run(
                ["docker", kind, "ls", "-q", "--filter", label], capture_output=True, text=True
            ).stdout.split()
            if names:
                subprocess.run(["docker", kind, "rm", *names], capture_output=True)

    def containers(self) -> list[dict[str, Any]]:
        """`docker inspect` of every container of the project (all states)."""
        ids = subprocess.run(
            ["docker", "ps", "-aq", "--filter", f"label=com.docker.compose.project={self.name}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        if not ids:
            return []
        out = subprocess.run(
            ["docker", "inspect", *ids], capture_output=True, text=True, check=True
        )
        result: list[dict[str, Any]] = json.loads(out.stdout)
        return result

    def running_services(self) -> set[str]:
        return {
            c["Config"]["Labels"]["com.docker.compose.service"]
            for c in self.containers()
            if c["State"]["Running"]
        }

    def exec(self, service: str, *command: str) -> str:
        return self.compose("exec", "-T", service, *command).stdout

    def get(self, path: str) -> httpx.Response:
        return httpx.get(self.api + path, timeout=5)


def _inherited_environment() -> dict[str, str]:
    """The caller's environment, less what would override the copy's .env or name."""
    return {
        key: value
        for key, value in os.environ.items()
        if key not in PORT_VARIABLES and not key.startswith("COMPOSE_")
    }


def wait_for(predicate: Any, *, timeout: float, interval: float = 0.25) -> bool:
    """Poll `predicate` until it is true or `timeout` seconds passed; return the last answer."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def reconcile_command(stack: PlainStack, *args: str) -> list[str]:
    """`python -m reconciler ARGS` aimed at `stack`'s project name and directory."""
    return [
        sys.executable,
        "-m",
        "reconciler",
        *args,
        "--project-name",
        stack.name,
        "--project-directory",
        str(stack.directory),
    ]


def reconcile_environment(app_env: str | None) -> dict[str, str]:
    """The environment `reconcile` runs with in tests.

    The test process's own APP_ENV (always test) and LOG_LEVEL are not passed on: each
    call says which environment it wants, or leaves it to the copy's .env.
    """
    env = {k: v for k, v in _inherited_environment().items() if k not in ("APP_ENV", "LOG_LEVEL")}
    if app_env is not None:
        env["APP_ENV"] = app_env
    return env


def reconcile(
    stack: PlainStack, *args: str, app_env: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real `reconcile` entry point against `stack`, as a user would."""
    return subprocess.run(
        reconcile_command(stack, *args),
        capture_output=True,
        text=True,
        env=reconcile_environment(app_env),
        cwd=REPO,
        timeout=300,
    )


def start_reconcile(
    stack: PlainStack, *args: str, app_env: str | None = None
) -> subprocess.Popen[str]:
    """`reconcile` in the background, its stdout and stderr merged into one pipe."""
    return subprocess.Popen(
        reconcile_command(stack, *args),
        env=reconcile_environment(app_env),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def fingerprint(stack: PlainStack) -> list[tuple[Any, ...]]:
    """What must not change: every container's id, state, start time and APP_ENV."""
    return sorted(
        (c["Id"], c["State"]["Status"], c["State"]["StartedAt"], tuple(c["Config"]["Env"]))
        for c in stack.containers()
    )


_PREDICTED = re.compile(r"\s+down ~[\d.]+ s (from .*)$")


def action_words(line: str) -> list[str]:
    """A plan's action line as words, without its predicted downtime (`down ~N s from
    config`), which varies with the service's history."""
    return _PREDICTED.sub("", line).split()


def moment(text: str) -> datetime:
    """Docker's RFC 3339 time (nanoseconds, trailing zeros trimmed, Z) as a datetime."""
    found = re.fullmatch(r"(.*?:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", text.strip())
    assert found, f"not a Docker time: {text!r}"
    head, fraction, zone = found.groups()
    zone = "+00:00" if zone == "Z" else zone
    return datetime.fromisoformat(f"{head}.{(fraction or '0')[:6]:0<6}{zone}")
