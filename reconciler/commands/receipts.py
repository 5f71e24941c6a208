"""Receipts: what one apply did, written to the project's history (apply stage, at its end).

Built from what the commands already hold (the plan, every Outcome, the Stopwatch's
measured unavailability, the predictions of reconciler/planner/downtime.py) and
appended by reconciler/store/history.py. Writing one never fails the apply: a history
that cannot be written is one warning line.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import socket
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from reconciler.execute.outcome import Applied, Outcome, OutcomeStatus
from reconciler.execute.stopwatch import Unavailable
from reconciler.notify import hook
from reconciler.planner.downtime import SAMPLES
from reconciler.planner.plan import ActionKind, Plan
from reconciler.planner.snapshot import Snapshot
from reconciler.store import history
from state.errors import ReconcilerError
from state.resolve.appenv import ResolvedAppEnv
from state.resolve.project import ComposeProject
from state.stored import as_json

CONVERGED = "converged"
FAILED = "failed"
ROLLED_BACK = "rolled back"
NOT_CONVERGED = "did not converge"


def digest(plan: Plan) -> str:
    """The plan's digest: the same actions give the same digest (`history show` and
    `--plan --format json` name it)."""
    text = json.dumps(as_json(plan), separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:16]


def result_of(outcomes: Sequence[Outcome], error: str | None, converged: bool) -> str:
    if any(o.status is OutcomeStatus.ROLLED_BACK for o in outcomes):
        return ROLLED_BACK
    if error:
        return FAILED
    return CONVERGED if converged else NOT_CONVERGED


def _who() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (a container's uid)
        return "?"


def receipt(
    *,
    command: str,
    project: str,
    directory: Path,
    app_env: ResolvedAppEnv | None,
    plan: Plan,
    outcomes: Sequence[Outcome],
    unavailable: Sequence[Unavailable],
    seconds: float,
    result: str,
    error: str | None,
    predicted: Mapping[str, tuple[float, str]] | None = None,
) -> dict[str, Any]:
    """One receipt as plain data (the history file's line, before masking)."""
    guesses = predicted or {}
    return {
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "user": _who(),
        "host": socket.gethostname(),
        "command": command,
        "project": project,
        "directory": str(directory),
        "app_env": None
        if app_env is None
        else {"name": app_env.name, "source": app_env.describe_source()},
        "plan_digest": digest(plan),
        "seconds": round(seconds, 3),
        "result": result,
        "error": error,
        "actions": [
            {
                "wave": o.action.wave,
                "kind": o.action.kind.value,
                "start_first": o.action.start_first,
                "service": o.action.service,
                "container": o.action.container or f"{o.action.service} #{o.action.number}",
                "reasons": list(o.action.reasons),
                "status": o.status.value,
                "seconds": round(o.seconds, 3),
                "error": o.error,
            }
            for o in outcomes
        ],
        "unavailable": [
            {
                "service": u.service,
                "seconds": round(u.seconds, 3),
                "until": u.until,
                "predicted": round(guesses[u.service][0], 1) if u.service in guesses else None,
                "predicted_from": guesses[u.service][1] if u.service in guesses else None,
            }
            for u in unavailable
        ],
    }


def applied_receipt(
    applied: Applied, directory: Path, unavailable: Sequence[Unavailable], command: str
) -> dict[str, Any]:
    """The receipt of an apply (reconcile, apply FILE, restart, a watch pass)."""
    first = applied.first
    return receipt(
        command=command,
        project=first.desired.project,
        directory=directory,
        app_env=first.desired.app_env,
        plan=first.plan,
        outcomes=applied.outcomes,
        unavailable=unavailable,
        seconds=applied.seconds,
        result=result_of(applied.outcomes, applied.error, applied.final.plan.is_empty),
        error=applied.error,
        predicted=first.downtime.per_service(first.plan) if first.downtime else None,
    )


def drift(snap: Snapshot, command: str) -> dict[str, Any]:
    """What `drift_found` tells: the plan about to be applied."""
    app_env = snap.desired.app_env
    return {
        "project": snap.desired.project,
        "command": command,
        "app_env": {"name": app_env.name, "source": app_env.describe_source()},
        "plan_digest": digest(snap.plan),
        "actions": [
            {"kind": a.kind.value, "service": a.service, "container": a.container}
            | {"reasons": list(a.reasons)}
            for a in snap.plan.actions
        ],
    }


LOOK_BACK = 200  # receipts read for the predictions, newest first


def measured(project: str, services: Collection[str] | None = None) -> dict[str, list[float]]:
    """Per service (of `services`; None: all), the seconds its recreates were measured
    unavailable (until ready), newest first: what reconciler/planner/downtime.py predicts
    from. Reads back at most LOOK_BACK receipts, fewer once each service has its
    samples. Unreadable: none."""
    found: dict[str, list[float]] = {}
    wanted = None if services is None else set(services)
    if wanted is not None and not wanted:
        return found
    try:
        for document in history.newest(project, LOOK_BACK):
            _samples(document, found)
            if wanted is not None and all(len(found.get(s, ())) >= SAMPLES for s in wanted):
                break
    except OSError:
        pass
    return found


def _samples(document: Mapping[str, Any], found: dict[str, list[float]]) -> None:
    recreated = {
        a.get("service")
        for a in document.get("actions") or ()
        if a.get("kind") == ActionKind.RECREATE.value
    }
    for item in document.get("unavailable") or ():
        service, seconds = item.get("service"), item.get("seconds")
        ready = item.get("until") == "ready" and service in recreated
        if ready and isinstance(seconds, (int, float)):
            found.setdefault(str(service), []).append(float(seconds))


def notifier(given: Sequence[str], project: ComposeProject | None) -> tuple[str, ...]:
    """The notifier: --notify, else the environment's `notify` in the table, else none."""
    if given:
        return tuple(given)
    environment = project.environment if project is not None else None
    return hook.command_of(environment.notify) if environment is not None else ()


def event_of(result: str, watching: bool) -> str:
    if result == ROLLED_BACK:
        return hook.ROLLED_BACK
    if result != CONVERGED:
        return hook.FAILED
    return hook.DRIFT_REPAIRED if watching else hook.APPLIED


def announce(
    command: Sequence[str], name: str, document: Mapping[str, Any], say: Callable[[str], None]
) -> None:
    """Tell the notifier (if any) about `document` (a receipt, or a plan for drift_found)."""
    if not command:
        return
    project = str(document.get("project", ""))
    details = {k: v for k, v in document.items() if k not in ("project", "host", "at")}
    hook.send(command, hook.event(name, project, details), say)


def keep(project: str, document: Mapping[str, Any], say: Callable[[str], None]) -> None:
    """Append the receipt; a history that cannot be written is a warning, never a failure."""
    try:
        history.append(project, document)
    except (OSError, ReconcilerError) as exc:
        say(f"warning: cannot write the history: {exc}")
