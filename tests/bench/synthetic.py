"""The synthetic project of `just bench`: N busybox services in a layout the reconciler reads.

A project directory with `compose/environments.toml` (prod: no profile; dev: the `dev`
profile) and one `compose/compose.yaml`. Services come in groups of ten: a head with a
cheap healthcheck, a depends_on chain behind it (the first link waits for the head to be
healthy), one service in the `dev` profile, one more short chain, and the rest
independent (a `plain` project: every service independent, no healthcheck, no profile:
what a plain Compose project is). Every service has APP_ENV in its environment, so
switching prod -> dev recreates all of them. `init: true` makes every container stop at
once.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

IMAGE = "spot-busybox:local"
GROUP = 10
DEV_POSITION = 5
ATTEMPTS = 5
ENVIRONMENTS = """\
default = "prod"

[environments.prod]
description = "bench: the services without a profile"
files = ["compose.yaml"]
profiles = []

[environments.dev]
description = "bench: plus the dev profile"
files = ["compose.yaml"]
profiles = ["dev"]
"""
HEADER = f"""\
x-service: &service
  image: {IMAGE}
  pull_policy: never
  init: true
  command: ["sleep", "2147483647"]
  environment:
    APP_ENV: ${{APP_ENV:-prod}}

services:
"""
HEALTHCHECK = """\
    healthcheck:
      test: ["CMD", "true"]
      interval: 2s
      timeout: 2s
      retries: 3
"""


@dataclass(frozen=True)
class ServiceSpec:
    """One generated service: its name, what it depends on, and its extras."""

    name: str
    depends_on: tuple[tuple[str, str], ...] = ()  # (service, condition)
    healthcheck: bool = False
    profile: str | None = None


def layout(count: int, plain: bool = False) -> list[ServiceSpec]:
    """The services of a project of `count` services (deterministic). `plain`: no
    healthcheck, no depends_on, no profile (Compose's own no-op `up` is then cheapest)."""
    if plain:
        width = max(3, len(str(count - 1)))
        return [ServiceSpec(name=f"s{index:0{width}d}") for index in range(count)]
    width = max(3, len(str(count - 1)))

    def name(index: int) -> str:
        return f"s{index:0{width}d}"

    specs = []
    for index in range(count):
        head, position = index - index % GROUP, index % GROUP
        depends: tuple[tuple[str, str], ...] = ()
        if position == 1:
            depends = ((name(head), "service_healthy"),)
        elif position in (2, 3, 7):
            depends = ((name(index - 1), "service_started"),)
        elif position == DEV_POSITION:
            depends = ((name(head), "service_started"),)
        specs.append(
            ServiceSpec(
                name=name(index),
                depends_on=depends,
                healthcheck=position == 0,
                profile="dev" if position == DEV_POSITION else None,
            )
        )
    return specs


def compose_yaml(specs: list[ServiceSpec]) -> str:
    parts = [HEADER]
    for spec in specs:
        parts.append(f"  {spec.name}:\n    <<: *service\n")
        if spec.profile:
            parts.append(f"    profiles: [{spec.profile}]\n")
        if spec.depends_on:
            parts.append("    depends_on:\n")
            parts += [f"      {dep}: {{condition: {cond}}}\n" for dep, cond in spec.depends_on]
        if spec.healthcheck:
            parts.append(HEALTHCHECK)
    return "".join(parts)


@dataclass(frozen=True)
class SyntheticProject:
    """A generated project directory and the unique Compose project name it runs under."""

    directory: Path
    name: str
    specs: tuple[ServiceSpec, ...]

    @classmethod
    def create(cls, root: Path, count: int, plain: bool = False) -> SyntheticProject:
        specs = layout(count, plain)
        directory = root / f"{'plain' if plain else 'n'}{count}"
        (directory / "compose").mkdir(parents=True)
        (directory / "compose" / "environments.toml").write_text(ENVIRONMENTS)
        (directory / "compose" / "compose.yaml").write_text(compose_yaml(specs))
        name = f"spotbench-{'plain' if plain else 'n'}{count}-{uuid.uuid4().hex[:6]}"
        return cls(directory=directory, name=name, specs=tuple(specs))

    def services(self, app_env: str) -> list[str]:
        """The services that run in `app_env` (dev adds the dev profile)."""
        return [s.name for s in self.specs if s.profile is None or app_env == "dev"]

    def remove_everything(self) -> None:
        """Every container, network and volume carrying the project's label.

        On a loaded engine a network can still count a removed container's endpoint
        for a moment, or for good (Docker 20.10 leaves a stale endpoint behind: "has
        active endpoints"): each kind is retried until nothing with the label is left,
        and a network that would not go has its endpoints disconnected by force first."""
        label = f"label=com.docker.compose.project={self.name}"
        for kind, remove in (
            ("container", ["rm", "-f"]),
            ("network", ["rm"]),
            ("volume", ["rm"]),
        ):
            listing = ["docker", kind, "ls", "-q", "--filter", label]
            if kind == "container":
                listing.insert(3, "-a")
            for attempt in range(ATTEMPTS):
                names = subprocess.run(listing, capture_output=True, text=True).stdout.split()
                if not names:
                    break
                if attempt:
                    time.sleep(1)
                    if kind == "network":
                        for network in names:
                            _disconnect_all(network)
                subprocess.run(["docker", kind, *remove, *names], capture_output=True)
            else:
                print(f"left behind: {kind}s labelled {label}", file=sys.stderr)


def _disconnect_all(network: str) -> None:
    """Force every endpoint off `network`, the stale ones of removed containers too."""
    found = subprocess.run(
        ["docker", "network", "inspect", network, "--format", "{{json .Containers}}"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    endpoints = json.loads(found) if found.startswith("{") else {}
    for key, endpoint in endpoints.items():
        name = endpoint.get("Name") or key  # a stale endpoint is known by its id only
        subprocess.run(
            ["docker", "network", "disconnect", "--force", network, name], capture_output=True
        )
