"""The environment table's guardrails, validated at load (resolve stage): data, not code.

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
A table with none of these pins nothing, and nothing changes.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

EnvName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]*$")]
Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
Rule = Literal[
    "no-latest-image",
    "ports-on-loopback",
    "no-bind-mounts",
    "no-privileged",
    "no-profile-services",
    "no-debug-ports",
    "app-env-matches",
]


class EngineSpec(BaseModel):
    """An engine the table knows, and what may run on it."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    endpoint: str | None = None  # as DOCKER_HOST writes it: unix:///..., ssh://..., tcp://...
    context: str | None = None  # a docker context's name
    daemon: str | None = None  # `docker info`'s Name (the host's name) or ID
    production: bool = False
    allow: tuple[EnvName, ...] = ()  # on a production engine: the only environments

    @model_validator(mode="after")
    def _matches_something(self) -> EngineSpec:
        if not (self.endpoint or self.context or self.daemon):
            raise ValueError("an engine needs `endpoint`, `context` or `daemon` to be found by")
        if self.production and not self.allow:
            raise ValueError("a production engine needs `allow`: the environments that may run")
        return self


class ConfirmSpec(BaseModel):
    """Where destructive plans need a confirmation besides production engines."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    environments: tuple[EnvName, ...] = ()
    stop_share: float = Field(default=0.5, gt=0, le=1)  # stopping more than this share


class PolicySpec(BaseModel):
    """One rule of the team's, for some environments."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    name: Name
    rule: Rule
    environments: tuple[EnvName, ...] = Field(min_length=1)
    allow: tuple[str, ...] = ()  # ports-on-loopback: addresses (or address:port) allowed
    profiles: tuple[str, ...] = ()  # no-profile-services: the profiles not allowed
    ports: tuple[int, ...] = ()  # no-debug-ports: the ports (published or in the container)

    @model_validator(mode="after")
    def _parameters_fit_the_rule(self) -> PolicySpec:
        needs = {"no-profile-services": "profiles", "no-debug-ports": "ports"}
        wanted = needs.get(self.rule)
        if wanted and not getattr(self, wanted):
            raise ValueError(f"rule {self.rule} needs `{wanted}`")
        for parameter in ("allow", "profiles", "ports"):
            if (
                getattr(self, parameter)
                and parameter != wanted
                and not (parameter == "allow" and self.rule == "ports-on-loopback")
            ):
                raise ValueError(f"rule {self.rule} takes no `{parameter}`")
        return self
