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

from reconciler import render
from reconciler.session import ProjectOptions, open_project, snapshot
from state.errors import ReconcilerError

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES_PENDING = 2
EXIT_USAGE = 64

F = TypeVar("F", bound=Callable[..., Any])
_PROJECT_KEYS = ("project_name", "project_directory", "env_file")


class NotImplementedYet(ReconcilerError):
    """A command that a later milestone fills in: says so instead of pretending."""

    def __init__(self, command: str) -> None:
        super().__init__(f"`reconcile {command}` is not implemented yet")


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
@click.pass_context
def cli(ctx: click.Context, /, plan_only: bool, verbose: bool, **params: Any) -> int:
    """Make the running Compose stack match APP_ENV (prod | dev | test).

    APP_ENV comes from the command line, else the project's .env, else prod.

    \b
    Examples:
      reconcile --plan            show what would change, change nothing
      APP_ENV=dev reconcile       apply: bring the stack to dev
      reconcile status            what runs, in which environment
    """
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if ctx.invoked_subcommand is not None:
        return EXIT_OK
    options, output_format = merged(ctx, params)
    if not plan_only:
        raise NotImplementedYet("(apply)")
    snap = snapshot(*open_project(options))
    click.echo(render.plan_json(snap) if output_format == "json" else render.plan_text(snap))
    return EXIT_OK if snap.plan.is_empty else EXIT_CHANGES_PENDING


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


def _stub(name: str, doc: str) -> None:
    @cli.command(name=name, help=doc)
    @project_options
    def command(**_: Any) -> None:
        raise NotImplementedYet(name)


for _name, _doc in [
    ("stop", "Stop every container of the project (all profiles), keeping them."),
    ("restart", "Stop everything, then recreate everything for the resolved APP_ENV."),
    ("logs", "Show the services' logs."),
    ("down", "Remove the project's containers and networks (volumes only with --volumes --yes)."),
]:
    _stub(_name, _doc)


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
