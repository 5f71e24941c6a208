"""The converging commands: preview (`--plan`), apply, restart, status (apply stage).

Each takes what reconciler/reads/opened.py opened for it (the project, its backend
kit, the engine and its cached Compose answers), reads the world through
reconciler/reads/pipeline.py, takes the project lock for anything that changes it,
executes a plan (nothing happens outside one) and reports progress through `say`, so
only rendering prints. Apply always ends by observing and planning again: a non-empty
plan means "did not converge" and exit 1.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.commands import receipts, rollback
from reconciler.commands.preview import guarded as guarded
from reconciler.commands.preview import predicted as predicted
from reconciler.commands.preview import preview as preview
from reconciler.execute.executor import Runner, execute
from reconciler.execute.outcome import Applied, ApplyResult, OutcomeStatus
from reconciler.execute.retry import Policy, default_retrying
from reconciler.execute.stopwatch import Stopwatch, Timed
from reconciler.execute.timeouts import LOCK_TIMEOUT, WAIT_TIMEOUT
from reconciler.planner.actions import TEARDOWN
from reconciler.planner.guards import SWITCH, Confirmation, Guard
from reconciler.planner.ownership import other_checkout, taken_over_message
from reconciler.planner.plan import Plan, Strategy, one_shots
from reconciler.planner.snapshot import Snapshot, Unknown
from reconciler.reads.opened import Opened
from reconciler.reads.pipeline import (
    Remembered,
    read_desired,
    snapshot,
    status_of,
)
from reconciler.render import plans
from reconciler.render.guards import confirmed_line
from reconciler.store.lock import project_lock
from state.engine import ContainerStatus
from state.errors import ReconcilerError
from state.model.desired import DesiredState
from state.model.observed import ObservedState

if TYPE_CHECKING:
    from reconciler.store.saved_plans import SavedPlan

Say = Callable[[str], None]


class DidNotConverge(ReconcilerError):
    """After applying, a fresh plan still has actions."""


class ApplyFailed(ReconcilerError):
    """An action or the health gate failed."""


class OtherCheckout(ReconcilerError):
    """The project's containers were made from another checkout of the same name."""


class Guarded(ReconcilerError):
    """A guardrail refused the plan, or it needs a confirmation it did not get."""


@dataclass(frozen=True)
class ApplySettings:
    wait: bool = True
    wait_timeout: float = WAIT_TIMEOUT
    lock_timeout: float = LOCK_TIMEOUT
    retrying: Policy = default_retrying
    rollback: bool = True  # --no-rollback: keep a service that never became ready
    take_over: bool = False  # --take-over: act on containers another checkout made
    waived: frozenset[str] = frozenset()  # --waive NAME: policies waived for this run
    confirm: Callable[[Confirmation], bool] = lambda confirmation: False  # --yes, typed
    command: str = "reconcile"  # what the history's receipts name (`watch` for its passes)
    notify: tuple[str, ...] = ()  # --notify CMD: told each outcome (reconciler/notify/hook.py)


def enforce(guard: Guard | None, settings: ApplySettings, say: Say) -> None:
    """Refuse what the guardrails forbid, and what needs a confirmation not given; say
    each confirmation that was given."""
    if guard is None:
        return
    if guard.refusal:
        raise Guarded(guard.refusal)
    if guard.blocking:
        first = guard.blocking[0]
        more = f" (and {len(guard.blocking) - 1} more)" if len(guard.blocking) > 1 else ""
        raise Guarded(
            f"{first}{more}; nothing was changed: fix it, or pass --waive {first.policy} "
            "to apply anyway for this run"
        )
    for confirmation in guard.confirmations:
        if not settings.confirm(confirmation):
            raise Guarded(unconfirmed(confirmation))
        say(confirmed_line(confirmation))


def unconfirmed(confirmation: Confirmation) -> str:
    why = "; ".join(confirmation.reasons)
    if confirmation.kind == SWITCH:
        return (
            f"{why}: that needs confirmation; nothing was changed: pass --confirm-env "
            f"{confirmation.target} (or run it on a terminal and type {confirmation.target})"
        )
    return (
        f"the plan is destructive ({why}): that needs confirmation; nothing was changed: "
        f"pass --yes (or run it on a terminal and type {confirmation.target})"
    )


def status(opened: Opened) -> Snapshot | Unknown:
    """What runs against what should; when the compose files or images make the desired
    state unreadable, what runs and why the rest is unknown. Read-only."""
    return status_of(opened.project, opened.source, opened.engine)


def apply(
    opened: Opened,
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
    source = Remembered(opened.source)  # the model it reads becomes the journal's
    with project_lock(opened.project.name, settings.lock_timeout):
        desired = read_desired(opened.project, source)  # under the lock: what is applied
        back = _rollback(opened, desired, settings, say)
        _finish_rollback(back, saved)
        first = snapshot(opened.engine, desired, saved.strategy if saved else strategy)
        guard_checkout(first.observed, opened.project.directory, settings)
        if saved is not None:
            first = checked(first, opened, saved)
        first = predicted(guarded(first, opened, settings.waived))
        say(plans.plan_text(first))
        enforce(first.guard, settings, say)
        if first.plan.is_empty:
            rollback.succeeded(first, source.model, say)
            report(Applied(first, first, (), time.monotonic() - started))
            return first
        if settings.command == "watch":  # the watch found drift: say so before repairing it
            drift_found(opened, first, settings, say)
        stopwatch = Stopwatch()
        result = _carry_out(opened, desired, first.plan, back, settings, say, stopwatch)
        final = snapshot(opened.engine, desired)
        if result.ok and final.plan.is_empty:
            rollback.succeeded(final, source.model, say)
        applied = Applied(first, final, result.outcomes, time.monotonic() - started, result.error)
        command = "apply" if saved else "restart" if strategy is Strategy.ALWAYS else None
        _receipt(opened, applied, stopwatch, settings, say, command or settings.command)
    report(applied)
    exited = _exited_since(first, final, opened, settings) if result.ok else ""
    _verify(result, final.plan, say, exited)
    say(plans.converged_line(final, time.monotonic() - started))
    return final


def guard_checkout(observed: ObservedState, checkout: Path, settings: ApplySettings) -> None:
    """Refuse to write to a project whose containers another checkout made, unless
    --take-over says so (reconciler/planner/ownership.py)."""
    made_in = other_checkout(observed, checkout)
    if made_in and not settings.take_over:
        raise OtherCheckout(
            f"{taken_over_message(observed.project, made_in, checkout)}; nothing was "
            "changed: give this checkout its own project name (--project-name NAME, or "
            "COMPOSE_PROJECT_NAME in .env), or pass --take-over to take it over on purpose"
        )


def _rollback(
    opened: Opened, desired: DesiredState, settings: ApplySettings, say: Say
) -> rollback.Rollback:
    """The apply's rollback: the same backend's engine for the saved model."""
    return rollback.Rollback(
        desired.project,
        opened.engine,
        opened.kit.engine,
        settings.rollback,
        settings.wait_timeout,
        settings.retrying,
        say,
        opened.project.compose_dir,
    )


def _finish_rollback(back: rollback.Rollback, saved: SavedPlan | None) -> None:
    """Finish what a killed run left rolling back; a saved plan was made before it, and
    finishing it would change what the plan was made from: refused then."""
    left = back.unfinished() if saved is not None and back.enabled else {}
    if left:
        from reconciler.store.saved_plans import StalePlan

        raise StalePlan(
            f"the saved plan cannot be applied: a killed run left a rollback of "
            f"{', '.join(sorted(left))} unfinished; nothing was changed: "
            "run `reconcile` to finish it, then make a new plan"
        )
    back.resume()


def _carry_out(
    opened: Opened,
    desired: DesiredState,
    plan: Plan,
    back: rollback.Rollback,
    settings: ApplySettings,
    say: Say,
    stopwatch: Stopwatch,
) -> ApplyResult:
    """Execute the plan on the backend's runner; roll back what never became ready.
    (On a swarm, Swarm rolls a failed update back itself: its gate names no service.)
    The stopwatch measures each service's unavailability (reconciler/execute/stopwatch.py)."""
    back.prepare(plan, opened.project.directory)
    engine_runner = opened.kit.runner(
        opened.engine, desired, wait=settings.wait, wait_timeout=settings.wait_timeout
    )
    engine_runner.on_ready = stopwatch.seen_ready
    runner = rollback.Watched(engine_runner)
    result = back.after(execute_plan(plan, Timed(runner, stopwatch), settings, say), runner, plan)
    stopwatch.back(
        sorted({o.action.service for o in result.outcomes if o.status is OutcomeStatus.ROLLED_BACK})
    )
    return result


def _receipt(
    opened: Opened,
    applied: Applied,
    stopwatch: Stopwatch,
    settings: ApplySettings,
    say: Say,
    command: str,
) -> None:
    """The apply's receipt in the project's history, then the notifier told its outcome."""
    document = receipts.applied_receipt(
        applied, opened.project.directory, stopwatch.measured(gated=settings.wait), command
    )
    receipts.keep(applied.first.desired.project, document, say)
    event = receipts.event_of(document["result"], settings.command == "watch")
    receipts.announce(receipts.notifier(settings.notify, opened.project), event, document, say)


def drift_found(opened: Opened, snap: Snapshot, settings: ApplySettings, say: Say) -> None:
    """`drift_found` for the notifier: the plan the watch is about to apply (or, with
    --plan-only, the one it shows)."""
    notifier = receipts.notifier(settings.notify, opened.project)
    receipts.announce(notifier, "drift_found", receipts.drift(snap, settings.command), say)


def checked(snap: Snapshot, opened: Opened, saved: SavedPlan) -> Snapshot:
    """`snap`, planned afresh, when its actions are exactly the saved plan's and nothing in
    the saved fingerprint changed; else StalePlan naming what differs (or ConfigError: a
    plan of another project). Terraform's rule for a saved plan."""
    # Here, not at the top: only a saved plan loads its schema (pydantic), not stop/down.
    from reconciler.reads.fingerprint import inputs
    from reconciler.store.saved_plans import check, fingerprint

    now = fingerprint(snap, inputs(opened.project), opened.kit.describe(os.environ))
    check(saved, now, snap.plan)
    return snap


def preview_saved(opened: Opened, saved: SavedPlan) -> Snapshot:
    """`apply FILE --plan`: the saved plan, checked for staleness. Changes nothing."""
    return checked(preview(opened, saved.strategy), opened, saved)


def restart(opened: Opened, settings: ApplySettings, say: Say) -> Snapshot:
    """Stop everything, then recreate everything: explicit STOP and RECREATE actions."""
    return apply(opened, settings, say, strategy=Strategy.ALWAYS)


def execute_plan(plan: Plan, runner: Runner, settings: ApplySettings, say: Say) -> ApplyResult:
    say("Applying:")
    return execute(
        plan,
        runner,
        retrying=settings.retrying,
        on_outcome=lambda outcome: say(plans.outcome_line(outcome)),
    )


def _exited_since(first: Snapshot, final: Snapshot, opened: Opened, settings: ApplySettings) -> str:
    """The gate's words for containers this apply brought up that exited by themselves
    after the gate saw them running (a process that ends at once can still read
    `running` on the gate's first look; Compose's --wait looks 0.5 s later): "" if none."""
    if not settings.wait:
        return ""
    from reconciler.execute.readiness import Explainer, failed

    gone = (ContainerStatus.EXITED, ContainerStatus.DEAD)  # not unhealthy: it may recover
    once = one_shots(final.desired)
    brought_up = {a.service for a in first.plan.actions if a.kind not in TEARDOWN}
    exited = {
        service: mine
        for service in sorted(brought_up & set(final.desired.services))
        if (mine := final.observed.of(service))
        and any(c.status in gone and failed(c, service in once) for c in mine)
    }
    if not exited:
        return ""
    return Explainer(opened.engine, final.desired, settings.wait_timeout).failure(exited, once)


def _verify(result: ApplyResult, remaining: Plan, say: Say, exited: str = "") -> None:
    if not remaining.is_empty:
        say("Still pending:\n" + "\n".join(plans.action_line(a) for a in remaining.actions))
    if not result.ok:
        raise ApplyFailed(result.error if result.rolled_back else f"apply failed: {result.error}")
    if exited:
        raise ApplyFailed(f"apply failed: {exited}")
    if not remaining.is_empty:
        raise DidNotConverge(
            f"did not converge: {plans.summary(remaining)} still pending; run `just up` again "
            "or see `reconcile status`"
        )
