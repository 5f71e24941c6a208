"""The environment table (environments.toml), validated at load.

Resolve stage: what each APP_ENV means to Compose (files, profiles, variables). The
table is data; no code branches on an environment's name. It sits in Compose's project
directory, beside the compose files its `files` name (state/resolve/discovery.py finds
it); `description` is optional everywhere.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from state.engine import Backend
from state.errors import ConfigError, where_and_why
from state.resolve.guarding import ConfirmSpec, EngineSpec, PolicySpec

TABLE_FILE = "environments.toml"

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


class Environment(BaseModel):
    """One row of the table: how Compose is called for this APP_ENV, and on what backend."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    name: EnvName
    description: str = ""
    files: tuple[str, ...] = Field(min_length=1)
    profiles: tuple[str, ...] = ()
    variables: dict[VarName, str] = Field(default_factory=dict)
    backend: Backend = Backend.COMPOSE  # where it runs: local Compose, or a swarm
    engines: tuple[str, ...] = ()  # pinned: it runs only on these (state/resolve/guarding.py)
    notify: str = ""  # a command told each apply's outcome (reconciler/notify/hook.py)

    @model_validator(mode="after")
    def _no_variable_the_reconciler_sets(self) -> Environment:
        for name in sorted(self.variables):
            if name in SET_ELSEWHERE:
                raise ValueError(f"{name} is {SET_ELSEWHERE[name]}, not in `variables`")
        return self


class EnvironmentTable(BaseModel):
    """All environments, plus which one applies when APP_ENV is set nowhere."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    default: EnvName
    environments: dict[EnvName, Environment] = Field(min_length=1)
    # service -> files whose content the service's containers depend on (a dependency
    # list baked into its image, say): an edit recreates them (state/model/content.py).
    content: dict[ServiceName, tuple[str, ...]] = Field(default_factory=dict)
    # The command that makes this project's images, named in the error when an image is
    # neither on the engine nor pullable nor buildable (state/model/desired.py).
    build_images: str = ""
    # Guardrails (state/resolve/guarding.py): engines, confirmations, policies.
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

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.environments)

    def __getitem__(self, name: str) -> Environment:
        return self.environments[name]


def _unknown(kind: str, name: str, known: Iterable[str], where: str) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{where} names {kind} {name!r}, which the table does not define{hint}"


def load_table(compose_dir: Path) -> EnvironmentTable:
    """Read and validate `<compose_dir>/environments.toml`; ConfigError if it is malformed."""
    path = compose_dir / TABLE_FILE
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"{path} not found: run from the project directory or pass --project-directory"
        ) from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path} cannot be read: {exc}; fix the file") from None
    try:
        table = EnvironmentTable.model_validate(raw)
    except ValidationError as exc:
        where, why = where_and_why(exc.errors())
        raise ConfigError(f"{path} is malformed at {where}: {why}; fix the table") from None
    for env in table.environments.values():
        for name in env.files:
            if not (compose_dir / name).is_file():
                missing = f"names {name!r}, which is not in {compose_dir}"
                raise ConfigError(
                    f"{path}: environment {env.name!r} {missing}: "
                    "create that file or fix the environment's `files`"
                )
    _check_content(table, compose_dir, path)
    return table


def _check_content(table: EnvironmentTable, compose_dir: Path, path: Path) -> None:
    """Every file `[content]` declares exists (relative to the table's folder)."""
    for service, names in table.content.items():
        for name in names:
            if not (compose_dir / name).is_file():
                raise ConfigError(
                    f"{path}: content of service {service!r} names {name!r}, which is not a "
                    f"file in {compose_dir}: create that file or fix the `[content]` table"
                )
