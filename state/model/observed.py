"""ObservedState: what runs now (the observe stage).

A frozen snapshot of the project's containers, read in a constant number of engine
calls (one list, one batched inspect) whatever their number. One-off containers
(`docker compose run`) and other projects' containers are left out: the planner never
sees them, so nothing can touch them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

from state.engine import (
    CONFIG_HASH_LABEL,
    DEPENDS_ON_LABEL,
    NUMBER_LABEL,
    ONEOFF_LABEL,
    PROJECT_LABEL,
    SERVICE_LABEL,
    WORKING_DIR_LABEL,
    ContainerEngine,
    ContainerRecord,
    ContainerStatus,
)
from state.model.content import recorded
from state.resolve.appenv import VARIABLE


@dataclass(frozen=True, kw_only=True)
class ObservedContainer:
    """One container of the project, as planning sees it."""

    id: str
    name: str
    service: str
    number: int
    status: ContainerStatus
    health: str | None = None
    health_output: str | None = None
    exit_code: int | None = None
    app_env: str | None = None
    config_hash: str | None = None
    image_id: str
    depends_on: tuple[str, ...] = ()
    content: dict[str, str] = field(
        default_factory=dict
    )  # file -> digest, as recorded (state/model/content.py)
    working_dir: str | None = None  # the project directory Compose made it from

    @property
    def running(self) -> bool:
        return self.status is ContainerStatus.RUNNING

    @property
    def half_renamed(self) -> bool:
        """Compose recreates as `<old id[:12]>_<project>-<service>-<n>`, then renames; a
        kill in between leaves that name, which nothing but a recreate puts right."""
        prefix, _, rest = self.name.partition("_")
        return (
            len(prefix) == 12
            and all(ch in "0123456789abcdef" for ch in prefix)
            and rest.endswith(f"-{self.service}-{self.number}")
        )


@dataclass(frozen=True, kw_only=True)
class ObservedState:
    """Every container of one project, sorted by service and number."""

    project: str
    containers: tuple[ObservedContainer, ...] = ()

    def of(self, service: str) -> tuple[ObservedContainer, ...]:
        return self._by_service.get(service, ())

    @cached_property
    def _by_service(self) -> dict[str, tuple[ObservedContainer, ...]]:
        """Containers per service, built once: `of` per service stays O(1), plan() linear."""
        grouped: dict[str, list[ObservedContainer]] = {}
        for container in self.containers:
            grouped.setdefault(container.service, []).append(container)
        return {service: tuple(group) for service, group in grouped.items()}

    @property
    def running_environments(self) -> frozenset[str]:
        """The APP_ENVs the running containers were created for."""
        return frozenset(c.app_env or "?" for c in self.containers if c.running)


def observe(engine: ContainerEngine, project: str) -> ObservedState:
    """Snapshot the project's containers (one-offs and other projects excluded)."""
    return observed_of(project, engine.containers(project))


def observed_of(project: str, records: Sequence[ContainerRecord]) -> ObservedState:
    """The snapshot `observe` makes, from records already listed."""
    containers = [
        _observed(record)
        for record in records
        if record.labels.get(PROJECT_LABEL) == project
        and record.labels.get(ONEOFF_LABEL, "False") != "True"
        and SERVICE_LABEL in record.labels
    ]
    containers.sort(key=lambda c: (c.service, c.number, c.name))
    return ObservedState(project=project, containers=tuple(containers))


def _observed(record: ContainerRecord) -> ObservedContainer:
    labels = record.labels
    try:
        number = int(labels.get(NUMBER_LABEL, "1"))
    except ValueError:
        number = 1
    return ObservedContainer(
        id=record.id,
        name=record.name,
        service=labels[SERVICE_LABEL],
        number=number,
        status=record.status,
        health=record.health,
        health_output=record.health_output,
        exit_code=record.exit_code,
        app_env=record.env.get(VARIABLE),
        config_hash=labels.get(CONFIG_HASH_LABEL),
        image_id=record.image_id,
        depends_on=_depends_on(labels.get(DEPENDS_ON_LABEL, "")),
        content=recorded(labels),
        working_dir=labels.get(WORKING_DIR_LABEL),
    )


def _depends_on(label: str) -> tuple[str, ...]:
    """`db:service_healthy:false,cache:service_started:false` -> ("cache", "db")."""
    return tuple(sorted(part.split(":", 1)[0] for part in label.split(",") if part))
