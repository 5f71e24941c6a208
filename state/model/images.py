"""What `docker compose up` does about a service's image (desire stage, and the apply's
preparation in state/docker/compose.py): pull it, build it, or use what is there.

Compose v2.40's rules (pkg/compose/pull.go `mustPull`, build.go `build`), per service of
the resolved model: the image is `image:`, else `<project>-<service>`. `pull_policy`
always: pulled every time; never: never pulled; build: built every time; missing (the
default; also if_not_present and the refresh policies daily, weekly, every_<duration>):
pulled when not on the engine. A service without `image:` is never pulled. A service
with `build:` (or whose image another service builds) that is not on the engine, or
whose policy is build, is built; when its pull fails, Compose builds instead. Pure: no
I/O.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any


class Need(enum.StrEnum):
    """What `up` must do before it can create the service's containers."""

    PULL = "will be pulled"
    BUILD = "will be built"
    PULL_OR_BUILD = "will be pulled (built if the pull fails)"
    MISSING = "is not on this engine"  # and pull_policy never, no build: `up` fails


def image_name(service: str, raw: Mapping[str, Any], project: str) -> str:
    """Compose's GetImageNameOrDefault."""
    image = raw.get("image")
    return str(image) if image else f"{project}-{service}"


def buildable(service: str, services: Mapping[str, Mapping[str, Any]]) -> bool:
    """Compose's isServiceImageToBuild: it has `build:`, or another service builds its image."""
    raw = services[service]
    if raw.get("build"):
        return True
    image = raw.get("image")
    return bool(image) and any(
        other.get("build") and other.get("image") == image for other in services.values()
    )


def need(raw: Mapping[str, Any], *, present: bool, can_build: bool) -> Need | None:
    """What `up` does for this image (None: it uses the one on the engine)."""
    policy = str(raw.get("pull_policy") or "missing")
    if policy == "build" or (not raw.get("image") and not present):
        return Need.BUILD  # an image named after the service is never pulled
    if policy == "always":
        return Need.PULL_OR_BUILD if can_build else Need.PULL
    if present:
        return None
    if policy == "never":
        return Need.BUILD if can_build else Need.MISSING
    return Need.PULL_OR_BUILD if can_build else Need.PULL


def needs(
    services: Mapping[str, Mapping[str, Any]], project: str, present: frozenset[str]
) -> dict[str, tuple[str, Need]]:
    """service -> (image, need) for every service whose image `up` must pull or build
    (`present`: the images on the engine, by the names image_name gives)."""
    found: dict[str, tuple[str, Need]] = {}
    for name, raw in services.items():
        image = image_name(name, raw, project)
        wanted = need(raw, present=image in present, can_build=buildable(name, services))
        if wanted is not None:
            found[name] = (image, wanted)
    return found
