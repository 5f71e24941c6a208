"""An in-memory engine for the property tests: the whole Engine port without Docker.

It behaves like Docker plus Compose where the reconciler relies on them, and is as
strict as they are; it shares no code with reconciler/ (it decides one-shots itself;
only the lock's location is asked of the product, to see writes made without it).
Compose's view of the files (`compose_model`, `config_hashes`, image ids) is rendered
from the DesiredState it holds, so the real `desire()` reads it back; containers have
ids, names, numbers, states, health, env and Compose's labels.
`up --no-deps [--force-recreate]` numbers and scales exactly as Compose does (new
containers after the highest number, scale-down from the top), recreates what
diverged (config hash or image) or every container of the services named when
forced, starts what is stopped and, as Compose does, fails on a paused one; it
waits, as Compose's `up` does, for a dependency among its services to be healthy
or completed (a probe) before starting what needs it, and fails in Compose's words
when the dependency never will be (what needs it is left created, not started);
`create_beside` (`up --no-start --no-recreate --scale SVC=N`) adds containers after
the highest number, not started, touching none that exists;
start/unpause/restart/stop/remove act by id, and `start` of a paused container is
refused in Docker's words. A paused container's probes fail (it is `unhealthy` when
found paused), and `unpause` keeps that stale health until the next probe. A one-shot
(a service some service waits for with `service_completed_successfully`) runs to its
end the moment it starts: exit 0, or 1 for a service in `failing_runs`. Health is
`starting` from each start until the next read of the containers (one probe), then
`healthy`, or `unhealthy` for a service in `failing_health` (with `probed_health`;
without it, healthy at once). Restart policies: a container whose process dies (`die`)
comes back under `unless-stopped` (the stack's) or `always`, never after a `stop`.
Networks are created by `up`, and removing one a live container (a one-off too) uses
is refused.
It records every call, so tests can check purity and ordering, notes every write made
while the project's lock is free, and can inject faults (each one that fires is noted
in `fired`): an operation that fails once (transient or permanent), one that reports
success and does nothing (a lying engine), or a "crash" (the process dying) after a
number of writes, before a write or, with `crash_inside_up`, inside an `up`: the
container being recreated is left stopped and renamed `<id12>_<name>`.

tests/integration/test_engine_differential.py holds each of these behaviours to the
real engine, tests/integration/test_numbering.py the numbering (`create_beside`'s
too); the rest of the integration suite never uses it.
"""

from __future__ import annotations

import fcntl
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from reconciler.store.places import lock_path
from state.docker.endpoint import engine_endpoint
from state.engine import (
    CONFIG_HASH_LABEL,
    DEPENDS_ON_LABEL,
    NUMBER_LABEL,
    ONEOFF_LABEL,
    PROJECT_LABEL,
    SERVICE_LABEL,
    ContainerRecord,
    ContainerStatus,
    EngineIdentity,
    Recreate,
)
from state.errors import PermanentError, TransientError
from state.model import content
from state.model.desired import DesiredService, DesiredState
from state.stored import as_json

WRITES = frozenset(
    {
        "up",
        "create",
        "create_beside",
        "start",
        "unpause",
        "restart",
        "stop",
        "remove",
        "remove_networks",
        "remove_volumes",
    }
)
_UP = {ContainerStatus.RUNNING, ContainerStatus.RESTARTING}
_PAUSED = ContainerStatus.PAUSED
_LIVE = {ContainerStatus.RUNNING, ContainerStatus.RESTARTING, ContainerStatus.PAUSED}
COMPLETES = "service_completed_successfully"
# Docker's words, as the real engine says them (tests/integration/test_engine_differential.py)
PAUSED_START = "Error response from daemon: cannot start a paused container, try unpause instead"


class Crash(BaseException):
    """The reconciler process "dies" here (not an Exception: nothing may catch it)."""


@dataclass
class MemContainer:
    id: str
    name: str
    labels: dict[str, str]
    status: ContainerStatus
    env: dict[str, str]
    image_id: str
    health: str | None = None
    exit_code: int = 0
    started: int = 0  # a counter standing in for StartedAt
    restarts: int = 0  # RestartCount: what the restart policy did

    def record(self) -> ContainerRecord:
        return ContainerRecord(
            id=self.id,
            name=self.name,
            labels=dict(self.labels),
            status=self.status,
            health=self.health,
            exit_code=self.exit_code,
            env=dict(self.env),
            image_id=self.image_id,
        )

    @property
    def service(self) -> str:
        return self.labels.get(SERVICE_LABEL, "")

    @property
    def project(self) -> str:
        return self.labels.get(PROJECT_LABEL, "")


@dataclass
class Fault:
    operation: str
    transient: bool
    service: str | None = None  # only calls touching this service; None: any
    # Fires once, except a permanent fault aimed at a service: that one fails every call
    # touching the service (a port in use stays in use), so a retry meets it again.


@dataclass(repr=False)
class MemoryEngine:
    """The world of containers, plus what Compose "files" currently say (`desired`)."""

    def __repr__(self) -> str:
        """Short, for hypothesis's counterexamples: one line per container."""
        rows = [
            f"{c.name} {c.id} {c.status.value}"
            + (f"/{c.health}" if c.health else "")
            + (f" exit={c.exit_code}" if c.status is ContainerStatus.EXITED else "")
            + f" hash={c.labels.get(CONFIG_HASH_LABEL)} image={c.image_id}"
            + f" APP_ENV={c.env.get('APP_ENV')}"
            + (" one-off" if c.labels.get(ONEOFF_LABEL) == "True" else "")
            for c in self.containers_by_id.values()
        ]
        return f"MemoryEngine({rows!r})"

    desired: DesiredState
    containers_by_id: dict[str, MemContainer] = field(default_factory=dict)
    volumes_made: set[str] = field(default_factory=set)
    networks_made: set[str] = field(default_factory=set)
    calls: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    order_violations: list[str] = field(default_factory=list)
    unlocked_writes: list[str] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    endpoint: str = "memory://"
    daemon_name: str = "laptop"
    silent: set[str] = field(default_factory=set)  # operations that do nothing, say done
    crash_after_writes: int | None = None
    gate: bool = False  # whether the run under test waits for health (the gate on)
    # Docker's health: `starting` after each start until a probe. Off (the unit tests'
    # simpler engine): healthy at once. The properties and the differential test set it.
    probed_health: bool = False
    crash_inside_up: bool = False  # the crash lands inside the `up`, mid-recreate
    failing_health: set[str] = field(default_factory=set)  # services whose probe fails
    failing_runs: set[str] = field(default_factory=set)  # one-shots that exit 1
    policies: dict[str, str] = field(default_factory=dict)  # restart policy per service
    fired: list[str] = field(default_factory=list)  # each fault injected: "operation"
    _dying: bool = False
    _moved: bool = False  # a write since the last read: a health probe is due
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))  # type: ignore[type-arg]
    _clock: itertools.count = field(default_factory=lambda: itertools.count(1))  # type: ignore[type-arg]

    # -- seeding ---------------------------------------------------------------------
    def add(
        self,
        service: str,
        number: int = 1,
        *,
        project: str | None = None,
        status: ContainerStatus = ContainerStatus.RUNNING,
        app_env: str | None = None,
        config_hash: str | None = "",
        image_id: str | None = None,
        oneoff: bool = False,
        depends_on: Sequence[str] = (),
        exit_code: int = 0,
    ) -> MemContainer:
        """Put a container into the world as something else (a user, Compose) left it.

        Defaults match the desired service, if there is one: "" for config_hash means
        the desired hash, None means no label at all."""
        spec = self.desired.services.get(service)
        project = project or self.desired.project
        labels = {
            PROJECT_LABEL: project,
            SERVICE_LABEL: service,
            NUMBER_LABEL: str(number),
            ONEOFF_LABEL: "True" if oneoff else "False",
        }
        wanted_hash = spec.config_hash if spec else f"hash-of-{service}"
        if config_hash is not None:
            labels[CONFIG_HASH_LABEL] = config_hash or wanted_hash
        if spec and spec.content and config_hash == "":
            labels[content.LABEL] = content.label_value(spec.content)
        if depends_on:
            labels[DEPENDS_ON_LABEL] = ",".join(f"{d}:service_started:false" for d in depends_on)
        env = {
            "APP_ENV": app_env
            if app_env is not None
            else (spec.app_env if spec and spec.app_env else self.desired.app_env.name)
        }
        container = MemContainer(
            id=f"c{next(self._ids)}",
            name=f"{project}-{service}-{number}",
            labels=labels,
            status=status,
            env=env,
            image_id=image_id or (spec.image_id if spec and spec.image_id else "sha256:none"),
            exit_code=exit_code,
        )
        self._set_status(container, status)
        if container.health == "starting":  # a world found as it was left: probed long ago
            container.health = self.probe_of(container)
        self.containers_by_id[container.id] = container
        return container

    # -- ComposeSource: what Compose makes of the "files" -----------------------------
    def compose_model(self) -> dict[str, Any]:
        self.calls.append(("compose_model", ()))
        services: dict[str, Any] = {}
        for name, spec in self.desired.services.items():
            raw: dict[str, Any] = {
                "image": spec.image,
                "environment": {"APP_ENV": spec.app_env} if spec.app_env else {},
                "depends_on": {
                    d.service: {"restart": d.restart, "condition": d.condition}
                    for d in spec.depends_on
                },
                "deploy": {"replicas": spec.replicas},
                "volumes": [{"type": "volume", "source": v} for v in spec.volumes],
            }
            if spec.has_healthcheck:
                raw["healthcheck"] = {"test": ["CMD", "true"]}
            if spec.update_order:
                raw["deploy"]["update_config"] = {"order": spec.update_order}
            if spec.container_name:
                raw["container_name"] = spec.container_name
            if spec.ports:
                raw["ports"] = [as_json(p) for p in spec.ports]
            if spec.image_id is None:
                raw["build"] = {"context": "."}
            if spec.content:  # the label the content override gives (state/model/content.py)
                raw["labels"] = {content.LABEL: content.label_value(spec.content)}
            services[name] = raw
        return {"name": self.desired.project, "services": services}

    def config_hashes(self) -> dict[str, str]:
        self.calls.append(("config_hashes", ()))
        return {name: spec.config_hash for name, spec in self.desired.services.items()}

    def service_names_in_any_profile(self) -> frozenset[str]:
        return self.desired.known_services | frozenset(self.desired.services)

    def declared_profiles(self) -> frozenset[str]:
        """The in-memory world stands in for the stack's compose files: their profiles."""
        self.calls.append(("declared_profiles", ()))
        return frozenset({"dev", "test"})

    def image_ids(self, references: Sequence[str]) -> dict[str, str]:
        return {
            s.image: s.image_id
            for s in self.desired.services.values()
            if s.image in references and s.image_id
        }

    # -- ContainerEngine: reads ------------------------------------------------------
    def containers(self, project: str) -> list[ContainerRecord]:
        """What `docker ps`/`inspect` shows now; then, if anything was started since the
        last look, time passes: one health probe (a read alone changes nothing)."""
        self.calls.append(("containers", (project,)))
        seen = [c.record() for c in self.containers_by_id.values() if c.project == project]
        if self._moved:
            self._moved = False
            self.probe()
        return seen

    def found(self) -> None:
        """The world as it was found: whatever a disturbance started was probed long ago."""
        self.probe()
        self._moved = False

    def probe(self) -> None:
        """One healthcheck interval: each running container `starting`, or `unhealthy`
        (a stale word kept through a pause), becomes healthy, or unhealthy when its
        service's probe fails; a one-shot found running has finished (exit 0, or 1 for a
        service in `failing_runs`)."""
        for c in self.containers_by_id.values():
            if c.status is ContainerStatus.RUNNING and c.health in ("starting", "unhealthy"):
                c.health = self.probe_of(c)  # a healthy one stays: its probe kept passing
            if c.status is ContainerStatus.RUNNING and self._one_shot(c):  # it ran to its end
                c.status, c.health = ContainerStatus.EXITED, None
                c.exit_code = int(c.service in self.failing_runs)

    def probe_of(self, container: MemContainer) -> str:
        """What the container's healthcheck answers: unhealthy for a failing service."""
        return "unhealthy" if container.service in self.failing_health else "healthy"

    def has_project(self, project: str) -> bool:
        self.calls.append(("has_project", (project,)))
        return any(
            c.project == project and c.labels.get(ONEOFF_LABEL) != "True"
            for c in self.containers_by_id.values()
        )

    def identity(self) -> EngineIdentity:
        """Which engine it plays (the guard tests set `daemon_name` to a production one)."""
        self.calls.append(("identity", ()))
        return EngineIdentity(endpoint=self.endpoint, daemon_name=self.daemon_name)

    def use_content_override(self, path: Path) -> None:
        """Its `desired` already carries the content digests the override would add."""

    def log_tail(self, container_id: str, lines: int) -> str:
        self.calls.append(("log_tail", (container_id,)))
        return ""

    def stream_logs(
        self, project: str, services: Sequence[str], *, follow: bool, tail: str | None
    ) -> int:
        self.calls.append(("stream_logs", (project, *services)))
        return 0

    def networks(self, project: str) -> list[str]:
        self.calls.append(("networks", (project,)))
        return sorted(n for n in self.networks_made if n.startswith(f"{project}_"))

    def volumes(self, project: str) -> list[str]:
        self.calls.append(("volumes", (project,)))
        return sorted(v for v in self.volumes_made if v.startswith(f"{project}_"))

    def remove_networks(self, names: Sequence[str]) -> None:
        """Docker refuses to remove a network a live container (a one-off too) is on."""
        if self._write("remove_networks", names):
            for name in names:
                project = name.removesuffix("_default")
                if any(
                    c.project == project and c.status in _LIVE
                    for c in self.containers_by_id.values()
                ):
                    raise PermanentError(
                        "docker network rm failed: Error response from daemon: error while "
                        f"removing network: network {name} id {name} has active endpoints"
                    )
            self.networks_made -= set(names)

    def remove_volumes(self, names: Sequence[str]) -> None:
        if self._write("remove_volumes", names):
            self.volumes_made -= set(names)

    # -- ContainerEngine: writes -----------------------------------------------------
    def up(self, services: Sequence[str], *, recreate: Recreate) -> None:
        """Compose v2's `ensureService` (pkg/compose/convergence.go), per service: keep the
        up-to-date containers, lowest numbers first, then the obsolete ones; remove what
        is beyond the scale, recreate the obsolete (same number), start the stopped; new
        containers get max(existing numbers)+1, +2, ... (never a free lower number)."""
        if not self._write("up", services):
            return
        self.networks_made.add(f"{self.desired.project}_default")
        for name in self._dependencies_first(services):
            spec = self.desired.services[name]
            mine = self._of(name)
            unmet = self._unmet_condition(name, services)
            if unmet:  # Compose created its containers, and starts none of them
                following = 1 + max((int(c.labels[NUMBER_LABEL]) for c in mine), default=0)
                for offset in range(spec.replicas - len(mine)):
                    self._create(name, following + offset, start=False)
                raise PermanentError(f"docker compose up failed: {unmet}")

            def obsolete(c: MemContainer, spec: DesiredService = spec) -> bool:
                if recreate is Recreate.NEVER:
                    return False
                return (
                    recreate is Recreate.ALWAYS
                    or c.status is ContainerStatus.DEAD
                    or c.labels.get(CONFIG_HASH_LABEL) != spec.config_hash
                    or bool(spec.image_id and c.image_id != spec.image_id)
                )

            ordered = sorted(
                mine, key=lambda c: (obsolete(c), int(c.labels[NUMBER_LABEL]), c.name, c.id)
            )
            for index, container in enumerate(ordered):
                if index >= spec.replicas:
                    self._delete(container)  # scale down: obsolete, then highest numbers
                elif obsolete(container):
                    if self._dying:  # renamed aside, then the process died before create
                        self._dying = False
                        container.name = f"{int(container.id[1:]):012x}_{container.name}"
                        self._set_status(container, ContainerStatus.EXITED)
                        raise Crash(f"process died inside up {' '.join(services)}")
                    self._delete(container)
                    self._create(name, int(container.labels[NUMBER_LABEL]))
                elif container.status is _PAUSED:  # Compose starts it, and Docker refuses
                    raise PermanentError(f"docker compose up failed: {PAUSED_START}")
                elif container.status not in _UP:
                    self._check_dependencies_up(name)
                    self._set_status(container, ContainerStatus.RUNNING)
            following = 1 + max((int(c.labels[NUMBER_LABEL]) for c in mine), default=0)
            for offset in range(spec.replicas - len(mine)):
                self._create(name, following + offset)
        if self._dying:  # nothing to recreate: it died after the containers were made
            self._dying = False
            raise Crash(f"process died at the end of up {' '.join(services)}")

    def start(self, container_ids: Sequence[str]) -> None:
        if not self._write("start", self._services(container_ids)):
            return
        for container in self._get(container_ids):
            if container.status is _PAUSED:  # Docker's answer, word for word
                raise PermanentError(f"docker start failed: {PAUSED_START}")
            self._check_dependencies_up(container.service)
            self._set_status(container, ContainerStatus.RUNNING)

    def unpause(self, container_ids: Sequence[str]) -> None:
        if not self._write("unpause", self._services(container_ids)):
            return
        for container in self._get(container_ids):
            if container.status is not _PAUSED:
                raise PermanentError(
                    f"docker unpause failed: Error response from daemon: Container "
                    f"{container.id} is not paused"
                )
            if self._one_shot(container):  # resumed, it runs to its end at once
                self._set_status(container, ContainerStatus.RUNNING)
                continue
            # Docker resumes the process as it was: same start, and the health it had
            # (a long pause fails its probes, so often a stale `unhealthy`) until the
            # next probe decides.
            container.status = ContainerStatus.RUNNING
        self._moved = True

    def restart(self, container_ids: Sequence[str]) -> None:
        if not self._write("restart", self._services(container_ids)):
            return
        for container in self._get(container_ids):
            self._check_dependencies_up(container.service)
            self._set_status(container, ContainerStatus.RUNNING)

    def stop(self, container_ids: Sequence[str]) -> None:
        if not self._write("stop", self._services(container_ids)):
            return
        for container in self._get(container_ids):
            self._set_status(container, ContainerStatus.EXITED)

    def remove(self, container_ids: Sequence[str]) -> None:
        if not self._write("remove", self._services(container_ids)):
            return
        for container in self._get(container_ids):
            self._delete(container)

    # -- disturbances (out of band, as `docker ...` by hand) ------------------------
    def disturb_status(self, container_id: str, status: ContainerStatus) -> None:
        self._set_status(self.containers_by_id[container_id], status)
        self._moved = True

    def die(self, container_id: str, exit_code: int = 137) -> None:
        """The container's process dies by itself (OOM, a crash, `kill -9` of its pid):
        `unless-stopped` and `always` bring it back (RestartCount + 1, health starting
        again); `no` leaves it exited. `docker stop`/`docker kill` are the user's: they
        never restart (see stop)."""
        container = self.containers_by_id[container_id]
        if self.restart_policy(container.service) in ("always", "unless-stopped") or (
            self.restart_policy(container.service) == "on-failure" and exit_code != 0
        ):
            container.restarts += 1
            self._set_status(container, ContainerStatus.RUNNING)
            self._moved = True
        else:
            self._set_status(container, ContainerStatus.EXITED)
            container.exit_code = exit_code

    def restart_policy(self, service: str) -> str:
        """The stack's services say `unless-stopped`; a one-shot `no`."""
        default = "no" if service in self._one_shots() else "unless-stopped"
        return self.policies.get(service, default)

    def disturb_label(self, container_id: str, key: str, value: str) -> None:
        self.containers_by_id[container_id].labels[key] = value

    def disturb_remove(self, container_id: str) -> None:
        del self.containers_by_id[container_id]

    # -- helpers ---------------------------------------------------------------------
    @property
    def writes(self) -> list[tuple[str, tuple[str, ...]]]:
        return [call for call in self.calls if call[0] in WRITES]

    def snapshot(self) -> dict[str, MemContainer]:
        return {
            cid: replace(c, labels=dict(c.labels), env=dict(c.env))
            for cid, c in self.containers_by_id.items()
        }

    def _write(self, operation: str, services: Sequence[str]) -> bool:
        """Record a write, check the lock, inject faults; False: pretend, change nothing."""
        self.calls.append((operation, tuple(services)))
        if not self._locked():
            self.unlocked_writes.append(f"{operation} {' '.join(services)}")
        for fault in list(self.faults):
            if fault.operation == operation and (
                fault.service is None or fault.service in services
            ):
                if fault.transient or fault.service is None:
                    self.faults.remove(fault)  # a permanent one aimed at a service stays
                self.fired.append(operation)
                error = TransientError if fault.transient else PermanentError
                raise error(
                    f"injected {'transient' if fault.transient else 'permanent'} "
                    f"failure of {operation} {' '.join(services)}"
                )
        if self.crash_after_writes is not None:
            if self.crash_after_writes <= 0:
                self.crash_after_writes = None
                if operation in ("up", "create_beside") and self.crash_inside_up:
                    self._dying = True  # `up` dies part-way (see up)
                    self.fired.append("crash inside up")
                    return True
                self.fired.append(f"crash before {operation}")
                raise Crash(f"process died before {operation} {' '.join(services)}")
            self.crash_after_writes -= 1
        if operation in self.silent:
            self.fired.append(f"silent {operation}")
            return False
        self._moved = True
        return True

    def _locked(self) -> bool:
        """Whether some open file holds the project's lock (flock is per open file, so
        this process's own holder counts)."""
        path = lock_path(self.desired.project, engine_endpoint())
        if not path.exists():
            return False
        with path.open("a") as probe:
            try:
                fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(probe, fcntl.LOCK_UN)
            return False

    def _of(self, service: str) -> list[MemContainer]:
        return [
            c
            for c in self.containers_by_id.values()
            if c.project == self.desired.project
            and c.service == service
            and c.labels.get(ONEOFF_LABEL) != "True"
        ]

    def _get(self, container_ids: Sequence[str]) -> list[MemContainer]:
        return [self.containers_by_id[cid] for cid in container_ids if cid in self.containers_by_id]

    def _services(self, container_ids: Sequence[str]) -> tuple[str, ...]:
        return tuple(sorted({c.service for c in self._get(container_ids)}))

    def create(self, services: Sequence[str]) -> None:
        """`compose up --no-start --no-deps --no-recreate`: each named service gets its
        missing containers, numbered after its highest, not started; nothing else is
        touched (no other service, no existing container)."""
        if not self._write("create", services):
            return
        self.networks_made.add(f"{self.desired.project}_default")
        for name in services:
            mine = self._of(name)
            following = 1 + max((int(c.labels[NUMBER_LABEL]) for c in mine), default=0)
            for offset in range(self.desired.services[name].replicas - len(mine)):
                self._create(name, following + offset, start=False)

    def create_beside(self, service: str, count: int) -> None:
        """`compose up --no-start --no-deps --no-recreate --scale SERVICE=COUNT SERVICE`:
        as Compose's `ensureService` under --no-recreate with the scale given: new
        containers after the highest number until COUNT, not started; an existing one is
        never recreated nor started (--no-start), whatever its hash; above COUNT, the
        obsolete then the highest-numbered go (Compose's scale-down)."""
        if not self._write("create_beside", (service,)):
            return
        self.networks_made.add(f"{self.desired.project}_default")
        spec = self.desired.services[service]
        mine = self._of(service)

        def obsolete(c: MemContainer) -> bool:
            return c.labels.get(CONFIG_HASH_LABEL) != spec.config_hash

        ordered = sorted(mine, key=lambda c: (obsolete(c), int(c.labels[NUMBER_LABEL]), c.id))
        for container in ordered[count:]:
            self._delete(container)
        following = 1 + max((int(c.labels[NUMBER_LABEL]) for c in mine), default=0)
        for offset in range(count - len(mine)):
            if self._dying:  # the process died with the new container half made
                self._dying = False
                raise Crash(f"process died inside create_beside {service}")
            self._create(service, following + offset, start=False)
        if self._dying:
            self._dying = False
            raise Crash(f"process died at the end of create_beside {service}")

    def _create(self, service: str, number: int, *, start: bool = True) -> None:
        spec = self.desired.services[service]
        if start:
            self._check_dependencies_up(service)
        self.volumes_made.update(f"{self.desired.project}_{v}" for v in spec.volumes)
        labels = {
            PROJECT_LABEL: self.desired.project,
            SERVICE_LABEL: service,
            NUMBER_LABEL: str(number),
            ONEOFF_LABEL: "False",
            CONFIG_HASH_LABEL: spec.config_hash,
        }
        if spec.content:
            labels[content.LABEL] = content.label_value(spec.content)
        deps = [d.service for d in spec.depends_on]
        if deps:
            labels[DEPENDS_ON_LABEL] = ",".join(f"{d}:service_started:false" for d in deps)
        container = MemContainer(
            id=f"c{next(self._ids)}",
            name=f"{self.desired.project}-{service}-{number}",
            labels=labels,
            status=ContainerStatus.RUNNING,
            env={"APP_ENV": spec.app_env} if spec.app_env else {},
            image_id=spec.image_id or "sha256:built",
        )
        if start:
            self._set_status(container, ContainerStatus.RUNNING)
        else:
            container.status = ContainerStatus.CREATED
        self.containers_by_id[container.id] = container

    def _delete(self, container: MemContainer) -> None:
        self.containers_by_id.pop(container.id, None)

    def _set_status(self, container: MemContainer, status: ContainerStatus) -> None:
        if status is ContainerStatus.RUNNING and self._one_shot(container):
            container.started = next(self._clock)
            failed = container.service in self.failing_runs
            status, container.exit_code = ContainerStatus.EXITED, int(failed)  # ran to its end
        container.status = status
        spec = self.desired.services.get(container.service)
        wants_health = bool(spec and spec.has_healthcheck)
        # Docker: `starting` from each start until a probe answers (see probe)
        running = "starting" if self.probed_health else "healthy"
        container.health = (
            (running if status is ContainerStatus.RUNNING else "unhealthy")
            if wants_health
            else None
        )
        if status is ContainerStatus.RUNNING:
            container.started = next(self._clock)

    def _dependencies_first(self, services: Sequence[str]) -> list[str]:
        """The services of one `up` in Compose's order: each after the ones it depends
        on among them (Compose keeps those depends_on edges under --no-deps)."""
        chosen, ordered = set(services), list[str]()

        def visit(name: str) -> None:
            if name in ordered:
                return
            for dependency in self.desired.services[name].depends_on:
                if dependency.service in chosen and dependency.service not in ordered:
                    visit(dependency.service)
            ordered.append(name)

        for name in services:
            visit(name)
        return ordered

    def _unmet_condition(self, service: str, chosen: Sequence[str]) -> str | None:
        """Compose's waitDependencies, before `up` starts `service`: each dependency among
        the services of this `up` meets its condition (healthy; completed with code 0).
        Compose waits while it is starting or running (time passes: one probe); what it
        says when the dependency never will, or None."""
        spec = self.desired.services.get(service)
        for dependency in spec.depends_on if spec else ():
            if dependency.service not in chosen or dependency.condition == "service_started":
                continue
            theirs = self._of(dependency.service)
            if any(c.health == "starting" or self._running_one_shot(c) for c in theirs):
                self.probe()
            for c in theirs:
                if dependency.condition == COMPLETES:
                    if c.exit_code:
                        return (
                            f'service "{dependency.service}" didn\'t complete successfully: '
                            f"exit {c.exit_code}"
                        )
                elif c.health != "healthy":
                    why = "has no healthcheck configured" if c.health is None else "is unhealthy"
                    return f"dependency failed to start: container {c.name} {why}"
        return None

    def _running_one_shot(self, container: MemContainer) -> bool:
        return container.status is ContainerStatus.RUNNING and self._one_shot(container)

    def _check_dependencies_up(self, service: str) -> None:
        """Order property: whatever `service` depends on is up (a one-shot: completed, or
        still up) when it is brought up."""
        spec = self.desired.services.get(service)
        if spec is None:
            return
        once = self._one_shots()
        for dependency in spec.depends_on:
            dep_spec = self.desired.services.get(dependency.service)
            if dep_spec is None or dep_spec.replicas == 0:
                continue
            if not any(
                c.status in _UP or (dependency.service in once and _completed(c))
                for c in self._of(dependency.service)
            ):
                self.order_violations.append(f"{service} brought up before {dependency.service}")

    def _one_shot(self, container: MemContainer) -> bool:
        return (
            container.project == self.desired.project
            and container.labels.get(ONEOFF_LABEL) != "True"
            and container.service in self._one_shots()
        )

    def _one_shots(self) -> frozenset[str]:
        """Services some service waits for with `service_completed_successfully` (Compose's
        rule; written here, not imported from the planner under test)."""
        return frozenset(
            d.service
            for spec in self.desired.services.values()
            for d in spec.depends_on
            if d.condition == COMPLETES
        )


def _completed(container: MemContainer) -> bool:
    return container.status is ContainerStatus.EXITED and container.exit_code == 0
