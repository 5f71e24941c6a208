"""What each command acts on, opened for the CLI (resolve stage, at the command line).

The backends main() was given travel in click's context object; `opened` and `named`
open a command's project (reconciler/reads/opened.py) and print on stderr the notes that
come with it: where the project runs when that is not APP_ENV's backend, and that its
containers came from another checkout (writes would be refused).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from reconciler.cli.options import project_of
from reconciler.planner.ownership import other_checkout, taken_over_message
from reconciler.reads.backend import Kits
from reconciler.reads.opened import Named, Opened, no_table_note, open_name, open_project
from state.model.observed import ObservedState


def kits(ctx: click.Context) -> Kits:
    """The backends main() was given (ctx.obj)."""
    found: Kits = ctx.find_root().obj
    return found


def opened(ctx: click.Context, params: dict[str, Any]) -> Opened:
    """The project this command acts on, its backend and engine (reconciler/reads/opened.py);
    a note on stderr when the project runs on another backend than APP_ENV's."""
    result = open_project(project_of(ctx, params), kits(ctx), ctx.command.name or "")
    _note(no_table_note(result.project))
    _note(result.note)
    return result


def named(ctx: click.Context, params: dict[str, Any]) -> Named:
    """The project's name, where it runs and that backend's engine (name-only commands)."""
    result = open_name(project_of(ctx, params), kits(ctx), ctx.command.name or "")
    _note(result.note)
    return result


def _note(note: str) -> None:
    if note:
        click.echo(f"reconcile: {note}", err=True)


def warn_other_checkout(observed: ObservedState, checkout: Path) -> None:
    """--plan and status say when a write here would be refused (another checkout's)."""
    made_in = other_checkout(observed, checkout)
    if made_in:
        _note(
            f"warning: {taken_over_message(observed.project, made_in, checkout)}: `reconcile` "
            "here refuses unless --take-over; give this checkout its own --project-name"
        )
