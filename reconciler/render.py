"""Render: turn a Snapshot into text for people or versioned JSON for scripts.

The last stage of the pipeline. Nothing else prints; commands hand their results
here. JSON documents carry `schema_version`; bump it when a key changes meaning.
"""

from __future__ import annotations

import io
import json
from typing import Any

from rich.console import Console
from rich.table import Table

from reconciler.outcome import Outcome, OutcomeStatus
from reconciler.plan import Action, ActionKind, Noop, NoopReason, Plan
from reconciler.snapshot import Snapshot
from state.appenv import ResolvedAppEnv, Source

SCHEMA_VERSION = 2  # 2: the stop kind; no-op reasons are NoopReason values

_SYMBOL = {
    ActionKind.STOP: "x",
    ActionKind.CREATE: "+",
    ActionKind.RECREATE: "~",
    ActionKind.START: ">",
    ActionKind.RESTART: "@",
    ActionKind.REMOVE: "-",
}
_VERB = {
    ActionKind.STOP: "would stop",
    ActionKind.CREATE: "would create",
    ActionKind.RECREATE: "would recreate",
    ActionKind.START: "would start",
    ActionKind.RESTART: "would restart",
    ActionKind.REMOVE: "would remove",
}
_SUMMARY_KINDS = (
    ActionKind.CREATE,
    ActionKind.RECREATE,
    ActionKind.START,
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
    return (
        f"  {_SYMBOL[action.kind]} {action.kind.value:<9} {target:<32} {'; '.join(action.reasons)}"
    )


def plan_text(snap: Snapshot) -> str:
    lines = [header(snap)]
    if snap.plan.is_empty:
        lines.append(f"No changes. The stack matches APP_ENV={snap.desired.app_env.name}.")
        return "\n".join(lines)
    for number, wave in enumerate(snap.plan.waves(), start=1):
        lines.append(f"wave {number}:")
        lines += [action_line(action) for action in wave]
    unchanged = [n for n in snap.plan.noops if n.reason is NoopReason.IN_SYNC]
    noted = [n for n in snap.plan.noops if n.reason is not NoopReason.IN_SYNC]
    for noop in noted:
        lines.append(f"  = {'none':<9} {noop.service:<32} {noop_text(noop)}")
    if unchanged:
        lines.append(f"  in sync: {', '.join(n.service for n in unchanged)}")
    lines.append(f"Plan: {summary(snap.plan)}.")
    return "\n".join(lines)


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


def _envelope(command: str, snap: Snapshot) -> dict[str, Any]:
    """The keys every JSON document starts with."""
    return {
        "schema_version": SCHEMA_VERSION,
        "command": command,
        "project": snap.desired.project,
        "app_env": _app_env_json(snap.desired.app_env),
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
    }


def plan_json(snap: Snapshot) -> str:
    document = {
        **_envelope("plan", snap),
        "profiles": list(snap.desired.profiles),
        "converged": snap.plan.is_empty,
        "actions": [_action_json(a) for a in snap.plan.actions],
        "noops": [{"service": n.service, "reason": n.reason.value} for n in snap.plan.noops],
        "summary": {kind.value: snap.plan.count(kind) for kind in _SUMMARY_KINDS},
    }
    return json.dumps(document, indent=2)


def status_rows(snap: Snapshot) -> list[dict[str, Any]]:
    """One row per container of the project, plus one per missing container."""
    noops = {n.service: n for n in snap.plan.noops}
    rows = []
    for container in snap.observed.containers:
        action = snap.plan.for_container(container.id)
        if action is None:
            noop = noops.get(container.service)
            verdict = NoopReason.IN_SYNC.value
            reasons = [noop_text(noop)] if noop and noop.reason is not NoopReason.IN_SYNC else []
        else:
            verdict, reasons = _VERB[action.kind], list(action.reasons)
        rows.append(
            {
                "service": container.service,
                "container": container.name,
                "state": container.status.value,
                "health": container.health,
                "app_env": container.app_env,
                "verdict": verdict,
                "reasons": reasons,
            }
        )
    for action in snap.plan.actions:
        if action.kind is ActionKind.CREATE:
            rows.append(
                {
                    "service": action.service,
                    "container": None,
                    "state": "missing",
                    "health": None,
                    "app_env": None,
                    "verdict": "missing",
                    "reasons": list(action.reasons),
                }
            )
    rows.sort(key=lambda r: (r["service"], r["container"] or ""))
    return rows


def drift_note(snap: Snapshot) -> str | None:
    """Say so when what runs was made for another environment, and how to fix it."""
    running = snap.observed.running_environments
    wanted = snap.desired.app_env.name
    # Repeat APP_ENV in the advice only when it came from the command line: with .env
    # or the default, plain `just up` already means `wanted`.
    from_command_line = snap.desired.app_env.source is Source.COMMAND_LINE
    inline = f"APP_ENV={wanted} " if from_command_line else ""
    if not running:
        return f"Nothing is running. `{inline}just up` starts the stack."
    if running != {wanted}:
        shown = ", ".join(sorted(running))
        return (
            f"Running: {shown}; desired: {wanted}. "
            f"Apply with `{inline}just up` (or `{inline}just restart`)."
        )
    if not snap.plan.is_empty:
        return f"Out of sync: {summary(snap.plan)}. Apply with `just up`."
    return None


def status_text(snap: Snapshot) -> str:
    running = ", ".join(sorted(snap.observed.running_environments)) or "nothing"
    table = Table(box=None, pad_edge=False, show_edge=False)
    for column in ("SERVICE", "CONTAINER", "STATE", "HEALTH", "APP_ENV", "STATUS"):
        table.add_column(column, no_wrap=column != "STATUS")
    for row in status_rows(snap):
        verdict = row["verdict"] + (f" ({'; '.join(row['reasons'])})" if row["reasons"] else "")
        table.add_row(
            row["service"],
            row["container"] or "-",
            row["state"],
            row["health"] or "-",
            row["app_env"] or "-",
            verdict,
        )
    buffer = io.StringIO()
    Console(width=200, file=buffer, color_system=None).print(table)
    lines = [
        f"desired: {snap.desired.app_env} · project {snap.desired.project}",
        f"running: {running}",
        "\n".join(line.rstrip() for line in buffer.getvalue().rstrip().splitlines()),
    ]
    note = drift_note(snap)
    if note:
        lines.append(note)
    return "\n".join(lines)


def status_json(snap: Snapshot) -> str:
    document = {
        **_envelope("status", snap),
        "running_environments": sorted(snap.observed.running_environments),
        "in_sync": snap.plan.is_empty,
        "services": status_rows(snap),
        "note": drift_note(snap),
    }
    return json.dumps(document, indent=2)


_OUTCOME_MARK = {
    OutcomeStatus.DONE: "ok",
    OutcomeStatus.FAILED: "FAILED",
    OutcomeStatus.SKIPPED: "skipped",
}


def outcome_line(outcome: Outcome) -> str:
    """One line per action as the apply goes: action, service, outcome, seconds."""
    action = outcome.action
    target = action.container or action.service
    line = (
        f"  {_SYMBOL[action.kind]} {action.kind.value:<9} {target:<32} "
        f"{_OUTCOME_MARK[outcome.status]:<7} {outcome.seconds:5.1f} s"
    )
    if outcome.status is OutcomeStatus.SKIPPED:
        line += "  (upstream failed)"
    return line


def converged_line(snap: Snapshot, seconds: float) -> str:
    count = sum(1 for c in snap.observed.containers if c.running)
    return (
        f"Converged: APP_ENV={snap.desired.app_env.name} · {count} container(s) running "
        f"· {seconds:.1f} s. A second run changes nothing."
    )
