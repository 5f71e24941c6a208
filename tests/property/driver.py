"""Drive the shipped commands over the in-memory engine, as `reconcile` does.

`reconcile` calls `converge.apply` (lock, desire through the port, observe, plan,
execute, final convergence check); `restart`, `stop` and `down` call theirs. Each
returns what the command said, the plan it made and its error, if any. The health
gate is off unless the world turns it on (`engine.gate`): then the product's gate
polls the in-memory engine's health (`starting` until a probe), without sleeping; the
retry policy is the product's, without the sleeping.

Cache-on runs (tests/property/test_cache_on.py) set CACHE["project"]: the project then
lives there, its compose files hold the engine's desired state (what its `compose
config` answers from), and the engine's Compose answers go through
reconciler/reads/config_cache.py as the Docker adapter's do (`Cacheable`).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tenacity import Retrying

from reconciler.commands import converge, teardown
from reconciler.execute.retry import default_retrying
from reconciler.execute.runner import EngineRunner
from reconciler.planner.plan import Plan, Strategy, plan
from reconciler.reads.backend import BackendKit
from reconciler.reads.config_cache import cached
from reconciler.reads.opened import Named, Opened
from state.engine import Backend, ComposeSource
from state.errors import ReconcilerError
from state.model.desired import DesiredState
from state.model.observed import observe
from state.resolve.project import COMPOSE_DIR, ComposeProject
from state.resolve.table import load_table
from state.stored import as_json
from tests.memory_engine import MemoryEngine

REPO = Path(__file__).resolve().parents[2]
TABLE = load_table(REPO / COMPOSE_DIR)


def quick_retrying() -> Retrying:
    """The product's retry policy, without the waiting."""
    return default_retrying(attempts=3, max_wait=0)


SETTINGS = converge.ApplySettings(wait=False, lock_timeout=5, retrying=quick_retrying)


@dataclass
class Run:
    """What one command did: its first plan (empty when it failed before planning),
    its error, and every line it said."""

    plan: Plan = field(default_factory=Plan)
    error: str | None = None
    said: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None


CACHE: dict[str, Path] = {}


def project_for(desired: DesiredState) -> ComposeProject:
    """The Compose project whose files (the engine's `desired`) say what should run."""
    directory = CACHE.get("project", REPO)
    if directory != REPO:
        _write_files(directory, desired)
    return ComposeProject(
        directory=directory,
        env_file=directory / ".env",
        name=desired.project,
        table=TABLE,
        app_env=desired.app_env,
        variables={"APP_ENV": desired.app_env.name},
    )


def _write_files(directory: Path, desired: DesiredState) -> None:
    """Every compose file of the table holds `desired` (rewritten only when it differs:
    the cache's key also reads the files' mtimes)."""
    text = json.dumps(as_json(desired))
    for environment in TABLE.environments.values():
        for name in environment.files:
            path = directory / COMPOSE_DIR / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists() or path.read_text() != text:
                path.write_text(text)


@dataclass
class Cacheable:
    """The in-memory engine's Compose answers as a CacheableSource: what it "hands
    Compose" is the project's files, which hold its desired state."""

    engine: MemoryEngine

    def compose_model(self) -> dict[str, Any]:
        return self.engine.compose_model()

    def config_hashes(self) -> dict[str, str]:
        return self.engine.config_hashes()

    def service_names_in_any_profile(self) -> frozenset[str]:
        return self.engine.service_names_in_any_profile()

    def declared_profiles(self) -> frozenset[str]:
        return self.engine.declared_profiles()

    def image_ids(self, references: Sequence[str]) -> dict[str, str]:
        return self.engine.image_ids(references)

    def use_content_override(self, path: Path) -> None:
        self.engine.use_content_override(path)

    def compose_inputs(self) -> list[str]:
        return ["in-memory"]

    def compose_files(self) -> list[Path]:
        return []

    def warm_state(self) -> dict[str, Any]:
        return {}

    def use_warm_state(self, state: Mapping[str, Any]) -> None:
        pass


NOW = [0.0]  # the gate's clock: it moves only when the gate "sleeps"


def _sleep(seconds: float) -> None:
    NOW[0] += seconds


@dataclass
class QuickRunner(EngineRunner):
    """The product's runner and gate on a clock of its own: a poll does not sleep, it
    moves the clock (the in-memory engine's probes advance with its reads)."""

    clock: Callable[[], float] = lambda: NOW[0]
    sleep: Callable[[float], None] = _sleep


def kit(engine: MemoryEngine) -> BackendKit:
    return BackendKit(Backend.COMPOSE, lambda project: engine, runner=QuickRunner)


def settings_for(engine: MemoryEngine) -> converge.ApplySettings:
    return dataclasses.replace(SETTINGS, wait=engine.gate, wait_timeout=5)


def opened(engine: MemoryEngine, desired: DesiredState) -> Opened:
    """What reconciler/reads/opened.py would open for the engine's project."""
    project = project_for(desired)
    source: ComposeSource = cached(project, Cacheable(engine)) if CACHE else engine
    return Opened(project, kit(engine), engine, source)


def named(engine: MemoryEngine, desired: DesiredState) -> Named:
    return Named(desired.project, kit(engine), engine, project_for(desired).directory)


def current_plan(engine: MemoryEngine, desired: DesiredState) -> Plan:
    return plan(desired, observe(engine, desired.project))


def _run(engine: MemoryEngine, desired: DesiredState, command: Callable[[Run], Plan]) -> Run:
    engine.desired = desired
    run = Run()
    try:
        command(run)
    except ReconcilerError as exc:
        run.error = str(exc)
    return run


def reconcile(engine: MemoryEngine, desired: DesiredState) -> Run:
    """`reconcile` (apply)."""

    def command(run: Run) -> Plan:
        run.plan = converge.preview(opened(engine, desired), Strategy.CHANGED).plan
        return converge.apply(opened(engine, desired), settings_for(engine), run.said.append).plan

    return _run(engine, desired, command)


def restart(engine: MemoryEngine, desired: DesiredState) -> Run:
    def command(run: Run) -> Plan:
        run.plan = converge.preview(opened(engine, desired), Strategy.ALWAYS).plan
        return converge.restart(opened(engine, desired), settings_for(engine), run.said.append).plan

    return _run(engine, desired, command)


def stop(engine: MemoryEngine, desired: DesiredState) -> Run:
    def command(run: Run) -> Plan:
        run.plan = teardown.stop(named(engine, desired), SETTINGS, run.said.append).plan
        return run.plan

    return _run(engine, desired, command)


def down(engine: MemoryEngine, desired: DesiredState, *, volumes: bool = False) -> Run:
    def command(run: Run) -> Plan:
        done = teardown.down(
            named(engine, desired),
            SETTINGS,
            run.said.append,
            volumes=volumes,
            confirm=lambda names: True,
        )
        run.plan = done.plan
        return run.plan

    return _run(engine, desired, command)
