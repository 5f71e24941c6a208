"""The Compose side of the Docker adapter: what `docker compose` is asked, and how.

The project's command lines (python-on-whales builds them from its ComposeOptions, on
first use: its import costs more than a status read, so the config cache hands back
lines built before, state/engine.py's CacheableSource), what Compose says the project
should be (`config`: the model, the config hashes, the services of any profile) and
the writes that create containers through Compose (`up`, `create`), so labels and
config hashes stay Compose's own. Every call runs through state/docker/run.py.
DockerEngine (state/docker/adapter.py) adds the container side.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from state.docker import images
from state.docker.api import EngineAPI, socket_path
from state.docker.args import CommandLines, ComposeOptions, drop_flag, with_tag
from state.docker.compose_model import checked
from state.docker.errors import names_a_fix
from state.docker.run import Commands, missing_program
from state.docker.timeouts import Timeouts
from state.engine import Recreate
from state.errors import ConfigError, PermanentError
from state.resolve.project import ComposeProject


def without_absent_dependencies(model_text: str) -> str:
    """The model with each `depends_on` entry on a service it does not hold removed: Compose
    keeps `required: false` ones on a service whose profile is off, then refuses them when
    the model is loaded again. `depends_on` is not part of the config hash."""
    model = json.loads(model_text)
    services: dict[str, Any] = model.get("services") or {}
    changed = False
    for raw in services.values():
        depends = raw.get("depends_on")
        if isinstance(depends, dict) and any(name not in services for name in depends):
            raw["depends_on"] = {k: v for k, v in depends.items() if k in services}
            changed = True
    return json.dumps(model) if changed else model_text


class ComposeSide:
    """The engine port's Compose calls for one project (None: a name-only command)."""

    def __init__(self, project: ComposeProject | None = None) -> None:
        self._project = project
        self.timeouts = Timeouts.from_environment(os.environ)
        self.commands = Commands(self.timeouts)
        self.compose_options = ComposeOptions.of(project) if project is not None else None
        self._lines: CommandLines | None = None
        self._building = threading.Lock()
        self._model: str | None = None
        self._modelling = threading.Lock()
        self._api: EngineAPI | bool | None = False  # False: not chosen yet

    @property
    def api(self) -> EngineAPI | None:
        """The Engine API on the local socket for the reads, or None: the CLI reads
        (state/docker/api.py: ssh://, tcp://, a context). Chosen once, on first use."""
        if self._api is False:
            options = self.compose_options
            path = socket_path(os.environ, dict(options.variables) if options else {})
            self._api = EngineAPI(path, self.commands.timeout_message) if path else None
        return self._api if isinstance(self._api, EngineAPI) else None

    def api_get(self, *paths: str, what: str, gone_ok: bool = False) -> list[Any]:
        """One read over the Engine API (as many requests as `paths`), counted as one
        engine call, bounded as a CLI read is (`gone_ok`: see EngineAPI.get)."""
        api = self.api
        assert api is not None, "api_get without an Engine API (check .api first)"
        self.commands.count_read()
        return api.get(*paths, what=what, bound=self.timeouts.read, gone_ok=gone_ok)

    @property
    def calls(self) -> int:
        """Engine calls made so far (the tests and the bench count them)."""
        return self.commands.calls

    @property
    def project(self) -> ComposeProject:
        if self._project is None:
            raise AssertionError("a Compose call needs DockerEngine(project)")
        return self._project

    def use_content_override(self, path: Path) -> None:
        """The content stage's override as the last `-f` from now on (nothing was asked
        of Compose with the new options yet: the lines and the model are built anew)."""
        self._project = replace(self.project, content_override=path)
        self.compose_options = ComposeOptions.of(self._project)
        with self._building, self._modelling:
            self._lines = None
            self._model = None

    # -- what the config cache keeps (state/engine.py: CacheableSource) --------------
    def compose_inputs(self) -> list[str]:
        options = self.compose_options
        return options.described() if options else []

    def compose_files(self) -> list[Path]:
        options = self.compose_options
        return [*options.files, *options.env_files] if options else []

    def warm_state(self) -> dict[str, Any]:
        lines = self.command_lines()
        return {"docker": list(lines.docker), "compose": list(lines.compose)}

    def use_warm_state(self, state: Mapping[str, Any]) -> None:
        """Lines python-on-whales built for the same ComposeOptions: its import is saved."""
        with self._building:
            self._lines = CommandLines.of(state["docker"], state["compose"])

    def command_lines(self) -> CommandLines:
        """The command lines python-on-whales builds for the project; built once."""
        with self._building:
            if self._lines is None:
                self._lines = self._client_lines()
            return self._lines

    def _client_lines(self) -> CommandLines:
        from python_on_whales import DockerClient  # imported only where it is used
        from python_on_whales.client_config import ClientNotFoundError

        options = self.compose_options
        try:
            config = DockerClient(**(options.client_kwargs() if options else {})).client_config
            return CommandLines.of(config.docker_cmd, config.docker_compose_cmd)
        except ClientNotFoundError as exc:  # python-on-whales looks for the client first
            named = re.search(r"binary '([^']+)'", str(exc))
            raise PermanentError(missing_program(named[1] if named else "docker")) from None

    # -- the choke point (state/docker/run.py) ------------------------------------
    def _docker(self, *args: str, what: str, bound: float | None = None) -> str:
        return self.commands.run([*self.command_lines().docker, *args], what=what, bound=bound)

    def _compose(
        self, *args: str, what: str, bound: float | None = None, stdin: str | None = None
    ) -> str:
        command = [*self.command_lines().compose, *args]
        return self.commands.run(command, what=what, bound=bound, stdin=stdin)

    # -- ComposeSource -------------------------------------------------------------
    def compose_model(self) -> dict[str, Any]:
        """Compose's model, its read part validated (state/docker/compose_model.py)."""
        return checked(json.loads(self._model_text()))

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

    def remember_model(self, model: Mapping[str, Any]) -> None:
        """The model the config cache answered for these same options: the apply's image
        preparation reads it instead of asking Compose again."""
        with self._modelling:
            if self._model is None:
                self._model = json.dumps(model)

    def compose_line(self) -> list[str]:
        return [*self.command_lines().compose]

    def image_ids(self, references: Sequence[str]) -> dict[str, str]:
        unique = sorted(set(references))
        if not unique:
            return {}
        local = self._local_images() if self.api else self._local_images_by_cli()
        return {ref: local[with_tag(ref)] for ref in unique if with_tag(ref) in local}

    def _local_images(self) -> dict[str, str]:
        """Every tagged local image -> its id, over the Engine API (`GET /images/json`)."""
        (listed,) = self.api_get("/images/json", what="docker image ls")
        return {tag: image["Id"] for image in listed for tag in image.get("RepoTags") or ()}

    def _local_images_by_cli(self) -> dict[str, str]:
        out = self._docker(
            "image",
            "ls",
            "--no-trunc",
            "--format",
            "{{.Repository}}:{{.Tag}} {{.ID}}",
            what="docker image ls",
        )
        return dict(line.split(" ", 1) for line in out.splitlines() if " " in line)

    def config_hashes(self) -> dict[str, str]:
        """The config-hash label `up` gives each service, computed by Compose over the
        resolved model fed back on stdin: `config --hash` on the files leaves out what
        env_file brings (docker/compose#14001), which `up` hashes, so a service with an
        env_file would never look converged."""
        model = without_absent_dependencies(self._model_text())
        command = [*drop_flag([*self.command_lines().compose], "--file"), "--file", "-"]
        out = self.commands.run(
            [*command, "config", "--hash", "*"], what="docker compose config --hash", stdin=model
        )
        return dict(line.split(" ", 1) for line in out.splitlines() if " " in line)

    def service_names_in_any_profile(self) -> frozenset[str]:
        """Every service of the files, whatever its profiles: the model before
        interpolation, which Compose renders without applying profiles. (Enabling every
        profile at once fails where two profiles' services share a container_name, or a
        variable only one profile needs is unset.)"""
        out = self.commands.run(
            [*self.command_lines().compose, "config", "--no-interpolate", "--services"],
            what="docker compose config --services",
        )
        return frozenset(out.split())

    def declared_profiles(self) -> frozenset[str]:
        out = self._compose("config", "--profiles", what="docker compose config --profiles")
        return frozenset(out.split())

    def service_profiles(self) -> dict[str, tuple[str, ...]]:
        """Every service of the files with the profiles it declares (none: always on),
        from the same model before interpolation."""
        out = self.commands.run(
            [*self.command_lines().compose, "config", "--no-interpolate", "--format", "json"],
            what="docker compose config --no-interpolate",
        )
        services: dict[str, Any] = json.loads(out).get("services") or {}
        return {name: tuple(raw.get("profiles") or ()) for name, raw in sorted(services.items())}

    # -- what `reconcile doctor` asks ----------------------------------------------
    def engine_version(self) -> str:
        """The engine's version: it answers."""
        return self._docker("version", "--format", "{{.Server.Version}}", what="docker version")

    def compose_version(self) -> str:
        """The Compose plugin's version: it is there."""
        return self.commands.run(
            [*self.command_lines().docker, "compose", "version", "--short"],
            what="docker compose version",
        )

    def registry_answer(self, image: str) -> str:
        """Whether `image` could be pulled: "" when its registry has it, else the
        registry's (or the network's) answer. Reads the registry; pulls nothing."""
        ended = self.commands.execute(
            [*self.command_lines().docker, "manifest", "inspect", image],
            what=f"docker manifest inspect {image}",
            bound=min(self.timeouts.read, 15.0),
        )
        if ended.returncode == 0:
            return ""
        lines = [line.strip() for line in (ended.stderr or "").splitlines() if line.strip()]
        return lines[-1] if lines else f"exit code {ended.returncode}"

    # -- writes through Compose --------------------------------------------------------
    def up(self, services: Sequence[str], *, recreate: Recreate) -> None:
        flags = {Recreate.ALWAYS: ["--force-recreate"], Recreate.NEVER: ["--no-recreate"]}
        self._converge("up", "--detach", "--no-deps", *flags.get(recreate, []), services=services)

    def create(self, services: Sequence[str]) -> None:
        """The missing containers of SERVICES, not started (`up --no-start --no-deps
        --no-recreate`): every container that exists is left as it is, and nothing of
        another service is made (`compose create` would also make their dependencies')."""
        self._converge("up", "--no-start", "--no-deps", "--no-recreate", services=services)

    def create_beside(self, service: str, count: int) -> None:
        """New containers of SERVICE beside the ones it has, until it has COUNT, not
        started, numbered after its highest (state/engine.py: CreatesBeside)."""
        scale = ("--scale", f"{service}={count}")
        self._converge("up", "--no-start", "--no-deps", "--no-recreate", *scale, services=[service])

    def _converge(self, verb: str, *flags: str, services: Sequence[str]) -> None:
        images.prepare(self, self.project.name, services)
        self._compose(
            verb,
            *flags,
            *("--no-build", "--pull", "never", *services),
            what=f"docker compose {verb} {' '.join(services)}",
            bound=self.timeouts.write(len(services)),
        )
