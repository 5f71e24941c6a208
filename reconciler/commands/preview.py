"""`--plan`: what apply (or restart) would do, its guardrails' verdict and the downtime
it predicts (plan stage, read-only).

Apart from reconciler/commands/converge.py, which applies, so a plan imports none of
the apply path (the executor, the runners, the lock, the rollback).
"""

from __future__ import annotations

import dataclasses

from reconciler.commands import receipts
from reconciler.execute.retry import retried
from reconciler.planner import downtime
from reconciler.planner.guards import evaluate
from reconciler.planner.plan import ActionKind, Strategy
from reconciler.planner.snapshot import Snapshot
from reconciler.reads.opened import Opened
from reconciler.reads.pipeline import snapshot_of


def preview(opened: Opened, strategy: Strategy, waived: frozenset[str] = frozenset()) -> Snapshot:
    """`--plan`: what apply (or restart) would do, and what its guardrails say. Changes
    nothing."""
    snap = snapshot_of(opened.project, opened.source, opened.engine, strategy)
    return predicted(guarded(snap, opened, waived))


def predicted(snap: Snapshot) -> Snapshot:
    """`snap` with each action's predicted unavailability, from the project's history or
    the services' configuration (reconciler/planner/downtime.py)."""
    recreated = {a.service for a in snap.plan.actions if a.kind is ActionKind.RECREATE}
    samples = receipts.measured(snap.desired.project, recreated)
    return dataclasses.replace(snap, downtime=downtime.predict(snap.desired, snap.plan, samples))


def guarded(
    snap: Snapshot, opened: Opened, waived: frozenset[str], volumes: tuple[str, ...] = ()
) -> Snapshot:
    """`snap` with the guardrails' verdict (reconciler/planner/guards.py); the engine is
    asked who it is only when the table names engines."""
    table = opened.project.table
    if table is None:  # no environment table: no guardrail is declared
        return snap
    identity = retried(opened.engine.identity) if table.engines else None
    verdict = evaluate(
        table,
        opened.project.app_env.name,
        identity,
        snap.desired,
        snap.observed,
        snap.plan,
        waived=waived,
        volumes_removed=volumes,
    )
    return dataclasses.replace(snap, guard=verdict)
