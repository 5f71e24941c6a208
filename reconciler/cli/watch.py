"""`reconcile watch`: the click command of the self-healing loop (reconciler/watch/).

Options as `reconcile` (the project's, the apply's), `--plan-only`, and the backoff;
the loop and its wiring are reconciler/watch/loop.py and reconciler/watch/feed.py.
"""

from __future__ import annotations

import dataclasses
import gc
from typing import Any

import click

from reconciler.cli.options import (
    apply_options,
    option,
    planning,
    project_of,
    project_options,
    settings_from,
)
from reconciler.watch.loop import Timing


@click.command()
@click.option(
    "--plan-only",
    "--plan",
    "plan_only",
    is_flag=True,
    default=None,
    help="Only show each pass's plan; change nothing and never take the lock.",
)
@click.option(
    "--backoff",
    type=click.FloatRange(min=0.1),
    default=Timing.backoff_base,
    envvar="RECONCILE_WATCH_BACKOFF",
    show_default=True,
    help="Seconds to wait before retrying a plan that failed; doubles on each repeat.",
)
@click.option(
    "--backoff-max",
    type=click.FloatRange(min=0.1),
    default=Timing.backoff_cap,
    envvar="RECONCILE_WATCH_BACKOFF_MAX",
    show_default=True,
    help="The longest wait between two attempts of the same failing plan.",
)
@project_options
@apply_options
@click.pass_context
def watch(ctx: click.Context, /, backoff: float, backoff_max: float, **params: Any) -> int:
    """Keep the stack at APP_ENV: re-plan and apply whenever it drifts, until Ctrl-C.

    A pass runs when a container of the project stops, dies or is removed, and when
    .env, compose/environments.toml, a compose file or a content file a service uses
    changes (bursts make one pass).
    Each pass prints why it ran, the plan, and the outcome. A plan that keeps failing
    is retried after --backoff seconds, doubling up to --backoff-max; a different
    plan or an input change retries at once. The lock is held only during a pass: a
    pass that finds another reconcile running waits for the next one. Exit 130 on
    Ctrl-C (SIGINT), 0 on SIGTERM.
    """
    from reconciler.watch.feed import run_watch  # the event loop: only this command's

    gc.enable()  # main() turned it off for a short command; a watch runs for days

    # As `reconcile` applies (rollback included, --no-rollback honoured); no lock wait.
    settings = dataclasses.replace(
        settings_from(ctx, params),
        lock_timeout=option(ctx, params, "lock_timeout", 0.0),
        command="watch",
    )
    timing = Timing(backoff_base=backoff, backoff_cap=max(backoff, backoff_max))
    return run_watch(
        project_of(ctx, params),
        ctx.find_root().obj,  # the backends main() was given
        settings,
        timing,
        plan_only=planning(ctx, params),
        say=click.echo,
    )


for _param in watch.params:  # the same option as everywhere, another default here
    if _param.name == "lock_timeout" and isinstance(_param, click.Option):
        _param.help = "Seconds a pass waits for another reconcile (default 0: the next pass)."
