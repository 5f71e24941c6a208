"""The `reconcile` command line: parse, dispatch, turn expected errors into exit codes.

Exit codes: 0 done or nothing to do; 2 only for `--plan` with pending changes (like
Terraform's -detailed-exitcode); 1 for every error (bad input, engine failure, did
not converge); 64 for a usage error. Expected errors (ReconcilerError) print one line
and no traceback; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from reconciler import commands, render
from reconciler.commands import ApplySettings
from reconciler.plan import Strategy
from reconciler.session import ProjectOptions, open_project, snapshot
from state.errors import ReconcilerError

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES_PENDING = 2
EXIT_USAGE = 64

F = TypeVar("F", bound=Callable[..., Any])
_PROJECT_KEYS = ("project_name", "project_directory", "env_file")


def project_options(func: F) -> F:
    """--project-name, --project-directory, --env-file: accepted after every command name."""
    decorators = [
        click.option(
            "--project-name",
            "-p",
            default=None,
            help="Compose project name (else COMPOSE_PROJECT_NAME, else the stack's own).",
        ),
        click.option(
            "--project-directory",
            type=click.Path(file_okay=False, path_type=Path),
            default=None,
            help="Where .env and compose/ live (default: the current directory).",
        ),
        click.option(
            "--env-file",
            type=click.Path(dir_okay=False, path_type=Path),
            default=None,
            help="Read APP_ENV and variables from this file instead of PROJECT_DIRECTORY/.env.",
        ),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def format_option(func: F) -> F:
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(["text", "json"]),
        default=None,
        help="Human-readable text (default) or versioned JSON.",
    )(func)


def merged(ctx: click.Context, params: dict[str, Any]) -> tuple[ProjectOptions, str]:
    """A subcommand's options, falling back to those given before its name."""
    parent = ctx.parent.params if ctx.parent else {}

    def pick(key: str) -> Any:
        return params.get(key) if params.get(key) is not None else parent.get(key)

    options = ProjectOptions(**{key: pick(key) for key in _PROJECT_KEYS})
    return options, pick("output_format") or "text"


lock_option = click.option(
    "--lock-timeout",
    type=click.FloatRange(min=0),
    default=None,
    help="Seconds to wait for another reconcile of the project (default 300).",
)


def apply_options(func: F) -> F:
    """How an apply waits: the health gate and the project lock."""
    decorators = [
        click.option(
            "--no-wait",
            "no_wait",
            is_flag=True,
            default=None,
            help="Do not wait for services to become healthy or running.",
        ),
        click.option(
            "--wait-timeout",
            type=click.FloatRange(min=0),
            default=None,
            help="Seconds to wait for each wave to become healthy (default 120).",
        ),
        lock_option,
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def settings_from(ctx: click.Context, params: dict[str, Any]) -> ApplySettings:
    parent = ctx.parent.params if ctx.parent else {}

    def pick(key: str, default: Any) -> Any:
        for source in (params, parent):
            if source.get(key) is not None:
                return source[key]
        return default

    return ApplySettings(
        wait=not pick("no_wait", False),
        wait_timeout=pick("wait_timeout", 120.0),
        lock_timeout=pick("lock_timeout", 300.0),
    )


def say(text: str) -> None:
    click.echo(text)


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--plan",
    "plan_only",
    is_flag=True,
    help="Show what would change and change nothing: exit 0 nothing to do, 2 changes pending.",
)
@click.option("-v", "--verbose", is_flag=True, help="Log every engine call and decision to stderr.")
@project_options
@format_option
@apply_options
@click.pass_context
def cli(ctx: click.Context, /, plan_only: bool, verbose: bool, **params: Any) -> int:
    """Make the running Compose stack match APP_ENV (prod | dev | test).

    APP_ENV comes from the command line, else the project's .env, else prod.
    Without a command: plan, show the plan, apply it wave by wave, wait until
    healthy, and verify that a fresh plan is empty.

    \b
    Examples:
      reconcile --plan            show what would change, change nothing
      APP_ENV=dev reconcile       apply: bring the stack to dev
      reconcile status            what runs, in which environment
      reconcile down --project-name demo
    """
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if ctx.invoked_subcommand is not None:
        return EXIT_OK
    options, output_format = merged(ctx, params)
    if plan_only:
        snap = snapshot(*open_project(options))
        click.echo(render.plan_json(snap) if output_format == "json" else render.plan_text(snap))
        return EXIT_OK if snap.plan.is_empty else EXIT_CHANGES_PENDING
    if output_format == "json":
        raise click.UsageError(
            "--format json is for --plan and status; apply prints progress as text"
        )
    commands.apply(options, settings_from(ctx, params), say)
    return EXIT_OK


@cli.command()
@project_options
@format_option
@click.pass_context
def status(ctx: click.Context, /, **params: Any) -> int:
    """Show what runs, in which environment, and what `up` would change. Read-only."""
    options, output_format = merged(ctx, params)
    snap = snapshot(*open_project(options))
    click.echo(render.status_json(snap) if output_format == "json" else render.status_text(snap))
    return EXIT_OK


@cli.command()
@project_options
@lock_option
@click.pass_context
def stop(ctx: click.Context, /, **params: Any) -> int:
    """Stop every container of the project (all profiles), keeping them.

    `just up` (or `just restart`) brings them back.
    """
    options, _ = merged(ctx, params)
    commands.stop(options, settings_from(ctx, params), say)
    return EXIT_OK


@cli.command()
@project_options
@apply_options
@click.pass_context
def restart(ctx: click.Context, /, **params: Any) -> int:
    """Stop everything, then recreate everything for the resolved APP_ENV.

    The spec's explicit restart: every container is recreated even when nothing
    changed, so a new .env or APP_ENV is picked up for certain.
    """
    options, _ = merged(ctx, params)
    commands.apply(options, settings_from(ctx, params), say, strategy=Strategy.ALWAYS)
    return EXIT_OK


@cli.command()
@click.argument("services", nargs=-1)
@click.option("-f", "--follow", is_flag=True, help="Keep streaming new log lines.")
@click.option("--tail", default=None, help="Only this many lines per container (or 'all').")
@project_options
@click.pass_context
def logs(
    ctx: click.Context, /, services: tuple[str, ...], follow: bool, tail: str | None, **params: Any
) -> int:
    """Show the services' logs (all services when none is named)."""
    options, _ = merged(ctx, params)
    return commands.logs(options, services, follow=follow, tail=tail)


@cli.command()
@click.option(
    "--volumes",
    is_flag=True,
    help="Also remove the project's named volumes: DESTROYS DATA (needs --yes).",
)
@click.option("--yes", is_flag=True, help="Confirm --volumes without asking.")
@project_options
@lock_option
@click.pass_context
def down(ctx: click.Context, /, volumes: bool, yes: bool, **params: Any) -> int:
    """Remove the project's containers and networks; keep its volumes (its data).

    With --volumes the named volumes go too, which destroys the data: that needs
    --yes, or a typed yes on a terminal.
    """
    options, _ = merged(ctx, params)

    def confirm(names: list[str]) -> bool:
        if yes:
            return True
        if not sys.stdin.isatty():
            return False
        return click.confirm(
            f"This destroys the data in {', '.join(names)}. Continue?", default=False
        )

    commands.down(options, settings_from(ctx, params), say, volumes=volumes, confirm=confirm)
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Entry point of `reconcile` and `python -m reconciler`; returns the exit code."""
    try:
        result = cli.main(args=argv, prog_name="reconcile", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.UsageError as exc:
        exc.show()
        return EXIT_USAGE
    except click.Abort:
        click.echo("reconcile: aborted", err=True)
        return EXIT_ERROR
    except ReconcilerError as exc:
        click.echo(f"reconcile: {exc}", err=True)
        return EXIT_ERROR
    except KeyboardInterrupt:
        click.echo("reconcile: interrupted", err=True)
        return EXIT_ERROR
    return result if isinstance(result, int) else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
