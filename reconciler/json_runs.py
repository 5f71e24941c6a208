"""Write commands run for scripts (render stage): one JSON document on stdout.

With `--format json`, apply, restart, stop and down print their progress on stderr
and exactly one document on stdout when they end, failed or not, with the exit code
in it; the one-line error still goes to stderr.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import click

from reconciler import commands, render
from reconciler.exit_codes import EXIT_ERROR, EXIT_OK, pending
from reconciler.outcome import ApplyResult
from reconciler.plan import Strategy
from reconciler.saved_plan import SavedPlan
from reconciler.snapshot import Applied, Teardown
from state.engine import Engine
from state.errors import ReconcilerError
from state.project import ComposeProject


def apply_json(
    engine: Engine,
    project: ComposeProject,
    settings: commands.ApplySettings,
    strategy: Strategy,
    command: str,
    saved: SavedPlan | None = None,
) -> int:
    """Apply with exactly one JSON document on stdout (progress goes to stderr), printed
    when the apply failed or did not converge too, with the exit code in it."""
    name = "apply" if command == "plan" else command
    applied: list[Applied] = []
    try:
        commands.apply(
            engine,
            project,
            settings,
            progress,
            strategy=strategy,
            saved=saved,
            report=applied.append,
        )
    except ReconcilerError as exc:
        if applied:
            click.echo(render.applied_json(applied[-1], name, EXIT_ERROR, str(exc)))
        raise
    click.echo(render.applied_json(applied[-1], name, EXIT_OK, None))
    return EXIT_OK


def progress(text: str) -> None:
    click.echo(text, err=True)


def _say(text: str) -> None:
    click.echo(text)


def run_teardown(
    run: Callable[[commands.Say, commands.TornDown], Teardown], chosen: str, plan_only: bool
) -> int:
    """Run stop or down; with --format json and no --plan, print one document when it
    ends (failed or not), progress going to stderr."""
    if chosen == "json" and not plan_only:
        started = time.monotonic()
        done: list[tuple[Teardown, ApplyResult]] = []
        try:
            run(progress, lambda teardown, result: done.append((teardown, result)))
        except ReconcilerError as exc:
            if done:
                seconds = time.monotonic() - started
                click.echo(render.torn_down_json(*done[-1], seconds, EXIT_ERROR, str(exc)))
            raise
        click.echo(render.torn_down_json(*done[-1], time.monotonic() - started, EXIT_OK, None))
        return EXIT_OK
    teardown = run(_say, lambda teardown, result: None)
    if not plan_only:
        return EXIT_OK
    click.echo(
        render.teardown_json(teardown) if chosen == "json" else render.teardown_text(teardown)
    )
    return pending(teardown.is_empty)
