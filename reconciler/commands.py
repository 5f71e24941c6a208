"""The write commands: apply, stop, restart, down, logs (apply stage, then render).

Each one resolves and reads the world (session), takes the project lock for anything
that changes it, and reports progress through `say` so that only rendering prints.
Apply always ends by observing and planning again: a non-empty plan means "did not
converge" and exit 1.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from reconciler import render
from reconciler.apply import execute
from reconciler.lock import project_lock
from reconciler.outcome import ApplyResult
from reconciler.plan import Plan, Strategy, plan
from reconciler.runner import EngineRunner
from reconciler.session import (
    ProjectOptions,
    open_project,
    read_desired,
    read_observed,
)
from reconciler.snapshot import Snapshot
from state.docker_engine import DockerEngine
from state.engine import ContainerStatus
from state.errors import ReconcilerError
from state.observed import ObservedContainer

Say = Callable[[str], None]
_STOPPABLE = {ContainerStatus.RUNNING, ContainerStatus.PAUSED, ContainerStatus.RESTARTING}


class DidNotConverge(ReconcilerError):
    """After applying, a fresh plan still has actions."""


class ApplyFailed(ReconcilerError):
    """An action or the health gate failed."""


@dataclass(frozen=True)
class ApplySettings:
    wait: bool = True
    wait_timeout: float = 120.0
    lock_timeout: float = 300.0


def apply(
    options: ProjectOptions,
    settings: ApplySettings,
    say: Say,
    *,
    strategy: Strategy = Strategy.CHANGED,
) -> Snapshot:
    """Plan, show, execute wave by wave, then verify convergence. Returns the final snapshot."""
    started = time.monotonic()
    project, engine = open_project(options)
    desired = read_desired(project, engine)
    with project_lock(desired.project, settings.lock_timeout):
        observed = read_observed(engine, desired.project)
        first = Snapshot(desired, observed, plan(desired, observed, strategy))
        say(render.plan_text(first))
        if first.plan.is_empty:
            return first
        say("Applying:")
        runner = EngineRunner(
            engine, desired, wait=settings.wait, wait_timeout=settings.wait_timeout
        )
        result = execute(first.plan, runner, on_outcome=lambda o: say(render.outcome_line(o)))
        after = read_observed(engine, desired.project)
        final = Snapshot(desired, after, plan(desired, after))
    _verify(result, final.plan, say)
    say(render.converged_line(final, time.monotonic() - started))
    return final


def _verify(result: ApplyResult, remaining: Plan, say: Say) -> None:
    if not remaining.is_empty:
        say("Still pending:\n" + "\n".join(render.action_line(a) for a in remaining.actions))
    if not result.ok:
        raise ApplyFailed(f"apply failed: {result.error}")
    if not remaining.is_empty:
        raise DidNotConverge(
            f"did not converge: {render.summary(remaining)} still pending; run `just up` again "
            "or see `reconcile status`"
        )


def stop(options: ProjectOptions, settings: ApplySettings, say: Say) -> None:
    """Stop every container of the project (all profiles), keeping them."""
    project, engine = open_project(options)
    name = read_desired(project, engine).project
    with project_lock(name, settings.lock_timeout):
        _stop_all(engine, read_observed(engine, name).containers, say)


def _stop_all(engine: DockerEngine, containers: Sequence[ObservedContainer], say: Say) -> None:
    running = [c for c in containers if c.status in _STOPPABLE]
    if not running:
        say("Nothing to stop.")
        return
    started = time.monotonic()
    engine.stop([c.id for c in running])
    say(
        f"Stopped {len(running)} container(s) in {time.monotonic() - started:.1f} s: "
        + ", ".join(c.name for c in running)
    )


def down(
    options: ProjectOptions,
    settings: ApplySettings,
    say: Say,
    *,
    volumes: bool,
    confirm: Callable[[list[str]], bool],
) -> None:
    """Remove the project's containers and networks; its volumes only when asked and confirmed."""
    project, engine = open_project(options)
    name = read_desired(project, engine).project
    with project_lock(name, settings.lock_timeout):
        existing_volumes = engine.volumes(name)
        if volumes and existing_volumes and not confirm(existing_volumes):
            raise ReconcilerError(
                f"`down --volumes` destroys the data in {', '.join(existing_volumes)}: "
                "pass --yes to confirm"
            )
        containers = read_observed(engine, name).containers
        if containers:
            engine.remove([c.id for c in containers])
            say(f"Removed {len(containers)} container(s): " + ", ".join(c.name for c in containers))
        engine.down(volumes=volumes)
        left = engine.volumes(name)
        if volumes:
            removed = sorted(set(existing_volumes) - set(left))
            say(f"Removed volume(s): {', '.join(removed) or 'none'}")
        if left:
            say(f"Kept volume(s): {', '.join(left)} (`down --volumes --yes` destroys them)")


def logs(
    options: ProjectOptions, services: tuple[str, ...], *, follow: bool, tail: str | None
) -> int:
    _, engine = open_project(options)
    return engine.stream_logs(services, follow=follow, tail=tail)
