"""Render the guardrails' verdict (render stage): lines under a plan, and its JSON.

The engine (and whether the table calls it a production engine), a refusal, what
needs a confirmation and how to give it, and each policy finding: `blocked by policy
NAME: SERVICE ...`, or waived for this run. Nothing when the verdict is empty.
"""

from __future__ import annotations

from typing import Any

from reconciler.planner.guards import SWITCH, Confirmation, Guard, matching
from state.engine import EngineIdentity
from state.resolve.table import EnvironmentTable


def guard_lines(guard: Guard | None) -> list[str]:
    if guard is None:
        return []
    lines: list[str] = []
    if guard.engine is not None:
        where = f"engine {guard.engine}"
        if guard.engines:
            kind = "production engine" if guard.production else "engine"
            where += f": the table's {kind} {', '.join(guard.engines)}"
        lines.append(f"Guards: {where}")
    if guard.refusal:
        lines.append(f"  refused: {guard.refusal}")
    for confirmation in guard.confirmations:
        how = f"--confirm-env {confirmation.target}" if confirmation.kind == SWITCH else "--yes"
        lines.append(f"  needs confirmation ({how}):")
        lines += [f"    {reason}" for reason in confirmation.reasons]
    lines += [f"  {violation}" for violation in guard.violations]
    return lines


def confirmed_line(confirmation: Confirmation) -> str:
    """Said on apply once a confirmation was given (a flag, or the name typed)."""
    if confirmation.kind == SWITCH:
        return f"Confirmed: switching to {confirmation.target} on this engine"
    return f"Confirmed: the destructive actions above ({'; '.join(confirmation.reasons)})"


def pin_lines(table: EnvironmentTable, environment: str, identity: EngineIdentity) -> list[str]:
    """For `status`: this engine as the table sees it, and where the environment may run."""
    found = matching(table, identity)
    if found:
        described = [
            f"{name} (production: allows {', '.join(spec.allow)})" if spec.production else name
            for name, spec in found
        ]
        lines = [f"Engine: {identity}, the table's {'; '.join(described)}"]
    else:
        lines = [f"Engine: {identity}, not one the table names"]
    pinned = table[environment].engines if environment in table.environments else ()
    if pinned:
        lines.append(f"APP_ENV={environment} runs only on engine {' or '.join(pinned)}")
    return lines


def guard_json(guard: Guard | None) -> dict[str, Any] | None:
    if guard is None:
        return None
    engine = guard.engine
    return {
        "engine": None
        if engine is None
        else {
            "endpoint": engine.endpoint,
            "context": engine.context,
            "daemon_id": engine.daemon_id,
            "daemon_name": engine.daemon_name,
        },
        "engines": list(guard.engines),
        "production": guard.production,
        "refused": guard.refusal,
        "confirmations": [
            {"kind": c.kind, "target": c.target, "reasons": list(c.reasons)}
            for c in guard.confirmations
        ],
        "policies": [
            {
                "policy": v.policy,
                "rule": v.rule,
                "service": v.service,
                "detail": v.detail,
                "waived": v.waived,
            }
            for v in guard.violations
        ],
        "blocked": bool(guard.refusal or guard.blocking),
    }
