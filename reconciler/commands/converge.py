"""The commands: preview, apply, restart, stop, down, status, logs (apply stage).

Each takes the engine port (the Docker adapter, or the in-memory engine of the
property tests), reads the world through session, takes the project lock for
anything that changes it, executes a plan (nothing happens outside one) and reports
progress through `say`, so only rendering prints. `plan_only` stops after planning
and changes nothing. Apply always ends by observing and planning again: a non-empty
plan means "did not converge" and exit 1.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from reconciler.commands import rollback
from reconciler.commands.rollback import EngineMaker
from reconciler.execute.executor import Runner, execute
from reconciler.execute.outcome import ApplyResult
from reconciler.execute.retry import Policy, default_retrying, retried
from reconciler.execute.runner import WAIT_TIMEOUT
from reconciler.execute.swarm_runner import runner_for
from reconciler.planner.plan import ActionKind, Plan, Strategy, teardown_plan
from reconciler.planner.snapshot import Applied, Snapshot, Teardown, Unknown
from reconciler.reads.config_cache import cached
from reconciler.reads.pipeline import (
    Remembered,
    inputs,
    planned,
    read_both,
    read_desired,
    read_observed,
    snapshot,
    snapshot_of,
)
from reconciler.render import plans
from reconciler.store.lock import project_lock
from reconciler.store.saved_plans import SavedPlan, StalePlan, check, fingerprint
from state.engine import ONEOFF_LABEL, Engine
from state.errors import ConfigError, ReconcilerError
from state.resolve.project import ComposeProject

Say = Callable[[str], None]
TornDown = Callable[[Teardown, ApplyResult], None]  # what stop or down did, for --format json
LOCK_TIMEOUT = 300.0  # seconds to wait for another reconcile of the project (--lock-timeout)


class DidNotConverge(ReconcilerError):
    """After applying, a fresh plan still has actions."""


class ApplyFailed(ReconcilerError):
    """An action or the health gate failed."""


@dataclass(frozen=True)
class ApplySettings:
    wait: bool = True
    wait_timeout: float = WAIT_TIMEOUT
    lock_timeout: float = LOCK_TIMEOUT
    retrying: Policy = default_retrying
    rollback: bool = True  # --no-rollback: keep a service that never became ready
    engines: EngineMaker | None = None  # an engine for the saved model; None: none


def preview(engine: Engine, project: ComposeProject, strategy: Strategy) -> Snapshot:
    """`--plan`: what apply (or restart) would do. Changes nothing."""
    return snapshot_of(project, engine, strategy)


def status(engine: Engine, project: ComposeProject) -> Snapshot | Unknown:
    """What runs against what should; when the compose files or images make the desired
    state unreadable, what runs and why the rest is unknown. Read-only."""
    desired, observed = read_both(project, engine)
    if isinstance(desired, ConfigError):
        return Unknown(project.name, project.app_env, observed, str(desired))
    return planned(desired, observed)


def apply(
    engine: Engine,
    project: ComposeProject,
    settings: ApplySettings,
    say: Say,
    *,
    strategy: Strategy = Strategy.CHANGED,
    saved: SavedPlan | None = None,
    report: Callable[[Applied], None] = lambda applied: None,
) -> Snapshot:
    """Plan, show, execute wave by wave, then verify convergence. Returns the final snapshot.

    With `saved` (`reconcile apply FILE`): under the lock, refuse it when anything in
    its fingerprint changed (nothing touched), else execute exactly its actions.
    `report` gets what was done before a failure is raised (`--format json` prints it)."""
    started = time.monotonic()
    source = Remembered(cached(project, engine))  # the config cache inside (issue 9)
    desired = read_desired(project, source)
    with project_lock(desired.project, settings.lock_timeout):
        back = rollback.Rollback(
            desired.project,
            engine,
            settings.engines,
            settings.rollback,
            settings.wait_timeout,
            settings.retrying,
            say,
        )
        left = back.unfinished() if saved is not None and back.enabled else {}
        if left:  # finishing the rollback would change what the saved plan was made from
            raise StalePlan(
                f"the saved plan cannot be applied: a killed run left a rollback of "
                f"{', '.join(sorted(left))} unfinished; nothing was changed: "
                "run `reconcile` to finish it, then make a new plan"
            )
        back.resume()
        first = snapshot(engine, desired, saved.strategy if saved else strategy)
        if saved is not None:
            first = checked(first, project, saved)
        say(plans.plan_text(first))
        if first.plan.is_empty:
            rollback.succeeded(first, source.model, say)
            report(Applied(first, first, (), time.monotonic() - started))
            return first
        back.prepare(first.plan, project.directory)
        # On a swarm, Swarm rolls a failed update back itself (its gate names no service).
        runner = rollback.Watched(
            runner_for(engine)(
                engine, desired, wait=settings.wait, wait_timeout=settings.wait_timeout
            )
        )
        result = back.after(_execute(first.plan, runner, settings, say), runner, first.plan)
        final = snapshot(engine, desired)
        if result.ok and final.plan.is_empty:
            rollback.succeeded(final, source.model, say)
    report(Applied(first, final, result.outcomes, time.monotonic() - started, result.error))
    _verify(result, final.plan, say)
    say(plans.converged_line(final, time.monotonic() - started))
    return final


def checked(snap: Snapshot, project: ComposeProject, saved: SavedPlan) -> Snapshot:
    """The snapshot with the saved plan in place of a fresh one, if the saved plan's
    fingerprint matches this snapshot's; else StalePlan (or ConfigError: another project)."""
    check(saved, fingerprint(snap, inputs(project)))
    return Snapshot(desired=snap.desired, observed=snap.observed, plan=saved.plan)


def preview_saved(engine: Engine, project: ComposeProject, saved: SavedPlan) -> Snapshot:
    """`apply FILE --plan`: the saved plan, checked for staleness. Changes nothing."""
    return checked(preview(engine, project, saved.strategy), project, saved)


def restart(engine: Engine, project: ComposeProject, settings: ApplySettings, say: Say) -> Snapshot:
    """Stop everything, then recreate everything: explicit STOP and RECREATE actions."""
    return apply(engine, project, settings, say, strategy=Strategy.ALWAYS)


def _execute(plan: Plan, runner: Runner, settings: ApplySettings, say: Say) -> ApplyResult:
    say("Applying:")
    return execute(
        plan,
        runner,
        retrying=settings.retrying,
        on_outcome=lambda outcome: say(plans.outcome_line(outcome)),
    )


def _verify(result: ApplyResult, remaining: Plan, say: Say) -> None:
    if not remaining.is_empty:
        say("Still pending:\n" + "\n".join(plans.action_line(a) for a in remaining.actions))
    if not result.ok:
        raise ApplyFailed(result.error if result.rolled_back else f"apply failed: {result.error}")
    if not remaining.is_empty:
        raise DidNotConverge(
            f"did not converge: {plans.summary(remaining)} still pending; run `just up` again "
            "or see `reconcile status`"
        )


def stop(
    engine: Engine,
    name: str,
    settings: ApplySettings,
    say: Say,
    *,
    plan_only: bool = False,
    report: TornDown = lambda teardown, result: None,
) -> Teardown:
    """Stop every running container of the project (all profiles), keeping them."""
    with project_lock(name, settings.lock_timeout):
        observed = read_observed(engine, name)
        teardown = Teardown(
            "stop", name, observed, teardown_plan(observed, ActionKind.STOP, "stop requested")
        )
        if not plan_only:
            _tear_down(engine, teardown, settings, say, report)
    return teardown


def down(
    engine: Engine,
    name: str,
    settings: ApplySettings,
    say: Say,
    *,
    volumes: bool,
    confirm: Callable[[Sequence[str]], bool],
    plan_only: bool = False,
    report: TornDown = lambda teardown, result: None,
) -> Teardown:
    """Remove the project's containers (never one-offs) and networks; its volumes only
    when asked and confirmed. Needs only the project's name."""
    with project_lock(name, settings.lock_timeout):
        observed = read_observed(engine, name)
        oneoffs = [
            r
            for r in retried(lambda: engine.containers(name), settings.retrying)
            if r.labels.get(ONEOFF_LABEL) == "True"
        ]
        networks = retried(lambda: engine.networks(name), settings.retrying)
        existing = retried(lambda: engine.volumes(name), settings.retrying)
        teardown = Teardown(
            "down",
            name,
            observed,
            teardown_plan(observed, ActionKind.REMOVE, "down"),
            networks=() if oneoffs else tuple(networks),
            kept_networks=tuple(networks) if oneoffs else (),
            volumes=tuple(existing) if volumes else (),
            kept_volumes=() if volumes else tuple(existing),
        )
        if plan_only:
            return teardown
        if teardown.volumes and not confirm(teardown.volumes):
            raise ReconcilerError(
                f"`down --volumes` destroys the data in {', '.join(teardown.volumes)}: "
                "pass --yes to confirm"
            )
        _tear_down(engine, teardown, settings, say, report)
        if teardown.networks:
            retried(lambda: engine.remove_networks(teardown.networks), settings.retrying)
        if teardown.volumes:
            retried(lambda: engine.remove_volumes(teardown.volumes), settings.retrying)
    say(plans.teardown_done(teardown))
    return teardown


def _tear_down(
    engine: Engine, teardown: Teardown, settings: ApplySettings, say: Say, report: TornDown
) -> None:
    say(plans.teardown_text(teardown))
    if teardown.plan.is_empty:
        report(teardown, ApplyResult(()))
        return
    result = _execute(teardown.plan, runner_for(engine)(engine, None, wait=False), settings, say)
    report(teardown, result)
    if not result.ok:
        raise ApplyFailed(f"{teardown.command} failed: {result.error}")


def logs(
    engine: Engine, name: str, services: Sequence[str], *, follow: bool, tail: str | None
) -> int:
    """The services' logs (all when none is named). Needs only the project's name; a
    service with no container in the project is refused (Compose, reading no file,
    would print nothing)."""
    present = {c.service for c in read_observed(engine, name).containers} if services else set()
    for service in services:
        if service not in present:
            raise ConfigError(
                f"no such service: {service} has no container in project {name}; "
                "see `reconcile status` for the services that run"
            )
    return engine.stream_logs(name, services, follow=follow, tail=tail)
