"""The environment table's guardrails (resolve stage): data, not code; frozen records.

- `[engines.NAME]`: an engine the table knows, matched by its endpoint (DOCKER_HOST or
  the docker context's), its context's name, or the daemon's identity as `docker info`
  reports it (Name or ID); `production = true` marks a production host, where only
  the environments in `allow` may run, switching what runs needs an explicit
  confirmation, and destructive plans need one too.
- `engines = [...]` on an environment pins it: it runs only on those engines.
- `[confirm]`: where else destructive plans need confirmation (`environments`), and the
  share of the services a plan may stop before it counts as destructive.
- `[[policies]]`: rules evaluated on the plan and the desired state (reconciler/planner/
  policies.py), each with a name, the environments it applies to and its parameters.
A table with none of these pins nothing, and nothing changes. What each may hold is
checked once, by pydantic, in state/resolve/table_schema.py; these records only carry it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Rule = Literal[
    "no-latest-image",
    "ports-on-loopback",
    "no-bind-mounts",
    "no-privileged",
    "no-profile-services",
    "no-debug-ports",
    "app-env-matches",
]


@dataclass(frozen=True, kw_only=True)
class EngineSpec:
    """An engine the table knows, and what may run on it."""

    endpoint: str | None = None  # as DOCKER_HOST writes it: unix:///..., ssh://..., tcp://...
    context: str | None = None  # a docker context's name
    daemon: str | None = None  # `docker info`'s Name (the host's name) or ID
    production: bool = False
    allow: tuple[str, ...] = ()  # on a production engine: the only environments


@dataclass(frozen=True, kw_only=True)
class ConfirmSpec:
    """Where destructive plans need a confirmation besides production engines."""

    environments: tuple[str, ...] = ()
    stop_share: float = 0.5  # stopping more than this share of the services


@dataclass(frozen=True, kw_only=True)
class PolicySpec:
    """One rule of the team's, for some environments."""

    name: str
    rule: Rule
    environments: tuple[str, ...]
    allow: tuple[str, ...] = ()  # ports-on-loopback: addresses (or address:port) allowed
    profiles: tuple[str, ...] = ()  # no-profile-services: the profiles not allowed
    ports: tuple[int, ...] = ()  # no-debug-ports: the ports (published or in the container)
