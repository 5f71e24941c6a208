"""The plans of `stop` and `down`, from the observed state alone (plan stage).

They need no desired state, so a broken compose file never blocks them: every running
container is stopped, or every container removed, dependents first
(reconciler/planner/ordering.py) by the containers' labels and, when the compose files
could be read, what they declare. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from reconciler.planner.actions import STOPPABLE, TEARDOWN, ActionKind, Plan, action_on
from reconciler.planner.ordering import order
from state.model.observed import ObservedState


def teardown_plan(
    observed: ObservedState,
    kind: ActionKind,
    reason: str,
    declared: Mapping[str, Iterable[str]] | None = None,
) -> Plan:
    """`stop` (STOP every running container) or `down` (REMOVE every container).
    `declared`: service -> the services it depends on, from the compose files."""
    assert kind in TEARDOWN, kind
    targets = [c for c in observed.containers if kind is ActionKind.REMOVE or c.status in STOPPABLE]
    actions = [action_on(kind, c.service, c, (reason,)) for c in targets]
    return Plan(actions=order(actions, None, observed, declared), noops=())
