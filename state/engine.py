"""The engine port: the only way the pipeline touches Docker.

Small Protocols, so the readers and the commands take either the real adapter
(state/docker/adapter.py, python-on-whales) or the in-memory engine of the property
tests:
- ComposeSource: what Compose says the project should be (desire stage);
- ContainerEngine: the project's containers, networks and volumes (observe stage),
  the writes that the apply stage makes, and its logs;
- Engine: both, which is everything the commands need;
- CacheableSource: a ComposeSource whose answers reconciler/reads/config_cache.py may
  keep, because it says what it hands Compose;
- CreatesBeside: an engine that adds a container beside the ones a service has (the
  start-first recreates of the local Compose backend).
The records they return are plain frozen dataclasses (a read loads no validator); no
live Docker object leaves the adapter. Backend names the two adapters (local Compose,
a swarm).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from state.backend import Backend

__all__ = ["Backend"]  # re-exported: state/backend.py

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
NUMBER_LABEL = "com.docker.compose.container-number"
ONEOFF_LABEL = "com.docker.compose.oneoff"
CONFIG_HASH_LABEL = "com.docker.compose.config-hash"
DEPENDS_ON_LABEL = "com.docker.compose.depends_on"
WORKING_DIR_LABEL = "com.docker.compose.project.working_dir"  # the project directory Compose used


class Recreate(enum.StrEnum):
    """What `compose up` may do to a service's containers that exist."""

    CHANGED = "changed"  # Compose's default: recreate those whose configuration changed
    ALWAYS = "always"  # --force-recreate: every container of the service
    NEVER = "never"  # --no-recreate: only create what is missing (and start the stopped)


class ContainerStatus(enum.StrEnum):
    """Docker's container states (`State.Status`)."""

    CREATED = "created"
    RUNNING = "running"
    PAUSED = "paused"
    RESTARTING = "restarting"
    REMOVING = "removing"
    EXITED = "exited"
    DEAD = "dead"


@dataclass(frozen=True, kw_only=True)
class EngineIdentity:
    """Which engine a command talks to: its endpoint, context, and the daemon's identity
    (`docker info`'s ID and Name): what the environment table's pins match."""

    endpoint: str
    context: str | None = None
    daemon_id: str = ""
    daemon_name: str = ""

    def __str__(self) -> str:
        named = f" (daemon {self.daemon_name})" if self.daemon_name else ""
        return f"{self.endpoint}{named}"


@dataclass(frozen=True, kw_only=True)
class ContainerRecord:
    """One container as the engine reports it, reduced to what planning needs."""

    id: str
    name: str
    labels: Mapping[str, str]
    status: ContainerStatus
    health: str | None = None
    health_output: str | None = None
    exit_code: int | None = None
    env: Mapping[str, str]
    image_id: str
    tty: bool = False  # its logs come raw, not multiplexed (state/docker/api_logs.py)


class ComposeSource(Protocol):
    """What Compose makes of the project's files for the active profiles."""

    def compose_model(self) -> dict[str, Any]:
        """`docker compose config --format json`: the fully resolved model."""
        ...

    def config_hashes(self) -> dict[str, str]:
        """`docker compose config --hash "*"`: service -> the config-hash label Compose sets."""
        ...

    def service_names_in_any_profile(self) -> frozenset[str]:
        """Every service the files define, whatever its profiles."""
        ...

    def declared_profiles(self) -> frozenset[str]:
        """`docker compose config --profiles`: every profile some service has."""
        ...

    def image_ids(self, references: Sequence[str]) -> dict[str, str]:
        """Local image id per reference; references not on the engine are left out."""
        ...

    def use_content_override(self, path: Path) -> None:
        """Pass `path` as the last compose file from now on: the content stage's override
        (reconciler/reads/content.py), which labels services with their content digests."""
        ...


@runtime_checkable
class CacheableSource(ComposeSource, Protocol):
    """A ComposeSource whose `config` answers may be cached: it says everything it hands
    Compose, and what it built for that (command lines) may be handed back to it."""

    def compose_inputs(self) -> list[str]:
        """Everything handed to Compose: files (-f), env files, profiles, name, directory,
        variables; the cache's key digests these (files by path and bytes)."""
        ...

    def compose_files(self) -> list[Path]:
        """Every file among compose_inputs(), whose bytes the key digests."""
        ...

    def warm_state(self) -> dict[str, Any]:
        """What it built for these inputs that a later run may reuse (JSON)."""
        ...

    def use_warm_state(self, state: Mapping[str, Any]) -> None:
        """Take back what warm_state() gave for the same inputs."""
        ...


class ContainerEngine(Protocol):
    """The containers of a project: read in a constant number of calls, and changed.

    Writes that create containers go through Compose (`up`), so labels and config
    hashes stay Compose's own; writes to existing containers take their ids.
    """

    def containers(self, project: str) -> list[ContainerRecord]:
        """Every container labelled with the project, one-offs included, in any state."""
        ...

    def has_project(self, project: str) -> bool:
        """Whether the project runs here at all (one-offs aside), in as few calls as can
        tell: the question asked of the other backend before acting on this one."""
        ...

    def identity(self) -> EngineIdentity:
        """Which engine this is (one `docker info`): asked only when the table pins."""
        ...

    def up(self, services: Sequence[str], *, recreate: Recreate) -> None:
        """`compose up -d --no-deps SERVICES`: create what is missing, start what is
        stopped, and recreate as `recreate` says. Compose refuses a service with a paused
        container (unpause it first)."""
        ...

    def start(self, container_ids: Sequence[str]) -> None: ...

    def unpause(self, container_ids: Sequence[str]) -> None: ...

    def restart(self, container_ids: Sequence[str]) -> None: ...

    def stop(self, container_ids: Sequence[str]) -> None:
        """Stop gracefully (the container's stop signal and grace period)."""
        ...

    def remove(self, container_ids: Sequence[str]) -> None:
        """Stop gracefully, then remove; already gone counts as done. Volumes stay."""
        ...

    def log_tail(self, container_id: str, lines: int) -> str: ...

    def stream_logs(
        self, project: str, services: Sequence[str], *, follow: bool, tail: str | None
    ) -> int:
        """The services' logs (all when none is named) to this terminal; the exit code."""
        ...

    def networks(self, project: str) -> list[str]:
        """The names of the networks labelled with the project."""
        ...

    def volumes(self, project: str) -> list[str]:
        """The names of the volumes labelled with the project."""
        ...

    def remove_networks(self, names: Sequence[str]) -> None: ...

    def remove_volumes(self, names: Sequence[str]) -> None:
        """Destroys data: only `down --volumes`, confirmed."""
        ...


@runtime_checkable
class CreatesBeside(Protocol):
    """An engine that can add one container beside a service's own (a start-first
    recreate, reconciler/execute/runner.py): the local Compose backend."""

    def create_beside(self, service: str, count: int) -> None:
        """`compose up --no-start --no-deps --no-recreate --scale SERVICE=COUNT SERVICE`:
        SERVICE gets new containers, not started, numbered after its highest (Compose's
        numbering), until it has COUNT; every container that exists is left as it is,
        whatever its configuration or state."""
        ...


class Engine(ComposeSource, ContainerEngine, Protocol):
    """Everything the commands need: what should run, and what runs."""
