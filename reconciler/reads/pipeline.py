"""One command's reads: desire and observe, then plan (desire/observe -> plan).

The states are read through the engine port (the project's engine, and its Compose
answers through the config cache: reconciler/reads/opened.py built both), with
transient engine errors retried like the writes are; the desire and observe stages read
concurrently where nothing orders them (`--plan`, status). Read-only; no Docker code
here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.execute.retry import retried
from reconciler.planner.plan import Strategy, plan
from reconciler.planner.snapshot import Snapshot, Unknown
from reconciler.reads.table_checks import check_table
from state.engine import ComposeSource, ContainerEngine
from state.errors import ConfigError
from state.model.desired import DesiredState, desire
from state.model.observed import ObservedState, observe
from state.process.concurrent import reads_concurrently, together
from state.resolve.project import ComposeProject


def read_desired(project: ComposeProject, source: ComposeSource) -> DesiredState:
    """The desired state; ConfigError when the table names what Compose does not have."""
    desired = retried(lambda: desire(project, source))
    declared = retried(source.declared_profiles) if project.profiles else frozenset()
    check_table(project, desired, declared)
    return desired


def read_observed(engine: ContainerEngine, name: str) -> ObservedState:
    return retried(lambda: observe(engine, name))


def read_both(
    project: ComposeProject, source: ComposeSource, engine: ContainerEngine
) -> tuple[DesiredState | ConfigError, ObservedState]:
    """Desire and observe at once (their reads are independent). A ConfigError of the
    desire stage is returned, for `status` to show what runs anyway; any other failure
    is raised, the desire stage's first (the pipeline's order)."""

    def desired_or_config_error() -> DesiredState | ConfigError:
        try:
            return read_desired(project, source)
        except ConfigError as exc:
            return exc

    desired, observed = together(
        desired_or_config_error,
        lambda: read_observed(engine, project.name),
        concurrent=reads_concurrently(engine),
    )
    return desired, observed


def snapshot_of(
    project: ComposeProject,
    source: ComposeSource,
    engine: ContainerEngine,
    strategy: Strategy = Strategy.CHANGED,
) -> Snapshot:
    """Desire, observe (concurrently) and plan. Changes nothing; ConfigError on bad input."""
    desired, observed = read_both(project, source, engine)
    if isinstance(desired, ConfigError):
        raise desired
    return planned(desired, observed, strategy)


def status_of(
    project: ComposeProject, source: ComposeSource, engine: ContainerEngine
) -> Snapshot | Unknown:
    """What runs against what should (`status`); when the compose files or images make
    the desired state unreadable, what runs and why the rest is unknown. Read-only."""
    desired, observed = read_both(project, source, engine)
    if isinstance(desired, ConfigError):
        return Unknown(project.name, project.app_env, observed, str(desired))
    return planned(desired, observed)


def planned(
    desired: DesiredState, observed: ObservedState, strategy: Strategy = Strategy.CHANGED
) -> Snapshot:
    return Snapshot(desired=desired, observed=observed, plan=plan(desired, observed, strategy))


def snapshot(
    engine: ContainerEngine, desired: DesiredState, strategy: Strategy = Strategy.CHANGED
) -> Snapshot:
    """Observe and plan against a desired state already read. Changes nothing."""
    return planned(desired, read_observed(engine, desired.project), strategy)


@dataclass
class Remembered:
    """The ComposeSource of an apply, keeping the model it read (for the journal). An
    image `up` could neither find, pull nor build is refused by the desire stage here,
    before anything is touched (a plan only shows it)."""

    source: ComposeSource
    model: dict[str, Any] | None = None
    refuses_missing_images = True

    @property
    def concurrent_reads(self) -> bool:
        """As the source it wraps (state/process/concurrent.py: the reads then run at once)."""
        return reads_concurrently(self.source)

    def compose_model(self) -> dict[str, Any]:
        self.model = self.source.compose_model()
        return self.model

    def config_hashes(self) -> dict[str, str]:
        return self.source.config_hashes()

    def service_names_in_any_profile(self) -> frozenset[str]:
        return self.source.service_names_in_any_profile()

    def image_ids(self, references: Sequence[str]) -> dict[str, str]:
        return self.source.image_ids(references)

    def declared_profiles(self) -> frozenset[str]:
        return self.source.declared_profiles()

    def use_content_override(self, path: Path) -> None:
        self.source.use_content_override(path)
