"""Small builders of desired and observed states for planner tests (no Docker)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, cast

from state.engine import ContainerStatus
from state.model.desired import Dependency, DesiredService, DesiredState
from state.model.observed import ObservedContainer, ObservedState
from state.resolve.appenv import ResolvedAppEnv, Source
from state.resolve.inputs import ProjectInputs, read_env_file
from state.resolve.precedence import resolve
from state.resolve.table import EnvironmentTable

PROJECT = "spot"
IMAGE_ID = "sha256:" + "a" * 64


def service(
    name: str,
    *,
    env: str = "prod",
    config_hash: str | None = None,
    depends_on: Iterable[str | Dependency] = (),
    replicas: int = 1,
    image_id: str | None = IMAGE_ID,
    **extra: Any,
) -> DesiredService:
    deps = tuple(d if isinstance(d, Dependency) else Dependency(service=d) for d in depends_on)
    return DesiredService(
        name=name,
        image=f"{name}:local",
        image_id=image_id,
        config_hash=config_hash or f"hash-{name}-{env}",
        depends_on=deps,
        app_env=env,
        replicas=replicas,
        **extra,
    )


def desired(
    *services: DesiredService, env: str = "prod", known: Iterable[str] = ()
) -> DesiredState:
    return DesiredState(
        project=PROJECT,
        app_env=ResolvedAppEnv(name=env, source=Source.DEFAULT),
        profiles=(),
        services={s.name: s for s in services},
        known_services=frozenset(known) | {s.name for s in services},
    )


def container(
    service_name: str,
    number: int = 1,
    *,
    env: str = "prod",
    status: ContainerStatus = ContainerStatus.RUNNING,
    config_hash: str | object | None = ...,
    image_id: str = IMAGE_ID,
    depends_on: Iterable[str] = (),
    cid: str | None = None,
    **extra: Any,
) -> ObservedContainer:
    return ObservedContainer(
        id=cid or f"id-{service_name}-{number}",
        name=extra.pop("name", f"{PROJECT}-{service_name}-{number}"),
        service=service_name,
        number=number,
        status=status,
        app_env=env,
        config_hash=f"hash-{service_name}-{env}" if config_hash is ... else cast(str, config_hash),
        image_id=image_id,
        depends_on=tuple(depends_on),
        **extra,
    )


def observed(*containers: ObservedContainer) -> ObservedState:
    return ObservedState(project=PROJECT, containers=tuple(containers))


def resolve_file(
    table: EnvironmentTable, environ: Mapping[str, str], path: Path, *, required: bool = False
) -> ResolvedAppEnv:
    """APP_ENV resolved with `path` as the env file Compose reads (`required`: given as
    --env-file, so it must exist), as state/resolve/inputs.py reads it."""
    inputs = ProjectInputs(
        directory=path.parent,
        env_file=path,
        env_file_given=required,
        environ=environ,
        bindings=read_env_file(path, environ, required=required),
    )
    return resolve(table, inputs)
