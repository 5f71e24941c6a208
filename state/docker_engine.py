"""The real engine: the Docker CLI and Compose v2 through python-on-whales.

The one module that imports python_on_whales. Every call goes through `_run`, which
logs it, counts it (tests prove reads take a constant number of calls) and maps
Docker's failures onto TransientError / PermanentError. Two calls bypass it:
`log_tail` (it needs stderr too, and a failure there is reported, not raised) and
`stream_logs` (it streams to the terminal). Compose is called with the project's
name, files, profiles and env files, and with the resolved variables (APP_ENV, the
environment's own) in its process environment: python-on-whales has no per-client
environment, so the client call is prefixed with `env VAR=value`. Without a
ComposeProject (stop, down, logs, which need only the project's name) only the
container-side calls are available.
"""

from __future__ import annotations

import json
import logging
import subprocess
import tempfile
from collections.abc import Sequence
from typing import Any

from python_on_whales import DockerClient
from python_on_whales.exceptions import DockerException
from python_on_whales.utils import run

from state.docker_inspect import parse_inspect
from state.engine import PROJECT_LABEL, ContainerRecord
from state.errors import ConfigError, EngineError, PermanentError, TransientError
from state.project import ComposeProject

log = logging.getLogger(__name__)

_TRANSIENT_MARKERS = (
    "cannot connect to the docker daemon",
    "is the docker daemon running",
    "connection refused",
    "i/o timeout",
    "is already in use by container",  # a name still held by a concurrent removal
    "removal of container",
    "is already in progress",
    "no such container",
    "context deadline exceeded",
)


def classify(stderr: str) -> type[EngineError]:
    """Transient errors are worth retrying; everything else fails at once."""
    text = stderr.lower()
    if any(marker in text for marker in _TRANSIENT_MARKERS):
        return TransientError
    return PermanentError


_FIXES = (
    (("cannot connect to the docker daemon",), "Start it with `just engine`."),
    (
        ("address already in use", "port is already allocated"),
        "Another program holds that port: stop it, or choose another in .env "
        "(API_PORT, ADMINER_PORT, MAILHOG_PORT, DEBUG_PORT_1, DEBUG_PORT_2).",
    ),
    (
        ("no such image", "pull access denied", "not found: manifest unknown"),
        "Build the images with `just images`.",
    ),
)


def fix_for(stderr: str) -> str:
    """The fix for a failure we recognise, as a sentence to append ("" otherwise)."""
    text = stderr.lower()
    return next((f" {fix}" for markers, fix in _FIXES if any(m in text for m in markers)), "")


def first_line(stderr: str) -> str:
    """The informative line of Docker's stderr (skipping blank and progress lines)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line.lower()]
    return (errors or lines or ["(no message)"])[-1]


class DockerEngine:
    """The Engine port (ComposeSource and ContainerEngine) on the real Docker engine."""

    def __init__(self, project: ComposeProject | None = None) -> None:
        self._project = project
        self.calls = 0
        if project is None:
            self.client = DockerClient()
            return
        prefix = ["env", *(f"{key}={value}" for key, value in project.process_variables().items())]
        self.client = DockerClient(
            client_call=[*prefix, "docker"],
            compose_files=list(project.files),
            compose_profiles=list(project.profiles),
            compose_env_files=list(project.env_files()),
            compose_project_name=project.name,
            compose_project_directory=project.compose_dir,
        )

    @property
    def project(self) -> ComposeProject:
        if self._project is None:
            raise AssertionError("a Compose call needs DockerEngine(project)")
        return self._project

    # -- the choke point ---------------------------------------------------------
    def _run(self, args: Sequence[str], *, what: str) -> str:
        self.calls += 1
        try:
            return str(run([str(arg) for arg in args]))
        except DockerException as exc:
            stderr = exc.stderr or ""
            log.debug("%s failed (%s): %s", what, exc.return_code, stderr)
            message = f"{what} failed: {first_line(stderr)}{fix_for(stderr)}"
            raise classify(stderr)(message) from None

    def _docker(self, *args: str, what: str) -> str:
        return self._run([*self.client.client_config.docker_cmd, *args], what=what)

    def _compose(self, *args: str, what: str) -> str:
        assert self.project, "compose calls need the project"
        return self._run([*self.client.client_config.docker_compose_cmd, *args], what=what)

    # -- ComposeSource -------------------------------------------------------------
    def compose_model(self) -> dict[str, Any]:
        try:
            model: dict[str, Any] = json.loads(
                self._compose("config", "--format", "json", what="docker compose config")
            )
        except PermanentError as exc:
            raise ConfigError(
                f"{exc}; fix the compose files in {self.project.compose_dir}"
            ) from None
        return model

    def config_hashes(self) -> dict[str, str]:
        out = self._compose("config", "--hash", "*", what="docker compose config --hash")
        return dict(line.split(" ", 1) for line in out.splitlines() if " " in line)

    def service_names_in_any_profile(self) -> frozenset[str]:
        # The same call with every profile enabled: which services exist at all.
        command = _drop_flag([*self.client.client_config.docker_compose_cmd], "--profile")
        out = self._run(
            [*command, "--profile", "*", "config", "--services"],
            what="docker compose config --services",
        )
        return frozenset(out.split())

    def image_ids(self, references: Sequence[str]) -> dict[str, str]:
        unique = sorted(set(references))
        if not unique:
            return {}
        out = self._docker(
            "image",
            "ls",
            "--no-trunc",
            "--format",
            "{{.Repository}}:{{.Tag}} {{.ID}}",
            what="docker image ls",
        )
        local = dict(line.split(" ", 1) for line in out.splitlines() if " " in line)
        return {ref: local[_with_tag(ref)] for ref in unique if _with_tag(ref) in local}

    # -- ContainerEngine -----------------------------------------------------------
    def containers(self, project: str) -> list[ContainerRecord]:
        ids = self._docker(
            "container",
            "ls",
            "--all",
            "--quiet",
            "--no-trunc",
            "--filter",
            f"label={PROJECT_LABEL}={project}",
            what="docker container ls",
        ).split()
        if not ids:
            return []
        return parse_inspect(
            self._docker("container", "inspect", *ids, what="docker container inspect")
        )

    # -- ContainerEngine: writes --------------------------------------------------
    def up(self, services: Sequence[str], *, force_recreate: bool) -> None:
        flags = ["--force-recreate"] if force_recreate else []
        self._compose(
            "up",
            "--detach",
            "--no-deps",
            "--no-build",
            "--pull",
            "never",
            *flags,
            *services,
            what=f"docker compose up {' '.join(services)}",
        )

    def start(self, container_ids: Sequence[str]) -> None:
        self._docker("container", "start", *container_ids, what="docker start")

    def unpause(self, container_ids: Sequence[str]) -> None:
        self._docker("container", "unpause", *container_ids, what="docker unpause")

    def restart(self, container_ids: Sequence[str]) -> None:
        self._docker("container", "restart", *container_ids, what="docker restart")

    def stop(self, container_ids: Sequence[str]) -> None:
        self._docker("container", "stop", *container_ids, what="docker stop")

    def remove(self, container_ids: Sequence[str]) -> None:
        # One at a time is not needed: `docker stop` and `rm` take many ids. A container
        # already gone (removed concurrently) is what we wanted, so it is not an error.
        present = self._present(container_ids)
        if present:
            self._docker("container", "stop", *present, what="docker stop")
            self._docker("container", "rm", *present, what="docker rm")

    def log_tail(self, container_id: str, lines: int) -> str:
        command = [
            *self.client.client_config.docker_cmd,
            "container",
            "logs",
            "--tail",
            str(lines),
            container_id,
        ]
        self.calls += 1
        try:
            stdout, stderr = run([str(a) for a in command], return_stderr=True)
        except DockerException as exc:
            return f"(no logs: {first_line(exc.stderr or '')})"
        return "\n".join(part for part in (str(stdout), str(stderr)) if part).strip()

    def _present(self, container_ids: Sequence[str]) -> list[str]:
        if not container_ids:
            return []
        out = self._docker(
            "container",
            "ls",
            "--all",
            "--quiet",
            "--no-trunc",
            *(arg for cid in container_ids for arg in ("--filter", f"id={cid}")),
            what="docker container ls",
        )
        found = set(out.split())
        return [cid for cid in container_ids if cid in found]

    # -- networks and volumes, by the project's label ---------------------------------
    def networks(self, project: str) -> list[str]:
        return self._labelled("network", project)

    def volumes(self, project: str) -> list[str]:
        return self._labelled("volume", project)

    def remove_networks(self, names: Sequence[str]) -> None:
        if names:
            self._docker("network", "rm", *names, what="docker network rm")

    def remove_volumes(self, names: Sequence[str]) -> None:
        if names:
            self._docker("volume", "rm", *names, what="docker volume rm")

    def _labelled(self, kind: str, project: str) -> list[str]:
        out = self._docker(
            kind,
            "ls",
            "--format",
            "{{.Name}}",
            "--filter",
            f"label={PROJECT_LABEL}={project}",
            what=f"docker {kind} ls",
        )
        return sorted(out.split())

    def stream_logs(
        self, project: str, services: Sequence[str], *, follow: bool, tail: str | None
    ) -> int:
        """`compose -p PROJECT logs` straight to this terminal; returns Compose's exit code.

        Run in an empty directory with no compose file, so Compose finds the project
        by its containers' labels: missing images or broken files do not matter."""
        command = [
            "docker",
            "compose",
            "--project-name",
            project,
            "logs",
            *(["--follow"] if follow else []),
            *(["--tail", tail] if tail else []),
            *services,
        ]
        log.debug("Running command: %s", " ".join(command))
        self.calls += 1
        with tempfile.TemporaryDirectory(prefix="reconcile-logs-") as empty:
            return subprocess.call(command, cwd=empty)


def _with_tag(reference: str) -> str:
    last = reference.rsplit("/", 1)[-1]
    return reference if ":" in last else f"{reference}:latest"


def _drop_flag(command: list[Any], flag: str) -> list[Any]:
    """`command` without every `flag VALUE` pair."""
    result: list[Any] = []
    skip = False
    for arg in command:
        if skip:
            skip = False
        elif arg == flag:
            skip = True
        else:
            result.append(arg)
    return result
