"""Small pure helpers of the Docker adapter (state/docker/adapter.py): image
references, what the adapter hands Compose, the command lines. No I/O."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from state.resolve.project import ComposeProject


@dataclass(frozen=True)
class ComposeOptions:
    """Everything the adapter hands `docker compose` about a project: the files (every
    `-f`), profiles, env files, name, directory and process variables. python-on-whales
    builds the command line from these alone, and the config cache's key digests these
    alone (reconciler/reads/config_cache.py: every file by path and bytes), so whatever is
    added here reaches both."""

    files: tuple[Path, ...]
    profiles: tuple[str, ...]
    env_files: tuple[Path, ...]
    project_name: str
    project_directory: Path
    variables: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, project: ComposeProject) -> ComposeOptions:
        return cls(
            files=tuple(project.files),
            profiles=tuple(project.profiles),
            env_files=tuple(project.env_files()),
            project_name=project.name,
            project_directory=project.compose_dir,
            variables=tuple(project.process_variables().items()),
        )

    def described(self) -> list[str]:
        """Every option as `name=value`, for the config cache's key."""
        return [f"{f.name}={getattr(self, f.name)}" for f in dataclasses.fields(self)]

    def client_kwargs(self) -> dict[str, Any]:
        """python-on-whales' DockerClient arguments for these options."""
        return {
            "client_call": ["env", *(f"{k}={v}" for k, v in self.variables), "docker"],
            "compose_files": list(self.files),
            "compose_profiles": list(self.profiles),
            "compose_env_files": list(self.env_files),
            "compose_project_name": self.project_name,
            "compose_project_directory": self.project_directory,
        }


@dataclass(frozen=True)
class CommandLines:
    """`docker` and `docker compose` with the project's global flags, as python-on-whales
    built them (`client_config.docker_cmd` / `docker_compose_cmd`)."""

    docker: tuple[str, ...]
    compose: tuple[str, ...]

    @classmethod
    def of(cls, docker: Sequence[Any], compose: Sequence[Any]) -> CommandLines:
        return cls(tuple(str(a) for a in docker), tuple(str(a) for a in compose))


# Concurrent `docker start` / `restart` processes for one wave's containers (the CLI
# starts the ids it is given one after another). Start after stop at N=50, alternating
# with Compose on the loaded 2-core machine: 4 batches 1.40x / 1.61x / 2.06x of
# `compose up -d --wait`, 16 batches 0.74x / 0.94x / 1.43x.
BATCHES = 16


def batches(items: Sequence[str], count: int = BATCHES) -> list[list[str]]:
    """`items` dealt into at most `count` non-empty batches, in order within each."""
    dealt: list[list[str]] = [list(items[i::count]) for i in range(count)]
    return [batch for batch in dealt if batch]


def logs_command(
    project: str, directory: str, services: Sequence[str], *, follow: bool, tail: str | None
) -> list[str]:
    """`docker compose logs` for a project known by its containers' labels alone."""
    command = ["docker", "compose", "--project-name", project, "--project-directory", directory]
    return [
        *command,
        "logs",
        *(["--follow"] if follow else []),
        *(["--tail", tail] if tail else []),
        *services,
    ]


def with_tag(reference: str) -> str:
    """`name` -> `name:latest`, as `docker image ls` shows an untagged reference."""
    last = reference.rsplit("/", 1)[-1]
    return reference if ":" in last else f"{reference}:latest"


def drop_flag(command: list[Any], flag: str) -> list[Any]:
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
