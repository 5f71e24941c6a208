"""The real engine: the Docker CLI and Compose v2 through python-on-whales.

The one module that imports python_on_whales (which builds the command lines). Every
call goes through `_run`, which logs it, counts it (tests prove reads take a constant
number of calls), bounds its time (EngineTimeout names the engine and the fix) and
maps Docker's failures onto TransientError / PermanentError. Compose is called with the
project's files, profiles and env files, and with the resolved variables (APP_ENV,
the environment's own) in its process environment: python-on-whales has no
per-client environment, so the client call is prefixed with `env VAR=value`.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import subprocess
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from python_on_whales import DockerClient

from state.bounded import run_bounded
from state.endpoint import engine_endpoint
from state.engine import PROJECT_LABEL, ContainerRecord, ContainerStatus
from state.engine_errors import classify, first_line, fix_for
from state.errors import ConfigError, ContainerGone, EngineTimeout, PermanentError
from state.project import ComposeProject
from state.timeouts import TIMEOUT_VARIABLE, UNBOUNDED, Timeouts

log = logging.getLogger(__name__)


class _Probe(BaseModel):
    model_config = ConfigDict(extra="ignore")
    output: str = Field(default="", alias="Output")


class _Health(BaseModel):
    model_config = ConfigDict(extra="ignore")
    status: str = Field(alias="Status")
    log: list[_Probe] | None = Field(default=None, alias="Log")


class _State(BaseModel):
    model_config = ConfigDict(extra="ignore")
    status: ContainerStatus = Field(alias="Status")
    exit_code: int | None = Field(default=None, alias="ExitCode")
    started_at: str | None = Field(default=None, alias="StartedAt")
    health: _Health | None = Field(default=None, alias="Health")


class _Config(BaseModel):
    model_config = ConfigDict(extra="ignore")
    labels: dict[str, str] | None = Field(default=None, alias="Labels")
    env: list[str] | None = Field(default=None, alias="Env")


class _Inspect(BaseModel):
    """The part of `docker container inspect` we read; tolerant of everything else."""

    model_config = ConfigDict(extra="ignore")
    id: str = Field(alias="Id")
    name: str = Field(alias="Name")
    image: str = Field(alias="Image")
    state: _State = Field(alias="State")
    config: _Config = Field(alias="Config")

    def record(self) -> ContainerRecord:
        env = dict(item.split("=", 1) for item in self.config.env or [] if "=" in item)
        return ContainerRecord(
            id=self.id,
            name=self.name.lstrip("/"),
            labels=self.config.labels or {},
            status=self.state.status,
            health=self.state.health.status if self.state.health else None,
            health_output=(
                self.state.health.log[-1].output.strip()
                if self.state.health and self.state.health.log
                else None
            ),
            exit_code=self.state.exit_code,
            env=env,
            image_id=self.image,
            started_at=self.state.started_at,
        )


def parse_inspect(payload: str) -> list[ContainerRecord]:
    """`docker container inspect` JSON -> records (the adapter's parse step, no I/O)."""
    try:
        return [_Inspect.model_validate(item).record() for item in json.loads(payload)]
    except (ValueError, ValidationError) as exc:
        raise PermanentError(f"unexpected `docker inspect` output: {exc}") from None


class DockerEngine:
    """ComposeSource and ContainerEngine on the real Docker engine."""

    def __init__(self, project: ComposeProject) -> None:
        self.project = project
        self.calls = 0
        prefix = ["env", *(f"{key}={value}" for key, value in project.process_variables().items())]
        self.client = DockerClient(
            client_call=[*prefix, "docker"],
            compose_files=list(project.files),
            compose_profiles=list(project.profiles),
            compose_env_files=list(project.env_files()),
            compose_project_name=project.explicit_name,
            compose_project_directory=project.compose_dir,
        )
        self.timeouts = Timeouts.from_environment(os.environ)

    # -- the choke point ---------------------------------------------------------
    def _run(self, args: Sequence[str], *, what: str, bound: float | None = None) -> str:
        """Run one engine call; its stdout, or the classified error with its fix."""
        completed = self._execute(args, what=what, bound=bound)
        if completed.returncode != 0:
            stderr = completed.stderr or ""
            log.debug("%s failed (%s): %s", what, completed.returncode, stderr)
            message = f"{what} failed: {first_line(stderr)}{fix_for(stderr)}"
            raise classify(stderr)(message)
        return (completed.stdout or "").removesuffix("\n")

    def _execute(
        self, args: Sequence[str], *, what: str, bound: float | None, capture: bool = True
    ) -> subprocess.CompletedProcess[str]:
        command = [str(arg) for arg in args]
        limit = self.timeouts.read if bound is None else bound
        self.calls += 1
        log.debug("Running command (bound %g s): %s", limit, shlex.join(command))
        try:
            return run_bounded(command, None if limit == UNBOUNDED else limit, capture=capture)
        except subprocess.TimeoutExpired:
            raise EngineTimeout(self._timeout_message(what, limit)) from None

    def _timeout_message(self, what: str, limit: float) -> str:
        return (
            f"{what}: no answer from the Docker engine at {engine_endpoint()} within "
            f"{limit:g} s; check that it responds (`docker info`; `just engine` starts it), "
            f"or raise {TIMEOUT_VARIABLE} (seconds for a read, now {self.timeouts.read:g})"
        )

    def _docker(self, *args: str, what: str, bound: float | None = None) -> str:
        return self._run([*self.client.client_config.docker_cmd, *args], what=what, bound=bound)

    def _compose(self, *args: str, what: str, bound: float | None = None) -> str:
        command = [*self.client.client_config.docker_compose_cmd, *args]
        return self._run(command, what=what, bound=bound)

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
            bound=self.timeouts.write(len(services)),
        )

    def start(self, container_ids: Sequence[str]) -> None:
        self._docker(
            "container",
            "start",
            *container_ids,
            what="docker start",
            bound=self.timeouts.write(len(container_ids)),
        )

    def unpause(self, container_ids: Sequence[str]) -> None:
        self._docker(
            "container",
            "unpause",
            *container_ids,
            what="docker unpause",
            bound=self.timeouts.write(len(container_ids)),
        )

    def restart(self, container_ids: Sequence[str]) -> None:
        self._docker(
            "container",
            "restart",
            *container_ids,
            what="docker restart",
            bound=self.timeouts.write(len(container_ids)),
        )

    def stop(self, container_ids: Sequence[str]) -> None:
        # A container gone meanwhile is stopped enough; the others were stopped anyway
        # (`docker stop` goes on past a missing id), so only those still here are retried.
        try:
            self._stop(container_ids)
        except ContainerGone:
            self._stop(self._present(container_ids))

    def _stop(self, container_ids: Sequence[str]) -> None:
        if container_ids:
            bound = self.timeouts.write(len(container_ids))
            self._docker("container", "stop", *container_ids, what="docker stop", bound=bound)

    def remove(self, container_ids: Sequence[str]) -> None:
        # One at a time is not needed: `docker stop` and `rm` take many ids. A container
        # already gone (removed concurrently) is what we wanted, so it is not an error.
        present = self._present(container_ids)
        if not present:
            return
        try:
            self._remove_present(present)
        except ContainerGone:
            self._remove_present(self._present(present))

    def _remove_present(self, container_ids: Sequence[str]) -> None:
        if container_ids:
            self._stop(container_ids)
            bound = self.timeouts.write(len(container_ids))
            self._docker("container", "rm", *container_ids, what="docker rm", bound=bound)

    def log_tail(self, container_id: str, lines: int) -> str:
        command = [
            *self.client.client_config.docker_cmd,
            "container",
            "logs",
            "--tail",
            str(lines),
            container_id,
        ]
        try:
            done = self._execute(command, what="docker logs", bound=None)
        except EngineTimeout as exc:
            return f"(no logs: {exc})"
        if done.returncode != 0:
            return f"(no logs: {first_line(done.stderr or '')})"
        return "\n".join(part for part in (done.stdout, done.stderr) if part).strip()

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

    # -- whole-project commands -----------------------------------------------------
    def volumes(self, project: str) -> list[str]:
        out = self._docker(
            "volume",
            "ls",
            "--quiet",
            "--filter",
            f"label={PROJECT_LABEL}={project}",
            what="docker volume ls",
        )
        return sorted(out.split())

    def down(self, *, volumes: bool) -> None:
        """`compose down --remove-orphans` (networks; named volumes only with volumes=True)."""
        flags = ["--volumes"] if volumes else []
        self._compose(
            "down",
            "--remove-orphans",
            *flags,
            what="docker compose down",
            bound=self.timeouts.whole_project,
        )

    def stream_logs(self, services: Sequence[str], *, follow: bool, tail: str | None) -> int:
        """`compose logs` straight to this terminal; returns Compose's exit code.

        Bounded unless it follows (then it runs until Ctrl-C, which ends it cleanly)."""
        command = [str(a) for a in self.client.client_config.docker_compose_cmd]
        command += [
            "logs",
            *(["--follow"] if follow else []),
            *(["--tail", tail] if tail else []),
            *services,
        ]
        bound = UNBOUNDED if follow else self.timeouts.whole_project
        return self._execute(
            command, what="docker compose logs", bound=bound, capture=False
        ).returncode


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
