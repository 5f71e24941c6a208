"""The teardown commands by name: stop, down (apply stage).

They need only the project's name and its containers (reconciler/reads/opened.py's
Named: the name, where the project runs, that backend's engine), so missing images
or a broken compose file never block them. `stop` and `down` plan from the observed
state alone and execute that plan under the project lock; `--plan` shows it and
changes nothing (and, as every plan, never waits for the lock).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence

from reconciler.commands import receipts
from reconciler.commands.converge import (
    ApplyFailed,
    ApplySettings,
    Say,
    enforce,
    execute_plan,
    guard_checkout,
)
from reconciler.execute.outcome import ApplyResult
from reconciler.execute.retry import retried
from reconciler.execute.stopwatch import Stopwatch, Timed
from reconciler.planner.actions import ActionKind
from reconciler.planner.guards import evaluate
from reconciler.planner.ordering import teardown_waits
from reconciler.planner.snapshot import Teardown
from reconciler.planner.teardown import teardown_plan
from reconciler.reads.declared import declared_dependencies
from reconciler.reads.opened import Named
from reconciler.reads.pipeline import read_observed
from reconciler.render import plans
from reconciler.render import teardown as teardown_render
from reconciler.store.lock import project_lock
from state.engine import ONEOFF_LABEL, Backend
from state.errors import ReconcilerError
from state.model.observed import ObservedState, observed_of

TornDown = Callable[[Teardown, ApplyResult], None]  # what stop or down did, for --format json


def stop(
    named: Named,
    settings: ApplySettings,
    say: Say,
    *,
    plan_only: bool = False,
    report: TornDown = lambda teardown, result: None,
) -> Teardown:
    """Stop every running container of the project (all profiles), keeping them."""
    if plan_only:
        return _guarded(named, _stop_plan(named), settings)
    with project_lock(named.name, settings.lock_timeout):
        teardown = _guarded(named, _stop_plan(named), settings)
        guard_checkout(teardown.observed, named.checkout, settings)
        _tear_down(named, teardown, settings, say, report)
    return teardown


def _stop_plan(named: Named) -> Teardown:
    observed = read_observed(named.engine, named.name)
    return _planned(named, observed, "stop", ActionKind.STOP, "stop requested")


def _planned(
    named: Named, observed: ObservedState, command: str, kind: ActionKind, reason: str
) -> Teardown:
    """The teardown of every container `kind` applies to, dependents first by their
    labels and the compose files, with who waits for whom (the flow's order)."""
    declared = declared_dependencies(named)
    plan = teardown_plan(observed, kind, reason, declared)
    waits = teardown_waits({a.service for a in plan.actions}, observed, declared)
    return Teardown(command, named.name, observed, plan, waits=waits)


def down(
    named: Named,
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
    if plan_only:
        return _guarded(named, _down_plan(named, settings, volumes), settings)
    engine = named.engine
    with project_lock(named.name, settings.lock_timeout):
        teardown = _guarded(named, _down_plan(named, settings, volumes), settings)
        guard_checkout(teardown.observed, named.checkout, settings)
        if teardown.volumes and not confirm(teardown.volumes):
            raise ReconcilerError(
                f"`down --volumes` destroys the data in {', '.join(teardown.volumes)}: "
                "pass --yes to confirm"
            )
        _tear_down(named, teardown, settings, say, report)
        if teardown.networks:
            retried(lambda: engine.remove_networks(teardown.networks), settings.retrying)
        if teardown.volumes:
            retried(lambda: engine.remove_volumes(teardown.volumes), settings.retrying)
    say(teardown_render.teardown_done(teardown))
    return teardown


def _down_plan(named: Named, settings: ApplySettings, volumes: bool) -> Teardown:
    engine, name = named.engine, named.name
    records = retried(lambda: engine.containers(name), settings.retrying)  # one-offs too
    planned = _planned(named, observed_of(name, records), "down", ActionKind.REMOVE, "down")
    oneoffs = [r for r in records if r.labels.get(ONEOFF_LABEL) == "True"]
    networks = retried(lambda: engine.networks(name), settings.retrying)
    existing = retried(lambda: engine.volumes(name), settings.retrying)
    return dataclasses.replace(
        planned,
        networks=() if oneoffs else tuple(networks),
        kept_networks=tuple(networks) if oneoffs else (),
        volumes=tuple(existing) if volumes else (),
        kept_volumes=() if volumes else tuple(existing),
    )


def _guarded(named: Named, teardown: Teardown, settings: ApplySettings) -> Teardown:
    """The teardown with the guardrails' verdict: only its confirmations count (what may
    run where is no question for a command that stops or removes)."""
    project = named.project
    if project is None or project.table is None:
        return teardown
    table = project.table
    identity = retried(named.engine.identity) if table.engines else None
    verdict = evaluate(
        table,
        project.app_env.name,
        identity,
        None,
        teardown.observed,
        teardown.plan,
        volumes_removed=teardown.volumes,
    )
    return dataclasses.replace(teardown, guard=dataclasses.replace(verdict, refusal=None))


def _tear_down(
    named: Named, teardown: Teardown, settings: ApplySettings, say: Say, report: TornDown
) -> None:
    say(teardown_render.teardown_text(teardown))
    enforce(teardown.guard, settings, say)
    if teardown.plan.is_empty:
        report(teardown, ApplyResult(()))
        return
    started, stopwatch = time.monotonic(), Stopwatch()
    runner = Timed(named.kit.runner(named.engine, None, wait=False), stopwatch)
    from reconciler.execute.flow import flow, flows  # here: `--plan` needs no threads

    if named.kit.backend is Backend.COMPOSE and flows(teardown.plan):  # as Compose walks it
        say("Applying:")
        result = flow(
            teardown.plan,
            runner,
            teardown.waits,
            retrying=settings.retrying,
            on_outcome=lambda outcome: say(plans.outcome_line(outcome)),
        )
    else:
        result = execute_plan(teardown.plan, runner, settings, say)
    document = receipts.receipt(
        command=teardown.command,
        project=named.name,
        directory=named.checkout,
        app_env=named.project.app_env if named.project else None,
        plan=teardown.plan,
        outcomes=result.outcomes,
        unavailable=stopwatch.measured(gated=False),
        seconds=time.monotonic() - started,
        result=receipts.result_of(result.outcomes, result.error, result.ok),
        error=result.error,
    )
    receipts.keep(named.name, document, say)
    notifier = receipts.notifier(settings.notify, named.project)
    receipts.announce(notifier, receipts.event_of(document["result"], False), document, say)
    report(teardown, result)
    if not result.ok:
        raise ApplyFailed(f"{teardown.command} failed: {result.error}")
