"""Which backend a command runs on: local Compose or a swarm (resolve stage).

`--backend` wins; else the `backend` of the environment APP_ENV resolves to
(compose/environments.toml, default "compose"). Commands that need only the project's
name (stop, down, logs) resolve APP_ENV just for this, and fall back to Compose when
it cannot be resolved (they must work when the files are broken).
"""

from __future__ import annotations

from collections.abc import Callable

import click

from reconciler.options import project_of
from reconciler.session import open_project
from state.engine import Engine
from state.errors import ReconcilerError
from state.project import ComposeProject
from state.swarm_engine import SwarmEngine

EngineFactory = Callable[[ComposeProject | None], Engine]


def backend_of(chosen: str | None, project: ComposeProject | None, ctx: click.Context) -> str:
    if chosen:
        return chosen
    if project is None:
        try:
            project = open_project(project_of(ctx, ctx.params))
        except ReconcilerError:
            return "compose"
    return project.environment.backend


def factory(
    chosen: str | None, project: ComposeProject | None, ctx: click.Context, compose: EngineFactory
) -> EngineFactory:
    """The engine factory for the chosen (or the environment's) backend: the swarm's, or
    `compose` (the CLI's Docker adapter)."""
    return SwarmEngine if backend_of(chosen, project, ctx) == "swarm" else compose
