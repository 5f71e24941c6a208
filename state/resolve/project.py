"""The Compose project a command acts on: resolve stage, after APP_ENV.

Combines where the project was found (state/resolve/discovery.py: its directory, the
`.env` read there, Compose's project directory, the compose files), the resolved
APP_ENV and, when there is an environment table, its row into what Compose needs:
files, profiles, variables, project name (state/resolve/naming.py). Without a table
the project is what plain `docker compose up` runs: the files Compose finds and the
profiles of COMPOSE_PROFILES (the process environment, else the env files), with no
variable added. The engine adapter builds the Compose command line from this one
description.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from state.engine import Backend
from state.resolve.appenv import VARIABLE, ResolvedAppEnv
from state.resolve.discovery import COMPOSE_DIR, Found
from state.resolve.inputs import ProjectInputs, gather
from state.resolve.naming import project_name as name_of
from state.resolve.precedence import resolve, without_table
from state.resolve.table import (
    TABLE_FILE,
    Environment,
    EnvironmentTable,
    TableCache,
    load_table,
)

PROFILES_VARIABLE = "COMPOSE_PROFILES"

__all__ = ["COMPOSE_DIR", "TABLE_FILE", "ComposeProject", "load_project", "project_from"]


@dataclass(frozen=True, kw_only=True)
class ComposeProject:
    """Everything needed to call Compose for one project in one environment.

    `directory` is the project's own (its `.env`, its name); `compose_directory` is
    Compose's project directory, which holds the table (default: `directory/compose`,
    this repository's layout). `compose_files`, when given, win over the table's."""

    directory: Path
    env_file: Path
    name: str
    table: EnvironmentTable | None
    app_env: ResolvedAppEnv
    variables: dict[str, str]
    content_override: Path | None = None  # reconciler/reads/content.py: the last -f file
    compose_directory: Path | None = None
    table_path: Path | None = None
    compose_files: tuple[Path, ...] = ()
    default_profiles: tuple[str, ...] = ()  # without a table: COMPOSE_PROFILES
    read_env_files: tuple[Path, ...] | None = None  # None: env_file, if it is a file
    # The env files' variables as read (once): Compose interpolates with them where the
    # process environment leaves a variable unset. Never shown: they may be secrets.
    env_values: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def compose_dir(self) -> Path:
        return self.compose_directory or self.directory / COMPOSE_DIR

    @property
    def environment(self) -> Environment | None:
        return self.table[self.app_env.name] if self.table is not None else None

    @property
    def backend(self) -> Backend:
        environment = self.environment
        return environment.backend if environment is not None else Backend.COMPOSE

    @property
    def files(self) -> tuple[Path, ...]:
        environment = self.environment
        if self.compose_files or environment is None:
            listed = self.compose_files
        else:
            listed = tuple(self.compose_dir / name for name in environment.files)
        return listed + ((self.content_override,) if self.content_override else ())

    @property
    def profiles(self) -> tuple[str, ...]:
        environment = self.environment
        return environment.profiles if environment is not None else self.default_profiles

    @property
    def content_files(self) -> dict[str, tuple[Path, ...]]:
        """The table's `[content]`: service -> files, relative to the table's folder."""
        declared = self.table.content if self.table is not None else {}
        return {s: tuple(self.compose_dir / n for n in names) for s, names in declared.items()}

    def all_files(self) -> tuple[Path, ...]:
        """The compose files of every environment (an .env edit may switch APP_ENV)."""
        if self.compose_files or self.table is None:
            return self.compose_files
        names = {name for env in self.table.environments.values() for name in env.files}
        return tuple(sorted(self.compose_dir / name for name in names))

    def process_variables(self) -> dict[str, str]:
        """What Compose's process environment must hold: the resolved variables,
        COMPOSE_PROFILES pinned to ours so a stray one in the shell or .env adds none, and
        COMPOSE_DISABLE_ENV_FILE so that without env_files() Compose reads none either
        (it would read the `.env` of its project directory, which may not be ours)."""
        return {
            **self.variables,
            PROFILES_VARIABLE: ",".join(self.profiles),
            "COMPOSE_DISABLE_ENV_FILE": "1",
        }

    def env_files(self) -> tuple[Path, ...]:
        """The env files the resolve stage read (for ports, passwords): Compose reads exactly
        these, and none when there are none."""
        if self.read_env_files is not None:
            return self.read_env_files
        return (self.env_file,) if self.env_file.is_file() else ()

    def compose_args(self) -> list[str]:
        """Global `docker compose` arguments for plain Compose calls outside the adapter
        (compose/images/wanted.py, the stack's tests): directory, name, files, profiles."""
        args = ["--project-directory", str(self.compose_dir), "--project-name", self.name]
        for env_file in self.env_files():
            args += ["--env-file", str(env_file)]
        for path in self.files:
            args += ["-f", str(path)]
        for profile in self.profiles:
            args += ["--profile", profile]
        return args


def load_project(
    directory: Path,
    *,
    project_name: str | None = None,
    env_file: Path | None = None,
    process_env: Mapping[str, str] | None = None,
) -> ComposeProject:
    """Find the project from `directory` (as --project-directory) and resolve it."""
    environ = os.environ if process_env is None else process_env
    inputs = gather(directory, project_directory=directory, env_file=env_file, environ=environ)
    return project_from(inputs, table_of(inputs), project_name)


def table_of(inputs: ProjectInputs, cache: TableCache | None = None) -> EnvironmentTable | None:
    """The environment table where the project was found, if there is one (`cache`: where
    the tables validated before are kept, reconciler/store/table_cache.py)."""
    found = inputs.found or Found.layout(inputs.directory)
    return load_table(found.table.parent, cache) if found.table is not None else None


def project_from(
    inputs: ProjectInputs, table: EnvironmentTable | None, explicit_name: str | None
) -> ComposeProject:
    """Resolve APP_ENV against the environment table; ConfigError on bad input.

    Variables handed to Compose: APP_ENV (always the resolved one), then each of the
    environment's `variables` unless the process environment already sets it (the
    command line wins over the table, the table over `.env`). Without a table: none,
    and the profiles of COMPOSE_PROFILES, as Compose reads it."""
    found = inputs.found or Found.layout(inputs.directory)
    variables: dict[str, str] = {}
    if table is None:
        app_env = without_table()
    else:
        app_env = resolve(table, inputs)
        variables[VARIABLE] = app_env.name
        for key, value in table[app_env.name].variables.items():
            variables[key] = inputs.environ.get(key) or value
    project = ComposeProject(
        directory=inputs.directory,
        env_file=inputs.env_file,
        name="-",
        table=table,
        app_env=app_env,
        variables=variables,
        compose_directory=found.compose_directory,
        table_path=found.table if table is not None else None,
        compose_files=found.files,
        default_profiles=() if table is not None else _profiles(inputs),
        read_env_files=inputs.env_files if inputs.read_files is not None else None,
        env_values={key: binding.value for key, binding in inputs.bindings.items()},
    )

    def lookup(key: str) -> str | None:
        return variables[key] if key in variables else inputs.lookup(key)

    name = name_of(inputs, explicit=explicit_name, files=project.files, lookup=lookup)
    return replace(project, name=name)


def _profiles(inputs: ProjectInputs) -> tuple[str, ...]:
    """COMPOSE_PROFILES as Compose reads it: comma separated, items trimmed, empty dropped."""
    raw = inputs.lookup(PROFILES_VARIABLE) or ""
    return tuple(dict.fromkeys(p.strip() for p in raw.split(",") if p.strip()))
