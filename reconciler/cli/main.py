"""The `reconcile` command line: parse, dispatch, turn expected errors into exit codes.

Exit codes (reconciler/cli/exit_codes.py): 0 done or nothing to do; 2 only for `--plan`
with pending changes; 1 for every error; 64 for a usage error. Expected errors
(ReconcilerError) print one line and no traceback; anything else is a bug and keeps
its traceback. Each command imports the modules only it uses in its own body, so a
command pays for its own imports only (`just bench --only floor` lists them per command).
"""

from __future__ import annotations

import gc
import importlib
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from reconciler.cli.engines import kits_for
from reconciler.cli.exit_codes import (
    EXIT_ERROR,
    EXIT_OK,
    EXIT_USAGE,
    pending,
)
from reconciler.cli.options import (
    apply_options,
    format_option,
    option,
    out_option,
    plan_option,
    planning,
    project_options,
    settings_from,
    waived,
)
from reconciler.cli.redaction import redacted_output
from state.errors import ReconcilerError

if TYPE_CHECKING:
    from reconciler.planner.plan import Strategy
    from reconciler.reads.backend import EngineFactory, Kits

# The commands defined in modules of their own, imported only when invoked (or listed
# by --help): `reconcile status` never pays for `watch`'s or `init`'s imports.
LAZY_COMMANDS = {
    "doctor": "reconciler.cli.adopt:doctor",
    "down": "reconciler.cli.teardown:down",
    "history": "reconciler.cli.history:history",
    "init": "reconciler.cli.adopt:init",
    "logs": "reconciler.cli.teardown:logs",
    "stop": "reconciler.cli.teardown:stop",
    "watch": "reconciler.cli.watch:watch",
}


class LazyGroup(click.Group):
    """A click group whose LAZY_COMMANDS are imported when first looked up."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        where = LAZY_COMMANDS.get(cmd_name)
        if where is not None and cmd_name not in self.commands:
            module, _, attribute = where.partition(":")
            self.add_command(getattr(importlib.import_module(module), attribute), cmd_name)
        return super().get_command(ctx, cmd_name)


def say(text: str) -> None:
    click.echo(text)


@click.group(
    cls=LazyGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(package_name="spot-reconciler", prog_name="reconcile")
@plan_option
@click.option("-v", "--verbose", is_flag=True, help="Log every engine call and decision to stderr.")
@project_options
@format_option
@apply_options
@out_option
@click.pass_context
def cli(ctx: click.Context, /, verbose: bool, **params: Any) -> int:
    """Make the running Compose stack match APP_ENV (prod | dev | test).

    APP_ENV comes from the command line, else the project's .env, else prod.
    Without a command: plan, show the plan, apply it wave by wave, wait until
    healthy, and verify that a fresh plan is empty. `--plan` (before or after a
    command's name) shows what any command would do and changes nothing.

    \b
    Examples:
      reconcile --plan            show what would change, change nothing
      reconcile --plan --out p.json   save the plan; `reconcile apply p.json` applies it
      APP_ENV=dev reconcile       apply: bring the stack to dev
      reconcile status            what runs, in which environment
      reconcile down --plan       what down would remove
      reconcile down --project-name demo
    """
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if ctx.invoked_subcommand is not None:
        if params.get("out") is not None and ctx.invoked_subcommand != "restart":
            raise click.UsageError("--out saves the plan of `reconcile` or `restart` only")
        return EXIT_OK
    from reconciler.planner.plan import Strategy

    return _apply(ctx, params, Strategy.CHANGED, "plan")


def _apply(ctx: click.Context, params: dict[str, Any], strategy: Strategy, command: str) -> int:
    from reconciler.cli.targets import opened, warn_other_checkout  # each command imports
    from reconciler.render import plans  # what it uses; a plan, none of the apply path

    plan_only = planning(ctx, params)
    chosen = option(ctx, params, "output_format", "text")
    out: Path | None = option(ctx, params, "out")
    if out is not None and not plan_only:
        raise click.UsageError("--out saves a plan: use it with --plan")
    target = opened(ctx, params)
    if plan_only:
        from reconciler.commands.preview import preview

        snap = preview(target, strategy, waived(ctx, params))
        warn_other_checkout(snap.observed, target.project.directory)
        if out is not None:
            from reconciler.reads.fingerprint import inputs
            from reconciler.store.saved_plans import write_saved

            backend = target.kit.describe(os.environ)
            write_saved(out, snap, inputs(target.project), strategy, backend)
        click.echo(plans.plan_json(snap, command) if chosen == "json" else plans.plan_text(snap))
        return pending(snap.plan.is_empty)
    from reconciler.cli.json_output import apply_json
    from reconciler.commands import converge

    settings = settings_from(ctx, params)
    if chosen == "json":
        return apply_json(target, settings, strategy, command)
    converge.apply(target, settings, say, strategy=strategy)
    return EXIT_OK


@cli.command("apply")
@click.argument("plan_file", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path))
@plan_option
@project_options
@format_option
@apply_options
@click.pass_context
def apply_saved(ctx: click.Context, /, plan_file: Path, **params: Any) -> int:
    """Apply exactly the plan saved by `reconcile --plan --out FILE`.

    Refused, with what changed and nothing touched, when anything it was computed
    from differs now: APP_ENV or its source, the compose or env files, the variables
    they use, an image, or any container (id, state, config hash). A plan of another
    project or directory is refused too. `apply FILE --plan` shows the saved plan and
    checks it without acting (exit 2: changes pending).
    """
    from reconciler.cli.json_output import apply_json
    from reconciler.cli.targets import opened
    from reconciler.commands import converge
    from reconciler.render import plans
    from reconciler.store.saved_plans import read_saved

    plan_only = planning(ctx, params)
    chosen = option(ctx, params, "output_format", "text")
    saved = read_saved(plan_file)
    target = opened(ctx, params)
    if plan_only:
        snap = converge.preview_saved(target, saved)
        click.echo(plans.plan_json(snap, "apply") if chosen == "json" else plans.plan_text(snap))
        return pending(snap.plan.is_empty)
    settings = settings_from(ctx, params)
    if chosen == "json":
        return apply_json(target, settings, saved.strategy, "apply", saved)
    converge.apply(target, settings, say, saved=saved)
    return EXIT_OK


@cli.command()
@project_options
@format_option
@click.pass_context
def status(ctx: click.Context, /, **params: Any) -> int:
    """Show what runs, in which environment, and what `up` would change. Read-only.

    Works when images are missing or the compose files are broken: it then shows
    what runs and says what it cannot know.
    """
    from reconciler.cli.targets import opened, warn_other_checkout
    from reconciler.reads.pipeline import status_of  # not the apply path's modules
    from reconciler.render import status as render_status
    from reconciler.store import journal

    chosen = option(ctx, params, "output_format", "text")
    target = opened(ctx, params)
    snap = status_of(target.project, target.source, target.engine)
    warn_other_checkout(snap.observed, target.project.directory)
    back = journal.records(target.project.name)  # rollbacks since the last successful apply
    recipes = (target.project.directory / "Justfile").is_file()  # advise `just up`, or not
    if chosen == "json":
        click.echo(render_status.status_json(snap, back, recipes))
        return EXIT_OK
    click.echo(render_status.status_text(snap, back, recipes))
    table = target.project.table
    if table is not None and table.engines:  # the environment's pins, and this engine
        from reconciler.render.guards import pin_lines

        identity = target.engine.identity()
        click.echo("\n".join(pin_lines(table, target.project.app_env.name, identity)))
    return EXIT_OK


@cli.command()
@plan_option
@project_options
@format_option
@apply_options
@out_option
@click.pass_context
def restart(ctx: click.Context, /, **params: Any) -> int:
    """Stop everything, then recreate everything for the resolved APP_ENV.

    The spec's explicit restart: every container is stopped and recreated even when
    nothing changed, so a new .env or APP_ENV is picked up for certain. The stops
    and recreates are actions of the plan (`restart --plan` shows them).
    """
    from reconciler.planner.plan import Strategy

    return _apply(ctx, params, Strategy.ALWAYS, "restart")


def main(argv: list[str] | None = None, engine: EngineFactory | None = None) -> int:
    """Entry point of `reconcile` and `python -m reconciler`; returns the exit code.

    `engine` (tests) makes the engine port for a project (or, with None, for a
    name-only command), e.g. the in-memory engine; by default the real backends
    (reconciler/cli/engines.py).

    The cyclic garbage collector is off for the command: a command is one short
    process, and its imports (most of a read's time) would otherwise set off a dozen
    full collections of objects that all live to the end. `watch`, which runs for
    days, turns it back on (reconciler/cli/watch.py)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        with redacted_output():  # no secret value reaches stdout, stderr or the -v log
            return _main(argv, kits_for(engine))
    finally:
        if was_enabled:
            gc.enable()


def usage_line(exc: click.UsageError) -> str:
    """A usage error in one line, like every other error: the problem, then where to look."""
    command = exc.ctx.command_path if exc.ctx else "reconcile"
    return f"reconcile: {exc.format_message()} (see `{command} --help`)"


def _main(argv: list[str] | None, backends: Kits) -> int:
    try:
        result = cli.main(args=argv, prog_name="reconcile", standalone_mode=False, obj=backends)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.UsageError as exc:
        click.echo(usage_line(exc), err=True)
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
