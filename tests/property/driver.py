"""Drive the shipped commands over the in-memory engine, as `reconcile` does.

`reconcile` calls `commands.apply` (lock, desire through the port, observe, plan,
execute, final convergence check); `restart`, `stop` and `down` call theirs. Each
returns what the command said, the plan it made and its error, if any. The health
gate is the real engine's business (it has its own tests): no waiting here, and the
retry policy is the product's, without the sleeping.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tenacity import Retrying

from reconciler import commands
from reconciler.plan import Plan, Strategy, plan
from reconciler.retry import default_retrying
from state.desired import DesiredState
from state.environments import load_table
from state.errors import ReconcilerError
from state.observed import observe
from state.project import COMPOSE_DIR, ComposeProject
from tests.memory_engine import MemoryEngine

REPO = Path(__file__).resolve().parents[2]
TABLE = load_table(REPO / COMPOSE_DIR)


def quick_retrying() -> Retrying:
    """The product's retry policy, without the waiting."""
    return default_retrying(attempts=3, max_wait=0)


SETTINGS = commands.ApplySettings(wait=False, lock_timeout=5, retrying=quick_retrying)


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


def project_for(desired: DesiredState) -> ComposeProject:
    """The Compose project whose files (the engine's `desired`) say what should run."""
    return ComposeProject(
        directory=REPO,
        env_file=REPO / ".env",
        name=desired.project,
        table=TABLE,
        app_env=desired.app_env,
        variables={"APP_ENV": desired.app_env.name},
    )


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
        run.plan = commands.preview(engine, project_for(desired), Strategy.CHANGED).plan
        return commands.apply(engine, project_for(desired), SETTINGS, run.said.append).plan

    return _run(engine, desired, command)


def restart(engine: MemoryEngine, desired: DesiredState) -> Run:
    def command(run: Run) -> Plan:
        run.plan = commands.preview(engine, project_for(desired), Strategy.ALWAYS).plan
        return commands.restart(engine, project_for(desired), SETTINGS, run.said.append).plan

    return _run(engine, desired, command)


def stop(engine: MemoryEngine, desired: DesiredState) -> Run:
    def command(run: Run) -> Plan:
        run.plan = commands.stop(engine, desired.project, SETTINGS, run.said.append).plan
        return run.plan

    return _run(engine, desired, command)


def down(engine: MemoryEngine, desired: DesiredState, *, volumes: bool = False) -> Run:
    def command(run: Run) -> Plan:
        teardown = commands.down(
            engine,
            desired.project,
            SETTINGS,
            run.said.append,
            volumes=volumes,
            confirm=lambda names: True,
        )
        run.plan = teardown.plan
        return run.plan

    return _run(engine, desired, command)
