"""The environment table's schema: pydantic checks what a user wrote (resolve stage).

Imported only when a table must be validated: on a cache miss of state/resolve/table.py
`load_table` (a new or edited table), by `validated_table`, and by `reconcile init`
before it writes one. `validated` returns the table's JSON form, which
state/resolve/table.py turns into the frozen records every other module uses (and
keeps in the cache), so the records never carry what these rules refused. The classes
keep the records' names: pydantic's messages name them ("a valid dictionary or instance
of Environment"). tests/unit/test_table_cache.py checks that fields and defaults agree.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from state.backend import Backend
from state.errors import ConfigError, where_and_why
from state.resolve.guarding import Rule

# Variables the reconciler sets itself: in `variables` they would be silently overridden.
SET_ELSEWHERE = {
    "APP_ENV": "set by the reconciler itself",
    "COMPOSE_PROFILES": "set from the environment's `profiles`: list them there",
    "COMPOSE_FILE": "set from the environment's `files`: list them there",
    "COMPOSE_PROJECT_NAME": "the project's name: use --project-name or .env",
    "COMPOSE_DISABLE_ENV_FILE": "set by the reconciler itself (it reads .env as Compose does)",
}

EnvName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]*$")]
VarName = Annotated[str, StringConstraints(pattern=r"^[A-Z_][A-Z0-9_]*$")]
ServiceName = Annotated[str, StringConstraints(pattern=r"^[a-zA-Z0-9][a-zA-Z0-9._-]*$")]
Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]


def validated(raw: object, source: str) -> dict[str, Any]:
    """`raw` (a parsed table) checked, as JSON data; ConfigError naming `source` and the
    first key at fault when it breaks a rule."""
    try:
        table = EnvironmentTable.model_validate(raw)
    except ValidationError as exc:
        where, why = where_and_why(exc.errors())
        raise ConfigError(f"{source} is malformed at {where}: {why}; fix the table") from None
    return table.model_dump(mode="json")


class EngineSpec(BaseModel):
    """`[engines.NAME]`: an engine the table knows, and what may run on it."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    endpoint: str | None = None
    context: str | None = None
    daemon: str | None = None
    production: bool = False
    allow: tuple[EnvName, ...] = ()

    @model_validator(mode="after")
    def _matches_something(self) -> EngineSpec:
        if not (self.endpoint or self.context or self.daemon):
            raise ValueError("an engine needs `endpoint`, `context` or `daemon` to be found by")
        if self.production and not self.allow:
            raise ValueError("a production engine needs `allow`: the environments that may run")
        return self


class ConfirmSpec(BaseModel):
    """`[confirm]`: where destructive plans need a confirmation besides production engines."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    environments: tuple[EnvName, ...] = ()
    stop_share: float = Field(default=0.5, gt=0, le=1)


class PolicySpec(BaseModel):
    """`[[policies]]`: one rule of the team's, for some environments."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    name: Name
    rule: Rule
    environments: tuple[EnvName, ...] = Field(min_length=1)
    allow: tuple[str, ...] = ()
    profiles: tuple[str, ...] = ()
    ports: tuple[int, ...] = ()

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


class Environment(BaseModel):
    """`[environments.NAME]`: one row of the table."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    name: EnvName
    description: str = ""
    files: tuple[str, ...] = Field(min_length=1)
    profiles: tuple[str, ...] = ()
    variables: dict[VarName, str] = Field(default_factory=dict)
    backend: Backend = Backend.COMPOSE
    engines: tuple[str, ...] = ()
    notify: str = ""

    @model_validator(mode="after")
    def _no_variable_the_reconciler_sets(self) -> Environment:
        for name in sorted(self.variables):
            if name in SET_ELSEWHERE:
                raise ValueError(f"{name} is {SET_ELSEWHERE[name]}, not in `variables`")
        return self


class EnvironmentTable(BaseModel):
    """The whole file: every environment, the default one, content files, guardrails."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    default: EnvName
    environments: dict[EnvName, Environment] = Field(min_length=1)
    content: dict[ServiceName, tuple[str, ...]] = Field(default_factory=dict)
    build_images: str = ""
    engines: dict[str, EngineSpec] = Field(default_factory=dict)
    confirm: ConfirmSpec = Field(default_factory=ConfirmSpec)
    policies: tuple[PolicySpec, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _name_each_environment(cls, data: object) -> object:
        if isinstance(data, dict) and isinstance(data.get("environments"), dict):
            named = {
                key: {"name": key, **value} if isinstance(value, dict) else value
                for key, value in data["environments"].items()
            }
            data = {**data, "environments": named}
        return data

    @model_validator(mode="after")
    def _default_is_listed(self) -> EnvironmentTable:
        if self.default not in self.environments:
            raise ValueError(f"default {self.default!r} is not one of the environments")
        return self

    @model_validator(mode="after")
    def _guards_name_what_exists(self) -> EnvironmentTable:
        known = set(self.environments)
        for env in self.environments.values():
            for pinned in env.engines:
                if pinned not in self.engines:
                    where = f"environments.{env.name}.engines"
                    raise ValueError(_unknown("engine", pinned, self.engines, where))
        for engine_name, spec in self.engines.items():
            for env_name in spec.allow:
                if env_name not in known:
                    where = f"engines.{engine_name}.allow"
                    raise ValueError(_unknown("environment", env_name, known, where))
        for env_name in self.confirm.environments:
            if env_name not in known:
                raise ValueError(_unknown("environment", env_name, known, "confirm.environments"))
        seen: set[str] = set()
        for policy in self.policies:
            if policy.name in seen:
                raise ValueError(f"two policies are named {policy.name!r}: give each its own name")
            seen.add(policy.name)
            for env_name in policy.environments:
                if env_name not in known:
                    where = f"policies {policy.name!r}.environments"
                    raise ValueError(_unknown("environment", env_name, known, where))
        return self


def _unknown(kind: str, name: str, known: Iterable[str], where: str) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{where} names {kind} {name!r}, which the table does not define{hint}"
