"""Receipts: what one apply did, written to the project's history (apply stage, at its end).

Built from what the commands already hold (the plan, every Outcome, the Stopwatch's
measured unavailability, the predictions of reconciler/planner/downtime.py) and
appended by reconciler/store/history.py. Writing one never fails the apply: a history
that cannot be written is one warning line.
"""

from __future__ import annotations

import getpass
import hashlib
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from reconciler.execute.outcome import Outcome, OutcomeStatus
from reconciler.execute.stopwatch import Unavailable
from reconciler.planner.plan import Plan
from reconciler.store import history
from state.errors import ReconcilerError
from state.resolve.appenv import ResolvedAppEnv

CONVERGED = "converged"
FAILED = "failed"
ROLLED_BACK = "rolled back"
NOT_CONVERGED = "did not converge"


def digest(plan: Plan) -> str:
    """The plan's digest: the same actions give the same digest (`history show` and
    `--plan --format json` name it)."""
    return "sha256:" + hashlib.sha256(plan.model_dump_json().encode()).hexdigest()[:16]


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


def keep(project: str, document: Mapping[str, Any], say: Callable[[str], None]) -> None:
    """Append the receipt; a history that cannot be written is a warning, never a failure."""
    try:
        history.append(project, document)
    except (OSError, ReconcilerError) as exc:
        say(f"warning: cannot write the history: {exc}")
