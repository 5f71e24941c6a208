"""What one command acts on, each input read once (resolve -> the engine, before desire).

`open_project` finds the project as Compose does and reads its env files
(state/resolve/inputs.py) and, when it has one, its environment table (validated once
per edit: reconciler/store/table_cache.py), resolves APP_ENV and the project, chooses
the backend (reconciler/reads/backend.py), builds its engine,
consults the config cache (reconciler/reads/config_cache.py) and attaches the content
override (reconciler/reads/content.py): once each. `open_name` does the same for the
commands that need only the project's name (stop, down, logs), which must work when the
table or the compose files are broken: the table is read only to learn the backend (a
broken one leaves it unknown), and stop and down consult the config cache for the
order the files declare (reconciler/reads/declared.py). Read-only; no Docker code here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from reconciler.reads.backend import BackendKit, Kits, choose
from reconciler.reads.config_cache import cached, warm_named
from reconciler.reads.content import attach
from reconciler.store.table_cache import table_cache
from state.engine import Backend, ComposeSource, Engine
from state.errors import ReconcilerError
from state.resolve.inputs import ProjectInputs, gather
from state.resolve.naming import project_name
from state.resolve.project import ComposeProject, project_from, table_of
from state.resolve.table import TABLE_FILE

# Name-only commands that order by the files (on Compose: the swarm removes services)
READS_FILES = frozenset({"stop", "down"})


@dataclass(frozen=True)
class ProjectOptions:
    """The options every command takes after its name."""

    project_name: str | None = None
    project_directory: Path | None = None
    env_file: Path | None = None
    backend: Backend | None = None
    files: tuple[Path, ...] = ()  # -f/--file

    @property
    def directory(self) -> Path:
        return (self.project_directory or Path.cwd()).resolve()


@dataclass(frozen=True)
class Opened:
    """The project a command acts on, its backend, that backend's engine, and the
    engine's Compose answers through the config cache (`source`)."""

    project: ComposeProject
    kit: BackendKit
    engine: Engine
    source: ComposeSource
    note: str = ""  # for stderr: where the project runs, when that is not APP_ENV's backend


@dataclass(frozen=True)
class Named:
    """A name-only command's project name, backend and engine (no project: the engine
    makes container-side calls only)."""

    name: str
    kit: BackendKit
    engine: Engine
    checkout: Path  # the project directory this command runs from
    note: str = ""
    project: ComposeProject | None = None  # when the table could be read (its guardrails)
    # stop and down: the compose files' answers through the config cache, when the table
    # could be read (they order the teardown: reconciler/reads/declared.py)
    source: ComposeSource | None = None


def inputs_of(options: ProjectOptions, *, tables: bool = True) -> ProjectInputs:
    """The project found from the options, as Compose finds it, with its env files read
    (`tables`: False to ignore an environment table, as Compose does)."""
    return gather(
        Path.cwd(),
        project_directory=options.project_directory,
        files=options.files,
        env_file=options.env_file,
        environ=os.environ,
        tables=tables,
    )


def no_table_note(project: ComposeProject) -> str:
    """The first line a command on a project without an environment table prints."""
    if project.table is not None:
        return ""
    return (
        f"no environment table ({TABLE_FILE}) found for {project.compose_dir}: planning "
        "what `docker compose up` runs; `reconcile init` writes one"
    )


def open_project(options: ProjectOptions, kits: Kits, command: str) -> Opened:
    """Resolve the project, choose its backend, build its engine: ConfigError on bad
    input, RunsElsewhere when applying here would start a second copy."""
    inputs = inputs_of(options)
    project = project_from(inputs, table_of(inputs, table_cache()), options.project_name)
    kit, note = choose(
        kits,
        command,
        project.name,
        chosen=options.backend,
        configured=project.backend,
        why=f"{project.app_env} uses {project.backend}",
        environ=os.environ,
    )
    engine = kit.engine(project)
    source = cached(project, engine)
    project = attach(project, source)
    return Opened(project, kit, engine, source, note)


def open_name(options: ProjectOptions, kits: Kits, command: str) -> Named:
    """The project's name and where it runs; ConfigError only for an unusable name or
    env file (a broken table or compose file never stops stop, down or logs)."""
    inputs = inputs_of(options)
    configured: Backend | None = None
    why = f"{TABLE_FILE} cannot be read"
    name: str | None = None
    project: ComposeProject | None = None
    try:
        project = project_from(inputs, table_of(inputs, table_cache()), options.project_name)
    except ReconcilerError:
        pass  # a broken table: the backend is unknown, where the project runs is not
    else:
        name, configured = project.name, project.backend
        why = f"{project.app_env} uses {configured}"
    if name is None:
        found = inputs.found.files if inputs.found else ()
        name = project_name(inputs, explicit=options.project_name, files=found)
    kit, note = choose(
        kits,
        command,
        name,
        chosen=options.backend,
        configured=configured,
        why=why,
        environ=os.environ,
    )
    if project is not None and command in READS_FILES and kit.backend is Backend.COMPOSE:
        engine = kit.engine(project)
        return Named(name, kit, engine, inputs.directory, note, project, cached(project, engine))
    engine = kit.engine(None)
    warm_named(engine)
    return Named(name, kit, engine, inputs.directory, note, project)
