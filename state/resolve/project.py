"""The Compose project a command acts on: resolve stage, after APP_ENV.

Combines the project directory (where `.env` and `compose/` live), the resolved
APP_ENV and its row of the environment table into what Compose needs: files,
profiles, variables, project name (state/resolve/naming.py). The reconciler's engine adapter
builds the Compose command line from this one description.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from state.resolve.appenv import VARIABLE, ResolvedAppEnv
from state.resolve.inputs import ProjectInputs, read_inputs
from state.resolve.naming import project_name as name_of
from state.resolve.precedence import resolve
from state.resolve.table import Environment, EnvironmentTable, load_table

COMPOSE_DIR = "compose"


class ComposeProject(BaseModel):
    """Everything needed to call Compose for one project in one environment."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    directory: Path
    env_file: Path
    name: str
    table: EnvironmentTable
    app_env: ResolvedAppEnv
    variables: dict[str, str]
    content_override: Path | None = None  # reconciler/reads/content.py: the last -f file

    @property
    def compose_dir(self) -> Path:
        return self.directory / COMPOSE_DIR

    @property
    def environment(self) -> Environment:
        return self.table[self.app_env.name]

    @property
    def files(self) -> tuple[Path, ...]:
        listed = tuple(self.compose_dir / name for name in self.environment.files)
        return listed + ((self.content_override,) if self.content_override else ())

    @property
    def profiles(self) -> tuple[str, ...]:
        return self.environment.profiles

    def process_variables(self) -> dict[str, str]:
        """What Compose's process environment must hold: the resolved variables,
        COMPOSE_PROFILES pinned to ours so a stray one in the shell or .env adds none, and
        COMPOSE_DISABLE_ENV_FILE so that without env_files() Compose reads none either
        (it would read compose/.env, its project directory's)."""
        return {
            **self.variables,
            "COMPOSE_PROFILES": ",".join(self.profiles),
            "COMPOSE_DISABLE_ENV_FILE": "1",
        }

    def env_files(self) -> tuple[Path, ...]:
        """The env file the resolve stage read (for ports, passwords): Compose reads exactly
        it, and none when it is missing or a directory."""
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
    """Read the inputs of `directory` and resolve its project (see `project_from`)."""
    environ = os.environ if process_env is None else process_env
    inputs = read_inputs(directory, env_file=env_file, environ=environ)
    return project_from(inputs, load_table(inputs.directory / COMPOSE_DIR), project_name)


def project_from(
    inputs: ProjectInputs, table: EnvironmentTable, explicit_name: str | None
) -> ComposeProject:
    """Resolve APP_ENV against the environment table; ConfigError on bad input.

    Variables handed to Compose: APP_ENV (always the resolved one), then each of the
    environment's `variables` unless the process environment already sets it (the
    command line wins over the table, the table over `.env`).
    """
    app_env = resolve(table, inputs)
    variables = {VARIABLE: app_env.name}
    for key, value in table[app_env.name].variables.items():
        variables[key] = inputs.environ.get(key) or value
    return ComposeProject(
        directory=inputs.directory,
        env_file=inputs.env_file,
        name=name_of(inputs, explicit=explicit_name),
        table=table,
        app_env=app_env,
        variables=variables,
    )
