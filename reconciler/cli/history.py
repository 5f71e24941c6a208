"""`reconcile history` and `reconcile history show N`: the project's receipts. Read-only.

Needs only the project's name (as `stop` and `down`): a broken compose file never
hides the history. The store is reconciler/store/history.py, the rendering
reconciler/render/history.py.
"""

from __future__ import annotations

from typing import Any

import click

from reconciler.cli.exit_codes import EXIT_OK
from reconciler.cli.options import format_option, project_options
from reconciler.cli.targets import named
from reconciler.render import history as render
from reconciler.store import history as store
from state.errors import ConfigError


def _merged(ctx: click.Context, params: dict[str, Any]) -> dict[str, Any]:
    """The options given anywhere on the command line: the deepest command's win."""
    chain: list[click.Context] = []
    current: click.Context | None = ctx
    while current is not None:
        chain.append(current)
        current = current.parent
    merged: dict[str, Any] = {}
    for level in [*reversed(chain[1:]), None]:
        values = params if level is None else level.params
        merged.update({k: v for k, v in values.items() if v is not None and v != ()})
    return merged


def _project(ctx: click.Context, params: dict[str, Any]) -> tuple[str, str]:
    merged = _merged(ctx, params)
    return named(ctx, merged).name, str(merged.get("output_format") or "text")


@click.group(invoke_without_command=True)
@project_options
@format_option
@click.pass_context
def history(ctx: click.Context, /, **params: Any) -> int:
    """List the project's receipts, newest first: one per apply that changed something.

    Each says when, who, the command, APP_ENV, the result, how many actions, and the
    service that was down longest. Kept 0600 in the tool's state directory, bounded.

    \b
    Examples:
      reconcile history
      reconcile history show 1     the newest receipt in full
      reconcile history --format json
    """
    if ctx.invoked_subcommand is not None:
        return EXIT_OK
    project, chosen = _project(ctx, params)
    found = store.receipts(project)
    if chosen == "json":
        click.echo(render.history_json(project, found))
    else:
        click.echo(render.history_text(project, found))
    return EXIT_OK


@history.command()
@click.argument("number", type=click.IntRange(min=1))
@project_options
@format_option
@click.pass_context
def show(ctx: click.Context, /, number: int, **params: Any) -> int:
    """Show receipt NUMBER in full (1: the newest): every action with its outcome and
    seconds, and each service's measured unavailability beside its prediction."""
    project, chosen = _project(ctx, params)
    found = store.receipts(project)
    if number > len(found):
        raise ConfigError(
            f"no receipt {number}: project {project} has {len(found)}; "
            "see `reconcile history` for their numbers"
        )
    receipt = found[number - 1]
    if chosen == "json":
        click.echo(render.receipt_json(project, number, receipt))
    else:
        click.echo(render.receipt_text(project, number, len(found), receipt))
    return EXIT_OK
