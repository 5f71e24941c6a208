"""One command's view of the world: resolve -> desire/observe -> plan.

Wires the stages together for the CLI: resolve APP_ENV and the project, open the
Docker adapter, build DesiredState and ObservedState, and plan. Read-only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from reconciler.plan import plan
from reconciler.retry import retried
from reconciler.snapshot import Snapshot
from state.desired import DesiredState, desire
from state.docker_engine import DockerEngine
from state.observed import ObservedState, observe
from state.project import ComposeProject, load_project


@dataclass(frozen=True)
class ProjectOptions:
    """The options every command takes after its name."""

    project_name: str | None = None
    project_directory: Path | None = None
    env_file: Path | None = None


def open_project(options: ProjectOptions) -> tuple[ComposeProject, DockerEngine]:
    """Resolve APP_ENV and the project (ConfigError on bad input), and its engine."""
    project = load_project(
        options.project_directory or Path.cwd(),
        project_name=options.project_name,
        env_file=options.env_file,
        process_env=os.environ,
    )
    return project, DockerEngine(project)


def read_desired(project: ComposeProject, engine: DockerEngine) -> DesiredState:
    """desire(), with transient engine errors retried like the writes are."""
    return retried(lambda: desire(project, engine))


def read_observed(engine: DockerEngine, project_name: str) -> ObservedState:
    """observe(), with transient engine errors retried like the writes are."""
    return retried(lambda: observe(engine, project_name))


def snapshot(project: ComposeProject, engine: DockerEngine) -> Snapshot:
    """Read both states and plan. Changes nothing."""
    desired = read_desired(project, engine)
    observed = read_observed(engine, desired.project)
    return Snapshot(desired=desired, observed=observed, plan=plan(desired, observed))
