"""The real engine: the Docker CLI and Compose v2, command lines by python-on-whales.

The one module that imports python_on_whales, which builds the `docker` and `docker
compose` command lines from the project's ComposeOptions (files, profiles, env files,
name, directory; the resolved variables through an `env VAR=value` prefix, as it has
no per-client environment). It is imported on first use, once: its import costs more
than a status read, so lines it built for the same options are reused from the config
cache (use_command_lines). Every call goes through `_run`, which logs it, counts it,
bounds its time (EngineTimeout names the engine and the fix) and maps Docker's failures
onto TransientError / PermanentError (`log_tail` and `stream_logs` use its bounded
`_execute`, to keep stderr or the terminal). Without a ComposeProject (stop, down,
logs) only the container-side calls are available. Parsing `docker inspect`:
state/docker/inspect.py; streaming logs: state/docker/logs.py.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import subprocess
import threading
from collections.abc import Sequence
from typing import Any

from state.docker.args import (
    CommandLines,
    ComposeOptions,
    batches,
    drop_flag,
    with_tag,
)
from state.docker.endpoint import engine_endpoint
from state.docker.errors import classify, first_line, fix_for, names_a_fix
from state.docker.inspect import parse_inspect
from state.docker.logs import stream_project_logs
from state.docker.timeouts import TIMEOUT_VARIABLE, UNBOUNDED, Timeouts
from state.engine import PROJECT_LABEL, ContainerRecord
from state.errors import ConfigError, ContainerGone, EngineTimeout, PermanentError
from state.process.bounded import run_bounded
from state.process.concurrent import together
from state.resolve.project import ComposeProject

log = logging.getLogger(__name__)


class DockerEngine:
    """The Engine port (ComposeSource and ContainerEngine) on the real Docker engine."""

    concurrent_reads = True  # its reads wait on processes: run them at once
    cacheable = (
        True  # its `compose config` answers may be cached (reconciler/reads/config_cache.py)
    )

    def __init__(self, project: ComposeProject | None = None) -> None:
        self._project = project
        self.calls = 0
        self._counting = threading.Lock()  # the reads run in threads (state/process/concurrent.py)
        self.timeouts = Timeouts.from_environment(os.environ)
        self.compose_options = ComposeOptions.of(project) if project is not None else None
        self._lines: CommandLines | None = None
        self._building = threading.Lock()
        self._model: str | None = None
        self._modelling = threading.Lock()

    def command_lines(self) -> CommandLines:
        """The command lines python-on-whales builds for the project; built once."""
        with self._building:
            if self._lines is None:
                self._lines = self._client_lines()
            return self._lines

    def use_command_lines(self, lines: CommandLines) -> None:
        """Lines python-on-whales built for the same ComposeOptions (the config cache's)."""
        with self._building:
            self._lines = lines

    def _client_lines(self) -> CommandLines:
        from python_on_whales import DockerClient  # imported only where it is used

        options = self.compose_options
        config = DockerClient(**(options.client_kwargs() if options else {})).client_config
        return CommandLines.of(config.docker_cmd, config.docker_compose_cmd)

    @property
    def project(self) -> ComposeProject:
        if self._project is None:
            raise AssertionError("a Compose call needs DockerEngine(project)")
        return self._project

    # -- the choke point ---------------------------------------------------------
    def _run(
        self,
        args: Sequence[str],
        *,
        what: str,
        bound: float | None = None,
        stdin: str | None = None,
    ) -> str:
        """Run one engine call; its stdout, or the classified error with its fix."""
        completed = self._execute(args, what=what, bound=bound, stdin=stdin)
        if completed.returncode != 0:
            stderr = completed.stderr or ""
            log.debug("%s failed (%s): %s", what, completed.returncode, stderr)
            message = f"{what} failed: {first_line(stderr)}{fix_for(stderr)}"
            raise classify(stderr)(message)
        return (completed.stdout or "").removesuffix("\n")

    def _execute(
        self,
        args: Sequence[str],
        *,
        what: str,
        bound: float | None,
        capture: bool = True,
        stdin: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        command = [str(arg) for arg in args]
        limit = self.timeouts.read if bound is None else bound
        with self._counting:
            self.calls += 1
        log.debug("Running command (bound %g s): %s", limit, shlex.join(command))
        try:
            limit_or_none = None if limit == UNBOUNDED else limit
            return run_bounded(command, limit_or_none, capture=capture, stdin=stdin)
        except subprocess.TimeoutExpired:
            raise EngineTimeout(self._timeout_message(what, limit)) from None

    def _timeout_message(self, what: str, limit: float) -> str:
        return (
            f"{what}: no answer from the Docker engine at {engine_endpoint()} within "
            f"{limit:g} s; check that it responds (`docker info`; `just engine` starts it), "
            f"or raise {TIMEOUT_VARIABLE} (seconds for a read, now {self.timeouts.read:g})"
        )

    def _docker(self, *args: str, what: str, bound: float | None = None) -> str:
        return self._run([*self.command_lines().docker, *args], what=what, bound=bound)

    def _compose(self, *args: str, what: str, bound: float | None = None) -> str:
        assert self.project, "compose calls need the project"
        command = [*self.command_lines().compose, *args]
        return self._run(command, what=what, bound=bound)

    # -- ComposeSource -------------------------------------------------------------
    def compose_model(self) -> dict[str, Any]:
        model: dict[str, Any] = json.loads(self._model_text())
        return model

    def _model_text(self) -> str:
        """`config --format json`, read once per engine (config_hashes reads it too)."""
        with self._modelling:
            if self._model is None:
                self._model = self._read_model()
            return self._model

    def _read_model(self) -> str:
        try:
            return self._compose("config", "--format", "json", what="docker compose config")
        except PermanentError as exc:
            if names_a_fix(str(exc)):  # the engine or Compose itself, not the files
                raise
            # Compose names the env file when that is what it could not read.
            named = [str(path) for path in self.project.env_files() if str(path) in str(exc)]
            fix = (
                f"fix {named[0]}"
                if named
                else f"fix the compose files in {self.project.compose_dir}"
            )
            raise ConfigError(f"{exc}; {fix}") from None

    def config_hashes(self) -> dict[str, str]:
        """The config-hash label `up` gives each service, computed by Compose over the
        resolved model fed back on stdin: `config --hash` on the files leaves out what
        env_file brings (docker/compose#14001), which `up` hashes, so a service with an
        env_file would never look converged."""
        model = self._model_text()
        command = [*drop_flag([*self.command_lines().compose], "--file"), "--file", "-"]
        out = self._run(
            [*command, "config", "--hash", "*"], what="docker compose config --hash", stdin=model
        )
        return dict(line.split(" ", 1) for line in out.splitlines() if " " in line)

    def service_names_in_any_profile(self) -> frozenset[str]:
        # The same call with every profile enabled: which services exist at all.
        command = drop_flag([*self.command_lines().compose], "--profile")
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
        return {ref: local[with_tag(ref)] for ref in unique if with_tag(ref) in local}

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
        self._converge("up", "--detach", "--no-deps", *flags, services=services)

    def create(self, services: Sequence[str]) -> None:
        """Containers for SERVICES, not started; every container that exists (theirs and
        their dependencies') is left as it is: `up` starts them later, in order."""
        self._converge("create", "--no-recreate", services=services)

    def _converge(self, verb: str, *flags: str, services: Sequence[str]) -> None:
        self._compose(
            verb,
            *flags,
            *("--no-build", "--pull", "never", *services),
            what=f"docker compose {verb} {' '.join(services)}",
            bound=self.timeouts.write(len(services)),
        )

    def start(self, container_ids: Sequence[str]) -> None:
        # `docker start ID...` starts one after another: a few batches at once instead.
        together(*(lambda b=b: self._on_ids("start", b) for b in batches(container_ids)))

    def unpause(self, container_ids: Sequence[str]) -> None:
        self._on_ids("unpause", container_ids)

    def restart(self, container_ids: Sequence[str]) -> None:
        together(*(lambda b=b: self._on_ids("restart", b) for b in batches(container_ids)))

    def _on_ids(self, verb: str, container_ids: Sequence[str]) -> None:
        bound = self.timeouts.write(len(container_ids))
        self._docker("container", verb, *container_ids, what=f"docker {verb}", bound=bound)

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
        command = [*self.command_lines().docker, "container", "logs", "--tail", str(lines)]
        command.append(container_id)
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
        filters = (arg for cid in container_ids for arg in ("--filter", f"id={cid}"))
        out = self._docker(
            *("container", "ls", "--all", "--quiet", "--no-trunc", *filters),
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
            bound = self.timeouts.write(len(names))
            self._docker("network", "rm", *names, what="docker network rm", bound=bound)

    def remove_volumes(self, names: Sequence[str]) -> None:
        if names:
            bound = self.timeouts.write(len(names))
            self._docker("volume", "rm", *names, what="docker volume rm", bound=bound)

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
        """`compose -p PROJECT logs` to this terminal, secrets masked (state/docker/logs.py)."""
        return stream_project_logs(self, project, services, follow=follow, tail=tail)
