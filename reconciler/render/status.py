"""Render status: what runs, in which environment, against what should (render stage).

A table for people or versioned JSON for scripts. When the desired state cannot be
read (broken compose files, images gone), status still shows what runs and says
what it cannot know.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.planner.plan import ActionKind, NoopReason
from reconciler.planner.snapshot import Snapshot, Unknown
from reconciler.render.columns import aligned
from reconciler.render.plans import VERB, envelope, noop_text, summary
from reconciler.store.journal import ROLLED_BACK, ROLLING_BACK, Record
from state.engine import ContainerStatus
from state.model.observed import ObservedContainer, ObservedState
from state.resolve.appenv import ResolvedAppEnv, Source


def _row(container: ObservedContainer, verdict: str, reasons: list[str]) -> dict[str, Any]:
    return {
        "service": container.service,
        "container": container.name,
        "state": container.status.value,
        "health": container.health,
        "app_env": container.app_env,
        "verdict": verdict,
        "reasons": reasons,
    }


def status_rows(snap: Snapshot | Unknown) -> list[dict[str, Any]]:
    """One row per container of the project, plus one per missing container."""
    if isinstance(snap, Unknown):
        return [_row(c, "unknown", []) for c in snap.observed.containers]
    noops = {n.service: n for n in snap.plan.noops}
    rows = []
    for container in snap.observed.containers:
        action = snap.plan.for_container(container.id)
        noop = noops.get(container.service)
        done = container.status is ContainerStatus.EXITED  # a one-shot's other replicas may run
        if action is None and done and noop and noop.reason is NoopReason.COMPLETED:
            verdict, reasons = noop.reason.value, [f"exited with code {container.exit_code}"]
        elif action is None:
            verdict = NoopReason.IN_SYNC.value
            reasons = [noop_text(noop)] if noop and noop.reason is not NoopReason.IN_SYNC else []
        else:
            verdict, reasons = VERB[action.kind], list(action.reasons)
        rows.append(_row(container, verdict, reasons))
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


UNKNOWN = "?"  # a running container without APP_ENV (state/model/observed.py)


def command(verb: str, recipes: bool) -> str:
    """How to run `verb` here: this project's `just` recipe, else `reconcile` itself."""
    if recipes:
        return f"just {verb}"
    return "reconcile" if verb == "up" else f"reconcile {verb}"


def drift_note(snap: Snapshot | Unknown, recipes: bool = True) -> str | None:
    """Say so when what runs was made for another environment, and how to fix it
    (`recipes`: the project has the just recipes, up, stop, down, restart)."""
    up, restart = command("up", recipes), command("restart", recipes)
    if isinstance(snap, Unknown):
        return (
            f"Cannot tell what should run: {snap.problem}. "
            f"`{command('stop', recipes)}` and `{command('down', recipes)}` work without it."
        )
    running = snap.observed.running_environments
    wanted = snap.desired.app_env.name
    if not snap.desired.app_env.has_table:  # no APP_ENV to compare: only the plan
        if not running:
            return f"Nothing is running. `{up}` starts the stack."
        if not snap.plan.is_empty:
            return f"Out of sync: {summary(snap.plan)}. Apply with `{up}`."
        return None
    # Repeat APP_ENV in the advice only when it came from the command line: with .env
    # or the default, plain `just up` already means `wanted`.
    from_command_line = snap.desired.app_env.source is Source.COMMAND_LINE
    inline = f"APP_ENV={wanted} " if from_command_line else ""
    known = running - {UNKNOWN}  # containers that do not carry APP_ENV say nothing of it
    if not running:
        return f"Nothing is running. `{inline}{up}` starts the stack."
    if known and running != {wanted}:
        shown = ", ".join(sorted(running))
        return (
            f"Running: {shown}; desired: {wanted}. "
            f"Apply with `{inline}{up}` (or `{inline}{restart}`)."
        )
    if not snap.plan.is_empty:
        return f"Out of sync: {summary(snap.plan)}. Apply with `{up}`."
    return None


def _facts(snap: Snapshot | Unknown) -> tuple[str, ResolvedAppEnv, ObservedState]:
    if isinstance(snap, Unknown):
        return snap.project, snap.app_env, snap.observed
    return snap.desired.project, snap.desired.app_env, snap.observed


def rollback_lines(rollbacks: Mapping[str, Record]) -> list[str]:
    """The rollbacks since the last successful apply (reconciler/store/journal.py), one a line."""
    lines = []
    for record in sorted(rollbacks.values(), key=lambda r: r.service):
        if record.state == ROLLED_BACK:
            lines.append(
                f"Rolled back: {record.service} at {record.at} ({record.reason}); it runs its "
                "previous configuration until an apply succeeds."
            )
        elif record.state == ROLLING_BACK:
            lines.append(
                f"Rollback interrupted: {record.service} at {record.at} ({record.reason}); "
                "the next apply finishes it first."
            )
        else:
            lines.append(f"Rollback failed: {record.service} at {record.at} ({record.reason}).")
    return lines


def status_text(
    snap: Snapshot | Unknown, rollbacks: Mapping[str, Record] | None = None, recipes: bool = True
) -> str:
    project, app_env, observed = _facts(snap)
    unknown = " (unknown)" if isinstance(snap, Unknown) else ""
    running = ", ".join(sorted(observed.running_environments)) or "nothing"
    if not app_env.has_table or observed.running_environments == {UNKNOWN}:  # how many run
        count = sum(1 for c in observed.containers if c.running)
        running = f"{count} container(s)" if count else "nothing"
    rows: list[tuple[str, ...]] = [
        (
            row["service"],
            row["container"] or "-",
            row["state"],
            row["health"] or "-",
            row["app_env"] or "-",
            row["verdict"] + (f" ({'; '.join(row['reasons'])})" if row["reasons"] else ""),
        )
        for row in status_rows(snap)
    ]
    lines = [
        f"desired: {app_env}{unknown} · project {project}",
        f"running: {running}",
        aligned(_HEADER, rows, _WIDTH) or _rich_table(rows),
    ]
    note = drift_note(snap, recipes)
    if note:
        lines.append(note)
    lines += rollback_lines(rollbacks or {})
    return "\n".join(lines)


_HEADER = ("SERVICE", "CONTAINER", "STATE", "HEALTH", "APP_ENV", "STATUS")
_WIDTH = 200


def _rich_table(rows: Sequence[Sequence[str]]) -> str:
    """The table through rich: only when plain columns would differ (render/columns.py)."""
    # rich costs ~0.2 s to import and lay out: only a table it must draw pays it.
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, pad_edge=False, show_edge=False)
    for column in _HEADER:
        table.add_column(column, no_wrap=column != "STATUS")
    for row in rows:
        table.add_row(*row)
    buffer = io.StringIO()
    Console(width=_WIDTH, file=buffer, color_system=None).print(table)
    return "\n".join(line.rstrip() for line in buffer.getvalue().rstrip().splitlines())


def status_json(
    snap: Snapshot | Unknown, rollbacks: Mapping[str, Record] | None = None, recipes: bool = True
) -> str:
    project, app_env, observed = _facts(snap)
    document = {
        **envelope("status", project, app_env),
        "running_environments": sorted(observed.running_environments),
        "in_sync": None if isinstance(snap, Unknown) else snap.plan.is_empty,
        "services": status_rows(snap),
        "note": drift_note(snap, recipes),
        "rollbacks": [
            {"service": r.service, "state": r.state, "reason": r.reason, "at": r.at}
            for r in sorted((rollbacks or {}).values(), key=lambda r: r.service)
        ],
    }
    return json.dumps(document, indent=2)
