"""Write commands run for scripts (render stage): one JSON document on stdout.

With `--format json`, apply, restart, stop and down print their progress on stderr
and exactly one document on stdout when they end, failed or not, with the exit code
in it; the one-line error still goes to stderr.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from reconciler.cli.exit_codes import EXIT_ERROR, EXIT_OK, pending
from reconciler.render import plans
from reconciler.render import teardown as teardown_render
from state.errors import ReconcilerError

if TYPE_CHECKING:  # names only: `stop --plan` and `down --plan` load no apply path here
    from reconciler.commands import converge
    from reconciler.commands.teardown import TornDown
    from reconciler.execute.outcome import Applied, ApplyResult
    from reconciler.planner.plan import Strategy
    from reconciler.planner.snapshot import Teardown
    from reconciler.reads.opened import Opened
    from reconciler.store.saved_plans import SavedPlan


def apply_json(
    opened: Opened,
    settings: converge.ApplySettings,
    strategy: Strategy,
    command: str,
    saved: SavedPlan | None = None,
) -> int:
    """Apply with exactly one JSON document on stdout (progress goes to stderr), printed
    when the apply failed or did not converge too, with the exit code in it."""
    from reconciler.commands import converge

    name = "apply" if command == "plan" else command
    applied: list[Applied] = []
    try:
        converge.apply(
            opened,
            settings,
            progress,
            strategy=strategy,
            saved=saved,
            report=applied.append,
        )
    except ReconcilerError as exc:
        if applied:
            click.echo(plans.applied_json(applied[-1], name, EXIT_ERROR, str(exc)))
        raise
    click.echo(plans.applied_json(applied[-1], name, EXIT_OK, None))
    return EXIT_OK


def progress(text: str) -> None:
    click.echo(text, err=True)


def _say(text: str) -> None:
    click.echo(text)


def run_teardown(
    run: Callable[[converge.Say, TornDown], Teardown], chosen: str, plan_only: bool
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
                click.echo(plans.torn_down_json(*done[-1], seconds, EXIT_ERROR, str(exc)))
            raise
        click.echo(plans.torn_down_json(*done[-1], time.monotonic() - started, EXIT_OK, None))
        return EXIT_OK
    teardown = run(_say, lambda teardown, result: None)
    if not plan_only:
        return EXIT_OK
    click.echo(
        plans.teardown_json(teardown)
        if chosen == "json"
        else teardown_render.teardown_text(teardown)
    )
    return pending(teardown.is_empty)
