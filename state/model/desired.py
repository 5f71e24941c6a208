"""DesiredState: what should run for the resolved APP_ENV (the desire stage).

Built from one `docker compose config --format json` for the active profiles, the
hashes of `docker compose config --hash '*'` (equal to the config-hash labels Compose
puts on containers), every service of any profile, and the local image ids, read
concurrently (state/process/concurrent.py). An image that is not on the engine is
pulled or built as `docker compose up` would (state/model/images.py), and the service
says so; one that can be neither (pull_policy never, no build) says that `up` would
fail, with the table's `build_images` command as the fix when it names one, and an
apply (a source that `refuses_missing_images`) refuses it before anything is touched.
Frozen; the planner only reads it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from state import secrets
from state.engine import ComposeSource
from state.errors import ConfigError
from state.model import content
from state.model.images import Need, image_name, needs
from state.process.concurrent import reads_concurrently, together
from state.resolve.appenv import VARIABLE, ResolvedAppEnv
from state.stored import STRICT

if TYPE_CHECKING:  # the models must stay importable without the resolve stage's I/O
    from state.resolve.project import ComposeProject


@dataclass(frozen=True, kw_only=True)
class Dependency:
    """One `depends_on` entry."""

    __pydantic_config__ = STRICT  # read back by state/stored.py

    service: str
    restart: bool = False
    condition: str = "service_started"  # or service_healthy, service_completed_successfully


@dataclass(frozen=True, kw_only=True)
class Published:
    """One published port: where on the host, and the container's port."""

    __pydantic_config__ = STRICT  # read back by state/stored.py

    host_ip: str = ""  # "": every address
    published: str = ""
    target: int = 0


@dataclass(frozen=True, kw_only=True)
class DesiredService:
    """One service as it should run."""

    __pydantic_config__ = STRICT  # read back by state/stored.py

    name: str
    image: str
    image_id: str | None
    config_hash: str
    depends_on: tuple[Dependency, ...] = ()
    app_env: str | None
    volumes: tuple[str, ...] = ()
    has_healthcheck: bool = False
    replicas: int = 1  # >= 0: _service refuses a negative count
    global_mode: bool = False  # `deploy.mode: global`: one per node on a swarm
    # What the policies read (reconciler/planner/policies.py):
    ports: tuple[Published, ...] = ()
    binds: tuple[str, ...] = ()  # host sources of bind mounts
    privileged: bool = False
    cap_add: tuple[str, ...] = ()
    profiles: tuple[str, ...] = ()
    content: dict[str, str] = field(default_factory=dict)  # file -> digest (state/model/content.py)
    image_note: str | None = None  # `image X will be pulled`: what creating it brings
    # What the downtime prediction reads (reconciler/planner/downtime.py), in seconds:
    stop_grace: float | None = None  # stop_grace_period (None: Docker's 10 s)
    init: bool = False  # `init: true`: SIGTERM reaches a process that handles it
    health_interval: float | None = None  # healthcheck interval (None: Docker's 30 s)
    health_start_interval: float | None = None  # start_interval, during start_period
    update_order: str | None = None  # deploy.update_config.order (start-first, stop-first)
    container_name: str | None = None  # a fixed name: one container at a time


@dataclass(frozen=True, kw_only=True)
class DesiredState:
    """The whole project as it should run in one environment."""

    __pydantic_config__ = STRICT  # read back by state/stored.py

    project: str
    app_env: ResolvedAppEnv
    profiles: tuple[str, ...]
    services: Mapping[str, DesiredService]
    known_services: frozenset[str] = frozenset()
    checkout: str | None = None  # the directory its containers should be made from

    def dependencies(self, service: str) -> tuple[str, ...]:
        """The services `service` depends on that are part of this state."""
        return tuple(
            d.service for d in self.services[service].depends_on if d.service in self.services
        )


def desire(project: ComposeProject, source: ComposeSource) -> DesiredState:
    """Ask Compose what the project should be; ConfigError for broken files or missing images."""
    # The three Compose reads at once; the image ids follow the model in its thread.
    (model, images), hashes, in_any_profile = together(
        lambda: _model_and_images(source, project.name),
        source.config_hashes,
        source.service_names_in_any_profile,
        concurrent=reads_concurrently(source),
    )
    if isinstance(images, BaseException):  # the pipeline's order: after the hashes
        raise images
    raw_services: dict[str, dict[str, Any]] = model.get("services") or {}
    wanted = needs(raw_services, project.name, frozenset(images))
    fix = _build_fix(project)
    refuse = getattr(source, "refuses_missing_images", False) is True
    services = {
        name: _service(name, raw, hashes, images, project.name, wanted.get(name), fix, refuse)
        for name, raw in sorted(raw_services.items())
    }
    known = in_any_profile | frozenset(services)
    images_named = (secrets.image_name_parts(s.image) for s in services.values())
    secrets.spare({*known, project.name, *(part for parts in images_named for part in parts)})
    return DesiredState(
        project=project.name,
        app_env=project.app_env,
        profiles=project.profiles,
        services=services,
        known_services=known,
        checkout=str(project.directory),
    )


def _build_fix(project: ComposeProject) -> str:
    table = project.table
    command = table.build_images if table is not None else ""
    return f"run `{command}`" if command else "build or load it on this engine first"


def _model_and_images(
    source: ComposeSource, project: str
) -> tuple[dict[str, Any], dict[str, str] | BaseException]:
    model = source.compose_model()
    raw_services: dict[str, dict[str, Any]] = model.get("services") or {}
    try:
        images = source.image_ids(
            sorted({image_name(name, raw, project) for name, raw in raw_services.items()})
        )
    except Exception as exc:  # raised by desire() in order, once the hashes are known good
        return model, exc
    return model, images


def _service(
    name: str,
    raw: Mapping[str, Any],
    hashes: Mapping[str, str],
    images: Mapping[str, str],
    project: str,
    wanted: tuple[str, Need] | None,
    fix: str,
    refuse_missing: bool,
) -> DesiredService:
    if not raw.get("image") and not raw.get("build"):
        raise ConfigError(
            f"service {name!r} has neither image nor build: add `image:` to its compose entry"
        )
    image = image_name(name, raw, project)
    note = f"image {image} {wanted[1]}" if wanted else None
    if wanted is not None and wanted[1] is Need.MISSING:
        note = f"{note}, has no build and pull_policy never: `up` would fail: {fix}"
        if refuse_missing:
            raise ConfigError(
                f"image {image} of service {name!r} is not on this engine, has no build and "
                f"its pull_policy is never, so `docker compose up` would fail: {fix}"
            )
    if name not in hashes:
        raise ConfigError(
            f"Compose gave no config hash for service {name!r}: check the compose files"
        )
    deploy = raw.get("deploy") or {}
    count = raw.get("scale", deploy.get("replicas", 1))
    replicas = int(count) if count is not None else 1
    if replicas < 0:
        raise ConfigError(f"service {name!r} asks for {replicas} replicas: give it 0 or more")
    environment = raw.get("environment") or {}
    secrets.remember(environment)
    return DesiredService(
        name=name,
        image=image,
        image_id=images.get(image),
        config_hash=hashes[name],
        depends_on=tuple(
            Dependency(
                service=dep,
                restart=bool(spec.get("restart", False)),
                condition=spec.get("condition") or "service_started",
            )
            for dep, spec in sorted((raw.get("depends_on") or {}).items())
        ),
        app_env=environment.get(VARIABLE),
        volumes=tuple(
            v["source"]
            for v in raw.get("volumes") or []
            if v.get("type") == "volume" and v.get("source")
        ),
        has_healthcheck=bool(raw.get("healthcheck"))
        and not (raw.get("healthcheck") or {}).get("disable"),
        replicas=replicas,
        global_mode=deploy.get("mode") == "global",
        ports=tuple(
            Published(
                host_ip=str(p.get("host_ip") or ""),
                published=str(p.get("published") or ""),
                target=int(p.get("target") or 0),
            )
            for p in raw.get("ports") or []
        ),
        binds=tuple(
            str(v["source"])
            for v in raw.get("volumes") or []
            if v.get("type") == "bind" and v.get("source")
        ),
        privileged=bool(raw.get("privileged")),
        cap_add=tuple(raw.get("cap_add") or ()),
        profiles=tuple(raw.get("profiles") or ()),
        content=content.recorded(raw.get("labels") or {}),
        image_note=note,
        stop_grace=seconds(raw.get("stop_grace_period")),
        init=bool(raw.get("init")),
        health_interval=seconds((raw.get("healthcheck") or {}).get("interval")),
        health_start_interval=seconds((raw.get("healthcheck") or {}).get("start_interval")),
        update_order=(deploy.get("update_config") or {}).get("order"),
        container_name=raw.get("container_name") or None,
    )


_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


def seconds(duration: object) -> float | None:
    """A Compose duration (`1m30s`, `500ms`, or a number of seconds) in seconds; None
    when absent or unreadable (the caller uses Docker's default)."""
    if isinstance(duration, (int, float)) and not isinstance(duration, bool):
        return float(duration)
    if not isinstance(duration, str) or not duration:
        return None
    found = re.findall(r"(\d+(?:\.\d+)?)(h|ms|us|µs|ns|m|s)", duration)
    if not found or "".join(n + u for n, u in found) != duration.replace(" ", ""):
        return None
    return sum(float(n) * _UNITS[u] for n, u in found)
