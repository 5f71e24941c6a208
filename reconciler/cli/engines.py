"""The engines the CLI builds: one BackendKit per backend (the only place that builds
engines; the commands, reads and watch are handed them).

Local Compose: the Docker adapter (state/docker/adapter.py), its Runner, watchable.
A swarm: the Swarm adapter (state/swarm/adapter.py) on the manager SWARM_MANAGER_HOST
(default: the socket `just swarm-up` makes), its Runner, not watchable; configured on
this machine only when that variable is set or that socket exists, so a machine without
a swarm is never asked about one. Tests hand `main()` an engine factory of their own:
it becomes the Compose kit, and there is no swarm.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler.reads.backend import BackendKit, EngineFactory, Kits, engine_runner
from state.backend import Backend
from state.swarm.address import DEFAULT_MANAGER, MANAGER_VARIABLE

if TYPE_CHECKING:
    from reconciler.execute.runner import EngineRunner
    from state.engine import Engine
    from state.resolve.project import ComposeProject


def swarm_configured(environ: Mapping[str, str]) -> bool:
    """Whether this machine names a swarm manager: SWARM_MANAGER_HOST, or the local
    swarm's socket. A unix socket that does not exist names none (no call is made)."""
    host = environ.get(MANAGER_VARIABLE) or DEFAULT_MANAGER
    if host.startswith("unix://"):
        return Path(host.removeprefix("unix://")).exists()
    return True


def swarm_described(environ: Mapping[str, str]) -> str:
    """The swarm a saved plan was made for: its manager and the registry its nodes pull from."""
    from state.swarm.adapter import DEFAULT_REGISTRY, REGISTRY_VARIABLE

    manager = environ.get(MANAGER_VARIABLE) or DEFAULT_MANAGER
    return (
        f"swarm (manager {manager}, registry {environ.get(REGISTRY_VARIABLE) or DEFAULT_REGISTRY})"
    )


# Each backend's adapter and runner are imported when a command first uses them: a
# command on local Compose never imports the swarm's, and a read never imports a runner.


def docker_engine(project: ComposeProject | None) -> Engine:
    from state.docker.adapter import DockerEngine

    return DockerEngine(project)


def swarm_engine(project: ComposeProject | None) -> Engine:
    from state.swarm.adapter import SwarmEngine

    return SwarmEngine(project)


def swarm_runner(*args: Any, **kwargs: Any) -> EngineRunner:
    from reconciler.execute.swarm_runner import SwarmRunner

    return SwarmRunner(*args, **kwargs)


def real_kits() -> Kits:
    return {
        Backend.COMPOSE: BackendKit(Backend.COMPOSE, docker_engine, engine_runner, watchable=True),
        Backend.SWARM: BackendKit(
            Backend.SWARM,
            swarm_engine,
            swarm_runner,
            watchable=False,
            configured=swarm_configured,
            describe=swarm_described,
        ),
    }


def kits_for(engine: EngineFactory | None) -> Kits:
    """The real backends, or (tests) one Compose backend on the factory given."""
    if engine is None:
        return real_kits()
    return {Backend.COMPOSE: BackendKit(Backend.COMPOSE, engine, engine_runner)}
