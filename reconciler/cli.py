"""The `reconcile` command line: parse, dispatch, turn expected errors into exit codes.

Exit codes: 0 done or nothing to do; 2 only for `--plan` with pending changes; 1 for
every error (bad input, engine failure, did not converge); 64 for a usage error.
Expected errors (ReconcilerError) print one line and no traceback; anything else is
a bug and keeps its traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from state.errors import ReconcilerError

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES_PENDING = 2
EXIT_USAGE = 64

F = TypeVar("F", bound=Callable[..., Any])


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
            help="Compose project name (else COMPOSE_PROJECT_NAME, else the stack's own name).",
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
        default="text",
        show_default=True,
        help="Human-readable text or versioned JSON.",
    )(func)


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--plan",
    "plan_only",
    is_flag=True,
    help="Show what would change and exit: 0 nothing to do, 2 changes pending.",
)
@project_options
@format_option
@click.pass_context
def cli(ctx: click.Context, /, plan_only: bool, **_: Any) -> None:
    """Make the running Compose stack match APP_ENV (prod | dev | test).

    \b
    Examples:
      reconcile --plan            show what would change, change nothing
      APP_ENV=dev reconcile       apply: bring the stack to dev
      reconcile status            what runs, in which environment
    """
    if ctx.invoked_subcommand is None:
        raise NotImplementedYet("--plan" if plan_only else "(apply)")


def _stub(name: str, doc: str) -> None:
    @cli.command(name=name, help=doc)
    @project_options
    def command(**_: Any) -> None:
        raise NotImplementedYet(name)


for _name, _doc in [
    ("status", "Show what runs, in which environment, and what would change."),
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
