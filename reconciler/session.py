"""One command's view of the world: resolve -> desire/observe -> plan.

Wires the stages together for the CLI: resolve APP_ENV and the project, open the
Docker adapter, build DesiredState and ObservedState, and plan. Read-only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from reconciler.plan import Plan, plan
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


@dataclass(frozen=True)
class Snapshot:
    """Desired and observed state at one moment, and the plan between them."""

    project: ComposeProject
    desired: DesiredState
    observed: ObservedState
    plan: Plan


def open_project(options: ProjectOptions) -> tuple[ComposeProject, DockerEngine]:
    """Resolve APP_ENV and the project (ConfigError on bad input), and its engine."""
    project = load_project(
        options.project_directory or Path.cwd(),
        project_name=options.project_name,
        env_file=options.env_file,
        process_env=os.environ,
    )
    return project, DockerEngine(project)


def snapshot(project: ComposeProject, engine: DockerEngine) -> Snapshot:
    """Read both states and plan. Changes nothing."""
    desired = desire(project, engine)
    observed = observe(engine, desired.project)
    return Snapshot(
        project=project, desired=desired, observed=observed, plan=plan(desired, observed)
    )
