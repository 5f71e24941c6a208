"""`reconcile init` and `reconcile doctor`: adopting a Compose project (the CLI side).

`init` writes the environment table of a project that has none
(reconciler/commands/adopt.py); `doctor` checks what a run needs and prints one line per
check (reconciler/commands/doctor.py), exit 1 when one fails. Both find the project as
every command does; the engines they ask come from the CLI's kits.
"""

from __future__ import annotations

import json
import os
from typing import Any

import click

from reconciler.cli.exit_codes import EXIT_ERROR, EXIT_OK
from reconciler.cli.options import format_option, option, project_of, project_options
from reconciler.reads.backend import Kits
from reconciler.reads.opened import inputs_of
from state.engine import Backend
from state.errors import ConfigError
from state.resolve.appenv import VARIABLE
from state.resolve.project import project_from

DOCTOR_SCHEMA = 1


def _kits(ctx: click.Context) -> Kits:
    found: Kits = ctx.find_root().obj
    return found


@click.command("init")
@click.option(
    "--env",
    "envs",
    multiple=True,
    metavar="NAME=PROFILE[,PROFILE...]",
    help="An environment to write, with its profiles (repeatable; the first is the default). "
    "Default: prod (what `docker compose up` runs), then one per declared profile.",
)
@click.option("--force", is_flag=True, help="Rewrite the table if there is one.")
@project_options
@click.pass_context
def init(ctx: click.Context, /, envs: tuple[str, ...], force: bool, **params: Any) -> int:
    """Write an environment table (environments.toml) beside the compose files.

    The project is found as Compose finds it. Each environment says which compose
    files and profiles Compose is called with; APP_ENV then picks one, as in any
    project with a table. An existing table is left untouched unless --force.

    \b
    Examples:
      reconcile init                           prod + one environment per profile
      reconcile init --env prod= --env dev=dev,debug
      APP_ENV=dev reconcile --plan             what the dev environment would run
    """
    from reconciler.commands.adopt import init as write_table  # only this command's
    from reconciler.commands.adopt import parse_env, selected

    requested = [parse_env(text) for text in envs]
    options = project_of(ctx, params)
    inputs = inputs_of(options, tables=not force)
    if inputs.found is not None and inputs.found.table is not None:
        raise ConfigError(
            f"{inputs.found.table} exists: nothing was written; "
            "`reconcile init --force` rewrites it"
        )
    project = project_from(inputs, None, options.project_name)
    kit = _kits(ctx).get(Backend.COMPOSE)
    if kit is None:
        raise ConfigError("init asks Compose: no Compose backend is available here")
    written = write_table(project, kit.engine, requested, force=force, app_env=selected(inputs))
    count = len(written.rows)
    click.echo(f"Wrote {written.path}: {count} environment(s) on {', '.join(written.files)}")
    names = [
        row.wanted.name + (" (default)" if i == 0 else "") for i, row in enumerate(written.rows)
    ]
    width = max(len(name) for name in names)
    for name, row in zip(names, written.rows, strict=True):
        services = (
            f"cannot be loaded: {row.problem}"
            if row.services is None
            else f"{len(row.services)} service(s): {', '.join(row.services)}"
        )
        click.echo(f"  {name:<{width}}  {row.wanted.what}; {services}")
    for note in written.notes:
        click.echo(f"Note: {note}")
    other = written.rows[-1].wanted.name
    click.echo(
        f"Select one with {VARIABLE}, for one command (`{VARIABLE}={other} reconcile --plan`) "
        f"or for good ({VARIABLE}={other} in .env); unset, it is {written.rows[0].wanted.name}."
    )
    return EXIT_OK


@click.command("doctor")
@project_options
@format_option
@click.pass_context
def doctor(ctx: click.Context, /, **params: Any) -> int:
    """Check what a run needs, one line each, ok or fail with the fix (exit 1 on a fail).

    The engine and its endpoint, the Compose plugin, the project as Compose finds it,
    the environment table and APP_ENV, the compose files, the tool's directories, no
    other checkout under the same project name, and the images (present, pullable or
    buildable). Changes nothing.
    """
    chosen = option(ctx, params, "output_format", "text")
    kit = _kits(ctx).get(Backend.COMPOSE)
    if kit is None:
        raise ConfigError("doctor asks the Docker engine: no Compose backend is available here")
    from reconciler.commands.doctor import doctor as run_doctor  # only this command's

    checks = run_doctor(project_of(ctx, params), kit.engine)
    failed = any(check.failed for check in checks)
    if chosen == "json":
        document = {
            "schema_version": DOCTOR_SCHEMA,
            "kind": "reconcile-doctor",
            "ok": not failed,
            "checks": [{"name": c.name, "status": c.status, "detail": c.detail} for c in checks],
            "cwd": os.getcwd(),
        }
        click.echo(json.dumps(document, indent=2))
    else:
        width = max(len(check.name) for check in checks)
        for check in checks:
            click.echo(f"{check.status:<4}  {check.name:<{width}}  {check.detail}")
    return EXIT_ERROR if failed else EXIT_OK
