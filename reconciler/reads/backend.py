"""Which backend a command runs on: local Compose or a swarm (resolve stage).

`--backend` wins; else the `backend` of the environment APP_ENV resolves to
(compose/environments.toml, default "compose"), unless the project runs on the other
backend (reconciler/reads/placement.py: reads and teardowns follow it there, applies
refuse). Commands that need only the project's name (stop, down, logs) resolve APP_ENV
just for this; when it cannot be resolved (they must work when the files are broken)
they act where the project runs, Compose when it runs nowhere.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import click

from reconciler.cli.options import project_of
from reconciler.reads.pipeline import open_name, open_project
from reconciler.reads.placement import place, prober
from state.engine import Engine
from state.errors import ReconcilerError
from state.resolve.project import ComposeProject
from state.swarm.adapter import SwarmEngine

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


def placed(
    chosen: str | None, project: ComposeProject | None, ctx: click.Context, compose: EngineFactory
) -> EngineFactory:
    """`factory`, but without --backend for where the project runs (backend_detect.py):
    acting there, or refusing (RunsElsewhere), with a note on stderr when it moved."""
    if chosen:
        return factory(chosen, project, ctx, compose)
    if project is None:
        try:
            project = open_project(project_of(ctx, ctx.params))
        except ReconcilerError:
            project = None  # a broken table: the backend is unknown, where it runs is not
    name = project.name if project else open_name(project_of(ctx, ctx.params))
    configured = project.environment.backend if project else None
    why = (
        f"{project.app_env} uses {configured}"
        if project
        else "compose/environments.toml cannot be read"
    )
    where = place(ctx.command.name or "", name, configured, why, prober(name, compose, os.environ))
    if where.note:
        click.echo(f"reconcile: {where.note}", err=True)
    return factory(where.backend, project, ctx, compose)
