"""One command's view of the world: resolve -> desire/observe -> plan.

Resolves what a command acts on (the project's name alone, or the whole Compose
project with its APP_ENV) and reads the states through the engine port, with
transient engine errors retried like the writes are. Read-only; no Docker code here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from reconciler.plan import Strategy, plan
from reconciler.retry import retried
from reconciler.snapshot import Snapshot
from state.desired import DesiredState, desire
from state.engine import ComposeSource, ContainerEngine
from state.naming import project_name
from state.observed import ObservedState, observe
from state.project import ComposeProject, load_project


@dataclass(frozen=True)
class ProjectOptions:
    """The options every command takes after its name."""

    project_name: str | None = None
    project_directory: Path | None = None
    env_file: Path | None = None

    @property
    def directory(self) -> Path:
        return (self.project_directory or Path.cwd()).resolve()


def open_project(options: ProjectOptions) -> ComposeProject:
    """Resolve APP_ENV and the project (ConfigError on bad input)."""
    return load_project(
        options.directory,
        project_name=options.project_name,
        env_file=options.env_file,
        process_env=os.environ,
    )


def open_name(options: ProjectOptions) -> str:
    """Only the project's name: no APP_ENV, no environment table, no Compose call."""
    return project_name(
        options.directory,
        explicit=options.project_name,
        process_env=os.environ,
        env_file=(options.env_file or options.directory / ".env").resolve(),
    )


def read_desired(project: ComposeProject, source: ComposeSource) -> DesiredState:
    return retried(lambda: desire(project, source))


def read_observed(engine: ContainerEngine, name: str) -> ObservedState:
    return retried(lambda: observe(engine, name))


def snapshot(
    engine: ContainerEngine, desired: DesiredState, strategy: Strategy = Strategy.CHANGED
) -> Snapshot:
    """Observe and plan against a desired state already read. Changes nothing."""
    observed = read_observed(engine, desired.project)
    return Snapshot(desired=desired, observed=observed, plan=plan(desired, observed, strategy))
