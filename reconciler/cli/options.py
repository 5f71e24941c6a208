"""The command line's options, and the one rule for reading them.

Every command takes the project options, and --plan, --format and the apply
options where they mean something, after its name; the group takes them before it
too. `option()` is the one picker: the subcommand's value, else the group's, else
the default (each default is stated once, where it is used).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from reconciler.execute.timeouts import LOCK_TIMEOUT, WAIT_TIMEOUT
from state.backend import Backend

if TYPE_CHECKING:  # imported where used: a command pays only for what it runs
    from reconciler.commands.converge import ApplySettings
    from reconciler.planner.guards import Confirmation
    from reconciler.reads.opened import ProjectOptions

F = TypeVar("F", bound=Callable[..., Any])
_PROJECT_KEYS = ("project_name", "project_directory", "env_file")


def project_options(func: F) -> F:
    """--project-name, --project-directory, --env-file, -f/--file, --backend: accepted
    after every command name."""
    return _project_options(func, ("--file", "-f"))


def name_options(func: F) -> F:
    """The project options of a command whose own -f means something else (`logs -f`)."""
    return _project_options(func, ("--file",))


def _none_if_empty(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    return value or None  # an option not given after the name leaves the group's value


def _project_options(func: F, file_names: tuple[str, ...]) -> F:
    decorators = [
        click.option(
            "--project-name",
            "-p",
            default=None,
            help="Compose project name (else COMPOSE_PROJECT_NAME, else the files' `name:`, "
            "else the project directory's name).",
        ),
        click.option(
            "--project-directory",
            type=click.Path(file_okay=False, path_type=Path),
            default=None,
            help="The project's directory, as for Compose (default: found from the current "
            "directory up, as Compose finds compose.yaml).",
        ),
        click.option(
            *file_names,
            "files",
            type=click.Path(dir_okay=False, path_type=Path),
            multiple=True,
            callback=_none_if_empty,
            help="A compose file, as Compose's -f (repeatable; default: COMPOSE_FILE, else "
            "the environment table's files, else compose.yaml found as Compose finds it).",
        ),
        click.option(
            "--env-file",
            type=click.Path(dir_okay=False, path_type=Path),
            default=None,
            help="Read APP_ENV and variables from this file instead of the project's .env.",
        ),
        click.option(
            "--backend",
            type=click.Choice([backend.value for backend in Backend]),
            default=None,
            help="Run on local Compose or a swarm (default: the environment's `backend`).",
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


def option(ctx: click.Context, params: dict[str, Any], key: str, default: Any = None) -> Any:
    """A subcommand's option, else the same option given before its name, else `default`."""
    parent = ctx.parent.params if ctx.parent else {}
    for source in (params, parent):
        if source.get(key) is not None:
            return source[key]
    return default


def project_of(ctx: click.Context, params: dict[str, Any]) -> ProjectOptions:
    from reconciler.reads.opened import ProjectOptions

    backend = option(ctx, params, "backend")
    return ProjectOptions(
        **{key: option(ctx, params, key) for key in _PROJECT_KEYS},
        backend=Backend(backend) if backend else None,
        files=tuple(option(ctx, params, "files") or ()),
    )


def settings_from(ctx: click.Context, params: dict[str, Any]) -> ApplySettings:
    from reconciler.commands.converge import ApplySettings
    from reconciler.notify.hook import command_of

    return ApplySettings(
        wait=not option(ctx, params, "no_wait", False),
        wait_timeout=option(ctx, params, "wait_timeout", WAIT_TIMEOUT),
        lock_timeout=option(ctx, params, "lock_timeout", LOCK_TIMEOUT),
        rollback=not option(ctx, params, "no_rollback", False),
        take_over=bool(option(ctx, params, "take_over", False)),
        waived=waived(ctx, params),
        confirm=confirmer(option(ctx, params, "confirm_env"), bool(option(ctx, params, "yes"))),
        notify=command_of(option(ctx, params, "notify") or ""),
    )


def waived(ctx: click.Context, params: dict[str, Any]) -> frozenset[str]:
    """--waive NAME, repeated: the policies waived for this run."""
    return frozenset(option(ctx, params, "waive", ()) or ())


def confirmer(confirm_env: str | None, yes: bool) -> Callable[[Confirmation], bool]:
    """What the user said to a guardrail's question (reconciler/planner/guards.py): the
    flag naming it, else, on a terminal, the name typed (the environment for a switch,
    the project for a destructive plan); never a guess."""

    def confirm(confirmation: Confirmation) -> bool:
        from reconciler.planner.guards import DESTRUCTIVE, SWITCH

        if confirmation.kind == SWITCH and confirm_env == confirmation.target:
            return True
        if confirmation.kind == DESTRUCTIVE and yes:
            return True
        if not sys.stdin.isatty():
            return False
        click.echo("\n".join(confirmation.reasons), err=True)
        typed = click.prompt(
            f"Type {confirmation.target} to go ahead", default="", show_default=False, err=True
        )
        return bool(typed.strip() == confirmation.target)

    return confirm


def planning(ctx: click.Context, params: dict[str, Any]) -> bool:
    """--plan, before or after the command name."""
    return bool(option(ctx, params, "plan_only", False))


take_over_option = click.option(
    "--take-over",
    "take_over",
    is_flag=True,
    default=None,
    help="Act on the project even though another checkout's directory made its containers.",
)
yes_option = click.option(
    "--yes",
    "yes",
    is_flag=True,
    default=None,
    help="Confirm a plan the guardrails call destructive, without being asked.",
)
lock_option = click.option(
    "--lock-timeout",
    type=click.FloatRange(min=0),
    default=None,
    help=f"Seconds to wait for another reconcile of the project (default {LOCK_TIMEOUT:g}).",
)
notify_option = click.option(
    "--notify",
    "notify",
    default=None,
    metavar="CMD",
    help="Run CMD (split as a shell would, no shell) with one JSON event on stdin when "
    "the apply ends: applied, failed, rolled_back (watch: drift_found, drift_repaired). "
    "Default: the environment's `notify` in the table.",
)
plan_option = click.option(
    "--plan",
    "plan_only",
    is_flag=True,
    default=None,
    help="Show what this command would do and change nothing: exit 0 nothing to do, "
    "2 changes pending.",
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
            help=f"Seconds to wait for each wave to become healthy (default {WAIT_TIMEOUT:g}).",
        ),
        lock_option,
        take_over_option,
        yes_option,
        notify_option,
        click.option(
            "--confirm-env",
            "confirm_env",
            default=None,
            metavar="NAME",
            help="Confirm switching a production engine to environment NAME.",
        ),
        click.option(
            "--waive",
            "waive",
            multiple=True,
            metavar="POLICY",
            help="Apply despite the named policy's findings, for this run only (repeatable).",
        ),
        click.option(
            "--no-rollback",
            "no_rollback",
            is_flag=True,
            default=None,
            help="Keep a recreated service that never becomes ready as it failed (debugging).",
        ),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


out_option = click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="With --plan: save the plan and its fingerprint to this file, for `reconcile apply FILE`.",
)
