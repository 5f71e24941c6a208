"""The oracle: is the world converged? Judged from the world itself, written from the
spec, sharing no code with the reconciler (nothing from reconciler/, no planning helper
of state/): the properties use it instead of asking the planner under test whether its
own next plan is empty.

It reads plain data: the in-memory world's containers (labels, status, exit code,
image, environment) and volumes, and the desired state's fields. The rules, from the
spec (docs: shared/spec/environment-management.md, DESIGN.md's decision table):
- each wanted service has exactly its scale of containers, one per number, each
  running (a crash loop, `restarting`, is left to its restart policy and counts as
  up), or, for a one-shot (a service some wanted service waits for with
  `service_completed_successfully`), exited with code 0; each created from the
  desired config hash, image and APP_ENV;
- no container of a service that is not wanted;
- containers of other projects and one-off containers untouched;
- named volumes intact.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Compose's own label names, spelled out here (not imported from the product).
PROJECT = "com.docker.compose.project"
SERVICE = "com.docker.compose.service"
NUMBER = "com.docker.compose.container-number"
ONEOFF = "com.docker.compose.oneoff"
HASH = "com.docker.compose.config-hash"
COMPLETES = "service_completed_successfully"


@dataclass(frozen=True)
class Box:
    """One container, as `docker inspect` shows it."""

    id: str
    name: str
    labels: tuple[tuple[str, str], ...]
    status: str
    exit_code: int
    image: str
    app_env: str | None
    started: int  # StartedAt: a restart changes it

    def label(self, key: str) -> str | None:
        return dict(self.labels).get(key)


@dataclass(frozen=True)
class World:
    containers: tuple[Box, ...]
    volumes: frozenset[str]


def look(engine: Any) -> World:
    """What the in-memory engine holds, as plain data (duck-typed: no import of it)."""
    return World(
        containers=tuple(
            Box(
                id=c.id,
                name=c.name,
                labels=tuple(sorted(c.labels.items())),
                status=str(c.status.value),
                exit_code=c.exit_code,
                image=c.image_id,
                app_env=c.env.get("APP_ENV"),
                started=c.started,
            )
            for c in engine.containers_by_id.values()
        ),
        volumes=frozenset(engine.volumes_made),
    )


def _waited_for_completion(desired: Any) -> set[str]:
    return {
        d.service
        for spec in desired.services.values()
        for d in spec.depends_on
        if d.condition == COMPLETES
    }


def problems(desired: Any, before: World, after: World) -> list[str]:
    """Everything in `after` that the spec says a converged world may not have; empty:
    converged. `before` is the world the apply started from (what must stay)."""
    found: list[str] = []
    project = desired.project

    def ours(box: Box) -> bool:
        return box.label(PROJECT) == project and box.label(ONEOFF) != "True"

    one_shots = _waited_for_completion(desired)
    mine = [b for b in after.containers if ours(b)]
    for name, spec in sorted(desired.services.items()):
        boxes = [b for b in mine if b.label(SERVICE) == name]
        numbers = [b.label(NUMBER) for b in boxes]
        if len(boxes) != spec.replicas:
            found.append(f"{name}: {len(boxes)} containers, scale {spec.replicas}")
        if len(set(numbers)) != len(numbers):
            found.append(f"{name}: numbers repeat: {sorted(numbers, key=str)}")
        for box in boxes:
            if box.status == "restarting":
                pass  # a crash loop: the restart policy's business, reported, not touched
            elif name in one_shots:
                if not (box.status == "exited" and box.exit_code == 0):
                    found.append(f"{box.name}: a one-shot {box.status} code {box.exit_code}")
            elif box.status != "running":
                found.append(f"{box.name}: {box.status}, not running")
            if box.label(HASH) != spec.config_hash:
                found.append(f"{box.name}: config hash {box.label(HASH)} != {spec.config_hash}")
            if spec.image_id is not None and box.image != spec.image_id:
                found.append(f"{box.name}: image {box.image} != {spec.image_id}")
            if box.app_env != spec.app_env:
                found.append(f"{box.name}: APP_ENV {box.app_env} != {spec.app_env}")
    for box in mine:
        if box.label(SERVICE) not in desired.services:
            found.append(f"{box.name}: service {box.label(SERVICE)} is not wanted")
    foreign_before = {b for b in before.containers if not ours(b)}
    foreign_after = {b for b in after.containers if not ours(b)}
    if foreign_before != foreign_after:
        changed = sorted(b.name for b in foreign_before ^ foreign_after)
        found.append(f"other projects' or one-off containers changed: {changed}")
    if not before.volumes <= after.volumes:
        found.append(f"volumes lost: {sorted(before.volumes - after.volumes)}")
    return found
