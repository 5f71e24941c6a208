"""The teardown commands of the command line: stop, logs, down (name-only commands).

Each needs only the project's name (reconciler/reads/opened.py:open_name), so each
works when the environment table or the compose files are broken. main.py looks them
up lazily: `reconcile status` never imports them.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence
from typing import Any

import click

from reconciler.cli.options import (
    confirmer,
    format_option,
    lock_option,
    name_options,
    notify_option,
    option,
    plan_option,
    planning,
    project_options,
    settings_from,
    take_over_option,
    yes_option,
)


@click.command()
@plan_option
@project_options
@format_option
@lock_option
@take_over_option
@yes_option
@notify_option
@click.pass_context
def stop(ctx: click.Context, /, **params: Any) -> int:
    """Stop every container of the project (all profiles), keeping them.

    Needs only the project's name. `just up` (or `just restart`) brings them back.
    """
    from reconciler.cli.json_output import run_teardown
    from reconciler.cli.targets import named
    from reconciler.commands import teardown

    plan_only = planning(ctx, params)
    chosen = option(ctx, params, "output_format", "text")
    target, settings = named(ctx, params), settings_from(ctx, params)
    return run_teardown(
        lambda say, report: teardown.stop(
            target, settings, say, plan_only=plan_only, report=report
        ),
        chosen,
        plan_only,
    )


@click.command()
@click.argument("services", nargs=-1)
@click.option("-f", "--follow", is_flag=True, help="Keep streaming new log lines.")
@click.option("--tail", default=None, help="Only this many lines per container (or 'all').")
@name_options
@click.pass_context
def logs(
    ctx: click.Context, /, services: tuple[str, ...], follow: bool, tail: str | None, **params: Any
) -> int:
    """Show the services' logs (all services when none is named). Needs only the name."""
    from reconciler.cli.targets import named
    from reconciler.commands.logs import logs as show_logs

    return show_logs(named(ctx, params), services, follow=follow, tail=tail)


@click.command()
@click.option(
    "--volumes",
    is_flag=True,
    help="Also remove the project's named volumes: DESTROYS DATA (needs --yes).",
)
@click.option("--yes", is_flag=True, help="Confirm --volumes without asking.")
@plan_option
@project_options
@format_option
@lock_option
@take_over_option
@notify_option
@click.pass_context
def down(ctx: click.Context, /, volumes: bool, yes: bool, **params: Any) -> int:
    """Remove the project's containers and networks; keep its volumes (its data).

    One-off containers (`docker compose run`) are left alone. With --volumes the
    named volumes go too, which destroys the data: that needs --yes, or a typed yes
    on a terminal. Needs only the project's name.
    """
    from reconciler.cli.json_output import run_teardown
    from reconciler.cli.targets import named
    from reconciler.commands import teardown

    plan_only = planning(ctx, params)
    chosen = option(ctx, params, "output_format", "text")

    def confirm(names: Sequence[str]) -> bool:
        if yes:
            return True
        if not sys.stdin.isatty():
            return False
        return click.confirm(
            f"This destroys the data in {', '.join(names)}. Continue?", default=False
        )

    target = named(ctx, params)
    settings = dataclasses.replace(settings_from(ctx, params), confirm=confirmer(None, yes))
    return run_teardown(
        lambda say, report: teardown.down(
            target,
            settings,
            say,
            volumes=volumes,
            confirm=confirm,
            plan_only=plan_only,
            report=report,
        ),
        chosen,
        plan_only,
    )
