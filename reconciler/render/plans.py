"""Render: turn plans and outcomes into text for people or versioned JSON for scripts.

The last stage of the pipeline (status has its own module, render/status.py, and
the text of stop and down render/teardown.py).
Nothing else prints; commands hand their results here. JSON documents carry
`schema_version`; bump it when a key changes meaning.
"""

from __future__ import annotations

import json
from typing import Any

from reconciler.execute.outcome import Applied, ApplyResult, Outcome, OutcomeStatus
from reconciler.planner.downtime import Prediction
from reconciler.planner.plan import Action, ActionKind, Noop, NoopReason, Plan
from reconciler.planner.snapshot import Snapshot, Teardown
from reconciler.render.guards import guard_json, guard_lines
from state.resolve.appenv import ResolvedAppEnv

# 2: the stop kind, NoopReason values; 3: "rolled back", status rollbacks; 4: the unpause
# kind; 5: "guards" (the guardrails' verdict) in plans and teardowns; 6: "downtime" (the
# predicted unavailability) per action and for the plan; 7: "start_first" per action (a
# recreate that starts the new container before it removes the old)
SCHEMA_VERSION = 7

_SYMBOL = {
    ActionKind.STOP: "x",
    ActionKind.CREATE: "+",
    ActionKind.RECREATE: "~",
    ActionKind.START: ">",
    ActionKind.UNPAUSE: ">",
    ActionKind.RESTART: "@",
    ActionKind.REMOVE: "-",
}
VERB = {
    ActionKind.STOP: "would stop",
    ActionKind.CREATE: "would create",
    ActionKind.RECREATE: "would recreate",
    ActionKind.START: "would start",
    ActionKind.UNPAUSE: "would unpause",
    ActionKind.RESTART: "would restart",
    ActionKind.REMOVE: "would remove",
}
_SUMMARY_KINDS = (
    ActionKind.CREATE,
    ActionKind.RECREATE,
    ActionKind.START,
    ActionKind.UNPAUSE,
    ActionKind.RESTART,
    ActionKind.STOP,
    ActionKind.REMOVE,
)


def header(snap: Snapshot) -> str:
    profiles = ", ".join(snap.desired.profiles) or "none"
    return f"{snap.desired.app_env} · project {snap.desired.project} · profiles: {profiles}"


def summary(plan: Plan) -> str:
    counts = [(kind, plan.count(kind)) for kind in _SUMMARY_KINDS]
    shown = [
        f"{n} to {kind.value}"
        for kind, n in counts
        if n or kind in (ActionKind.CREATE, ActionKind.RECREATE, ActionKind.REMOVE)
    ]
    return ", ".join(shown)


def action_line(action: Action) -> str:
    target = (
        action.service if action.kind is ActionKind.CREATE else action.container or action.service
    )
    if action.kind is ActionKind.CREATE and action.number != 1:
        target = f"{action.service} #{action.number}"
    reasons = "; ".join(action.reasons)
    if action.renumbered is not None:  # one replica of several: Compose numbers it anew
        reasons += f" (its replacement is #{action.renumbered})"
    return f"  {_SYMBOL[action.kind]} {action.shown_kind:<9} {target:<32} {reasons}"


def plan_text(snap: Snapshot) -> str:
    lines = [header(snap)]
    if snap.plan.is_empty:
        lines.append(f"No changes. The stack matches {snap.desired.app_env.target()}.")
        return "\n".join([*lines, *guard_lines(snap.guard)])
    lines += wave_lines(snap.plan, snap.downtime)
    unchanged = [n for n in snap.plan.noops if n.reason is NoopReason.IN_SYNC]
    noted = [n for n in snap.plan.noops if n.reason is not NoopReason.IN_SYNC]
    for noop in noted:
        lines.append(f"  = {'none':<9} {noop.service:<32} {noop_text(noop)}")
    if unchanged:
        lines.append(f"  in sync: {', '.join(n.service for n in unchanged)}")
    lines.append(f"Plan: {summary(snap.plan)}.")
    if snap.downtime is not None and snap.downtime.actions:
        lines.append(downtime_line(snap.plan, snap.downtime))
    return "\n".join([*lines, *guard_lines(snap.guard)])


def downtime_line(plan: Plan, downtime: Prediction) -> str:
    """The plan's predicted unavailability: the sum, and the longest service."""
    per_service = downtime.per_service(plan)
    worst = max(per_service, key=lambda s: per_service[s][0])
    return (
        f"Predicted unavailability: ~{_seconds(downtime.total)} s in total (summed over "
        f"services); longest {worst} ~{_seconds(per_service[worst][0])} s."
    )


def _seconds(value: float) -> str:
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}".rstrip("0").rstrip(".")


def wave_lines(plan: Plan, downtime: Prediction | None = None) -> list[str]:
    lines = []
    guesses = downtime.actions if downtime is not None else {}
    index = {id(a): n for n, a in enumerate(plan.actions)}
    for number, wave in enumerate(plan.waves(), start=1):
        down = downtime.waves[number - 1] if downtime is not None and guesses else 0.0
        lines.append(f"wave {number}:" + (f" (down ~{_seconds(down)} s)" if down else ""))
        for action in wave:
            guess = guesses.get(index[id(action)])
            suffix = f"   down ~{_seconds(guess.seconds)} s {guess.source}" if guess else ""
            lines.append(action_line(action) + suffix)
    return lines


def teardown_json(teardown: Teardown) -> str:
    document = {
        "schema_version": SCHEMA_VERSION,
        "command": teardown.command,
        "project": teardown.project,
        "converged": teardown.is_empty,
        "actions": [_action_json(a) for a in teardown.plan.actions],
        "networks": {"remove": list(teardown.networks), "keep": list(teardown.kept_networks)},
        "volumes": {"remove": list(teardown.volumes), "keep": list(teardown.kept_volumes)},
        "guards": guard_json(teardown.guard),
    }
    return json.dumps(document, indent=2)


def noop_text(noop: Noop) -> str:
    if noop.reason is NoopReason.RESTARTING:
        return f"{noop.reason.value}: see `reconcile logs {noop.service}`"
    return noop.reason.value


def _app_env_json(resolved: ResolvedAppEnv) -> dict[str, Any]:
    return {
        "name": resolved.name,
        "source": resolved.source.value,
        "path": str(resolved.path) if resolved.path else None,
        "line": resolved.line,
        "description": resolved.describe_source(),
    }


def envelope(command: str, project: str, app_env: ResolvedAppEnv) -> dict[str, Any]:
    """The keys every JSON document about an environment starts with."""
    return {
        "schema_version": SCHEMA_VERSION,
        "command": command,
        "project": project,
        "app_env": _app_env_json(app_env),
    }


def _action_json(action: Action) -> dict[str, Any]:
    return {
        "wave": action.wave,
        "kind": action.kind.value,
        "service": action.service,
        "number": action.number,
        "container": action.container,
        "container_id": action.container_id,
        "reasons": list(action.reasons),
        "old_hash": action.old_hash,
        "new_hash": action.new_hash,
        "start_first": action.start_first,
    }


def _downtime_json(snap: Snapshot) -> dict[str, Any] | None:
    downtime = snap.downtime
    if downtime is None:
        return None
    return {
        "total_seconds": round(downtime.total, 1),
        "waves_seconds": [round(w, 1) for w in downtime.waves],
        "services": {
            s: {"seconds": round(v, 1), "from": src}
            for s, (v, src) in sorted(downtime.per_service(snap.plan).items())
        },
    }


def plan_json(snap: Snapshot, command: str = "plan") -> str:
    guesses = snap.downtime.actions if snap.downtime is not None else {}

    def action(index: int, a: Action) -> dict[str, Any]:
        guess = guesses.get(index)
        found = {"seconds": round(guess.seconds, 1), "from": guess.source} if guess else None
        return {**_action_json(a), "downtime": found}

    document = {
        **envelope(command, snap.desired.project, snap.desired.app_env),
        "profiles": list(snap.desired.profiles),
        "converged": snap.plan.is_empty,
        "actions": [action(n, a) for n, a in enumerate(snap.plan.actions)],
        "noops": [{"service": n.service, "reason": n.reason.value} for n in snap.plan.noops],
        "summary": {kind.value: snap.plan.count(kind) for kind in _SUMMARY_KINDS},
        "guards": guard_json(snap.guard),
        "downtime": _downtime_json(snap),
    }
    return json.dumps(document, indent=2)


def applied_json(applied: Applied, command: str, exit_code: int, error: str | None) -> str:
    """`reconcile --format json` (apply, restart): one document after the apply, failed
    or not: every action's outcome and seconds, the fresh plan's emptiness, the exit code."""
    desired = applied.final.desired
    document = {
        **envelope(command, desired.project, desired.app_env),
        "profiles": list(desired.profiles),
        "exit_code": exit_code,
        "error": error,
        "seconds": round(applied.seconds, 3),
        "converged": applied.final.plan.is_empty,
        **_outcomes_json(applied.outcomes),
        "remaining": [_action_json(a) for a in applied.final.plan.actions],
    }
    return json.dumps(document, indent=2)


def _outcomes_json(outcomes: tuple[Outcome, ...]) -> dict[str, Any]:
    return {
        "outcomes": [
            {
                **_action_json(o.action),
                "status": o.status.value,
                "seconds": round(o.seconds, 3),
                "error": o.error,
            }
            for o in outcomes
        ],
        "summary": {
            status.value: sum(1 for o in outcomes if o.status is status) for status in OutcomeStatus
        },
    }


def torn_down_json(
    teardown: Teardown, result: ApplyResult, seconds: float, exit_code: int, error: str | None
) -> str:
    """`stop` or `down` with `--format json`: what it did (needs only the project's name,
    so no app_env), every container's outcome, and the networks and volumes."""
    document = {
        "schema_version": SCHEMA_VERSION,
        "command": teardown.command,
        "project": teardown.project,
        "exit_code": exit_code,
        "error": error,
        "seconds": round(seconds, 3),
        **_outcomes_json(result.outcomes),
        "networks": {"removed": list(teardown.networks), "kept": list(teardown.kept_networks)},
        "volumes": {"removed": list(teardown.volumes), "kept": list(teardown.kept_volumes)},
    }
    return json.dumps(document, indent=2)


_OUTCOME_MARK = {
    OutcomeStatus.DONE: "ok",
    OutcomeStatus.FAILED: "FAILED",
    OutcomeStatus.SKIPPED: "skipped",
    OutcomeStatus.ROLLED_BACK: "rolled back",
}


def outcome_line(outcome: Outcome) -> str:
    """One line per action as the apply goes: action, service, outcome, seconds."""
    action = outcome.action
    target = action.container or action.service
    line = (
        f"  {_SYMBOL[action.kind]} {action.shown_kind:<9} {target:<32} "
        f"{_OUTCOME_MARK[outcome.status]:<7} {outcome.seconds:5.1f} s"
    )
    if outcome.status is OutcomeStatus.SKIPPED:
        line += "  (upstream failed)"
    return line


def _target(snap: Snapshot) -> str:
    app_env = snap.desired.app_env
    return f"{app_env.target()} · " if app_env.has_table else ""


def converged_line(snap: Snapshot, seconds: float) -> str:
    count = sum(1 for c in snap.observed.containers if c.running)
    return (
        f"Converged: {_target(snap)}{count} container(s) running "
        f"· {seconds:.1f} s. A second run changes nothing."
    )
