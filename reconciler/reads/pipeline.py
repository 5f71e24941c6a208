"""One command's view of the world: resolve -> desire/observe -> plan.

Resolves what a command acts on (the project's name alone, or the whole Compose
project with its APP_ENV) and reads the states through the engine port, with
transient engine errors retried like the writes are; the desire and observe stages
read concurrently where nothing orders them (`--plan`, status). Read-only; no Docker
code here.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.execute.retry import retried
from reconciler.planner.plan import Strategy, plan
from reconciler.planner.snapshot import Snapshot
from reconciler.reads.config_cache import cached
from reconciler.store.atomic import write_atomically
from reconciler.store.saved_plans import Inputs, SavedPlan, load, save
from state.engine import ComposeSource, ContainerEngine, Engine
from state.errors import ConfigError
from state.model.desired import DesiredState, desire
from state.model.observed import ObservedState, observe
from state.process.concurrent import reads_concurrently, together
from state.resolve.naming import project_name
from state.resolve.project import ComposeProject, load_project
from state.resolve.table import TABLE_FILE

_REFERENCE = re.compile(r"(?<!\$)\$\{?([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class ProjectOptions:
    """The options every command takes after its name."""

    project_name: str | None = None
    project_directory: Path | None = None
    env_file: Path | None = None

    @property
    def directory(self) -> Path:
        return (self.project_directory or Path.cwd()).resolve()


def open_project(options: ProjectOptions) -> ComposeProject:
    """Resolve APP_ENV and the project (ConfigError on bad input)."""
    return load_project(
        options.directory,
        project_name=options.project_name,
        env_file=options.env_file,
        process_env=os.environ,
    )


def open_name(options: ProjectOptions) -> str:
    """Only the project's name: no APP_ENV, no environment table, no Compose call."""
    return project_name(
        options.directory,
        explicit=options.project_name,
        process_env=os.environ,
        env_file=(options.env_file or options.directory / ".env").resolve(),
    )


def read_desired(project: ComposeProject, source: ComposeSource) -> DesiredState:
    view = cached(project, source)  # before any read: it may hand the adapter its lines
    return retried(lambda: desire(project, view))


def read_observed(engine: ContainerEngine, name: str) -> ObservedState:
    return retried(lambda: observe(engine, name))


def read_both(
    project: ComposeProject, engine: Engine
) -> tuple[DesiredState | ConfigError, ObservedState]:
    """Desire and observe at once (their reads are independent). A ConfigError of the
    desire stage is returned, for `status` to show what runs anyway; any other failure
    is raised, the desire stage's first (the pipeline's order)."""

    view = cached(project, engine)  # before the threads: it may hand the adapter its lines

    def desired_or_config_error() -> DesiredState | ConfigError:
        try:
            return retried(lambda: desire(project, view))
        except ConfigError as exc:
            return exc

    desired, observed = together(
        desired_or_config_error,
        lambda: read_observed(engine, project.name),
        concurrent=reads_concurrently(engine),
    )
    return desired, observed


def snapshot_of(
    project: ComposeProject, engine: Engine, strategy: Strategy = Strategy.CHANGED
) -> Snapshot:
    """Desire, observe (concurrently) and plan. Changes nothing; ConfigError on bad input."""
    desired, observed = read_both(project, engine)
    if isinstance(desired, ConfigError):
        raise desired
    return planned(desired, observed, strategy)


def planned(
    desired: DesiredState, observed: ObservedState, strategy: Strategy = Strategy.CHANGED
) -> Snapshot:
    return Snapshot(desired=desired, observed=observed, plan=plan(desired, observed, strategy))


def snapshot(
    engine: ContainerEngine, desired: DesiredState, strategy: Strategy = Strategy.CHANGED
) -> Snapshot:
    """Observe and plan against a desired state already read. Changes nothing."""
    return planned(desired, read_observed(engine, desired.project), strategy)


def inputs(project: ComposeProject) -> Inputs:
    """Digests of what the project's plan is computed from: the environment table, the
    compose files, the env file Compose reads, and the variables the compose files
    reference as Compose would see them (digests only: no value leaves this function)."""
    listed = [f for f in project.files if f != project.content_override]  # digests: Fingerprint
    paths = (project.compose_dir / TABLE_FILE, *listed, *project.env_files())
    files: dict[str, str] = {}
    texts: list[str] = []
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read {path}: {exc.strerror}; fix the file") from None
        files[_shown(path, project.directory)] = hashlib.sha256(data).hexdigest()
        if path in project.files:
            texts.append(data.decode("utf-8", errors="replace"))
    seen = {**os.environ, **project.process_variables()}
    names = sorted({name for text in texts for name in _REFERENCE.findall(text)})
    variables = {name: _digest(name, seen.get(name)) for name in names}
    return Inputs(directory=str(project.directory), files=files, variables=variables)


def _shown(path: Path, directory: Path) -> str:
    return str(path.relative_to(directory)) if path.is_relative_to(directory) else str(path)


def _digest(name: str, value: str | None) -> str:
    if value is None:
        return "unset"
    return hashlib.sha256(f"{name}={value}".encode()).hexdigest()


def read_saved(path: Path) -> SavedPlan:
    """The plan file `reconcile --plan --out` wrote; ConfigError when unreadable or not one."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ConfigError(
            f"cannot read plan file {path}: {reason}; pass the file `reconcile --plan --out` wrote"
        ) from None
    return load(text, str(path))


def write_saved(path: Path, snap: Snapshot, project: ComposeProject, strategy: Strategy) -> None:
    """Save the plan with its fingerprint (written whole, then renamed into place)."""
    text = save(snap, inputs(project), strategy)
    try:
        write_atomically(path, text)  # the user's file: the mode their umask gives
    except OSError as exc:
        raise ConfigError(
            f"cannot write plan file {path}: {exc.strerror}; pass a writable --out path"
        ) from None


@dataclass
class Remembered:
    """The ComposeSource of an apply, keeping the model it read (for the journal)."""

    source: ComposeSource
    model: dict[str, Any] | None = None

    @property
    def concurrent_reads(self) -> bool:
        """As the source it wraps (state/process/concurrent.py: the reads then run at once)."""
        return getattr(self.source, "concurrent_reads", False) is True

    def compose_model(self) -> dict[str, Any]:
        self.model = self.source.compose_model()
        return self.model

    def config_hashes(self) -> dict[str, str]:
        return self.source.config_hashes()

    def service_names_in_any_profile(self) -> frozenset[str]:
        return self.source.service_names_in_any_profile()

    def image_ids(self, references: Sequence[str]) -> dict[str, str]:
        return self.source.image_ids(references)
