"""Render: the plan of `stop` or `down` as text, and what `down` did (render stage).

Their JSON lives with the other documents in render/plans.py.
"""

from __future__ import annotations

from reconciler.planner.plan import ActionKind
from reconciler.planner.snapshot import Teardown
from reconciler.render.guards import guard_lines
from reconciler.render.plans import wave_lines

# A teardown's unavailability is not a number of seconds: it lasts until someone acts.
TEARDOWN_DOWNTIME = {
    "stop": "Predicted unavailability: each service stopped stays down until it is "
    "started again (`reconcile`).",
    "down": "Predicted unavailability: each service removed stays down until the next "
    "`reconcile` recreates it.",
}


def teardown_text(teardown: Teardown) -> str:
    """The plan of `stop` or `down`: its containers by wave, then networks and volumes."""
    lines = [f"project {teardown.project} · {teardown.command}"]
    if teardown.plan.is_empty and teardown.command == "stop":
        return "\n".join([*lines, "Nothing to stop."])
    lines += wave_lines(teardown.plan)
    lines += [f"  - {'network':<9} {n:<32} down" for n in teardown.networks]
    lines += [
        f"  = {'network':<9} {n:<32} kept: one-off containers still use it"
        for n in teardown.kept_networks
    ]
    lines += [f"  - {'volume':<9} {v:<32} down --volumes: DESTROYS DATA" for v in teardown.volumes]
    lines += [
        f"  = {'volume':<9} {v:<32} kept (`down --volumes --yes` destroys it)"
        for v in teardown.kept_volumes
    ]
    if teardown.command == "stop":
        counts = [f"{teardown.plan.count(ActionKind.STOP)} to stop"]
    else:
        counts = [
            f"{teardown.plan.count(ActionKind.REMOVE)} to remove",
            f"{len(teardown.networks)} network(s)",
            f"{len(teardown.volumes)} volume(s)",
        ]
    lines.append(f"Plan: {', '.join(counts)}.")
    if not teardown.plan.is_empty:
        lines.append(TEARDOWN_DOWNTIME[teardown.command])
    return "\n".join([*lines, *guard_lines(teardown.guard)])


def teardown_done(teardown: Teardown) -> str:
    """What `down` did, and what it kept."""
    lines = [
        f"Removed {teardown.plan.count(ActionKind.REMOVE)} container(s) and "
        f"{len(teardown.networks)} network(s)."
    ]
    if teardown.volumes:
        lines.append(f"Removed volume(s): {', '.join(teardown.volumes)}")
    if teardown.kept_networks:
        lines.append(
            f"Kept network(s): {', '.join(teardown.kept_networks)} (one-off containers use them)"
        )
    if teardown.kept_volumes:
        lines.append(
            f"Kept volume(s): {', '.join(teardown.kept_volumes)} "
            "(`down --volumes --yes` destroys them)"
        )
    return "\n".join(lines)
