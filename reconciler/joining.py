"""Which actions of later waves may join an earlier stage (apply stage).

The executor (reconciler/apply.py) runs a plan in stages: a wave, plus the actions of
later waves that need no health gate before them. An action joins when each of its
dependencies is done (an earlier stage, gated), untouched by the plan, or in the stage
itself and ready as soon as it runs (no healthcheck, condition service_started: the
gate would only wait to see it running). A stage is of one sort: creates and
recreates (one `compose up`, which orders its services by depends_on itself), or
starts (started wave by wave, without a gate between). Pure.
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.actions import Action, ActionKind
from state.desired import DesiredState

_UP = frozenset({ActionKind.CREATE, ActionKind.RECREATE})  # what one `compose up` does
_START = frozenset({ActionKind.START})


def joinable(
    desired: DesiredState,
    stage: Sequence[Action],
    group: Sequence[Action],
    held: Sequence[Action] = (),
) -> bool:
    """Whether `group` (one service's actions from a later wave) may join `stage`;
    `held`: actions of the waves in between that did not join (not done yet)."""
    services = desired.services
    joined = (*stage, *group)
    if any(a.service not in services for a in joined):
        return False
    kinds = {a.kind for a in joined}
    if not (kinds <= _UP or kinds <= _START):
        return False
    if ActionKind.RECREATE in kinds and not _forcing_is_harmless(desired, joined):
        return False
    waiting = {a.service for a in held}
    present = {a.service for a in stage}
    for action in group:
        for dependency in services[action.service].depends_on:
            if dependency.service in waiting:
                return False
            if dependency.service in present and (
                services[dependency.service].has_healthcheck
                or dependency.condition != "service_started"
            ):
                return False
    return True


def _forcing_is_harmless(desired: DesiredState, actions: Sequence[Action]) -> bool:
    """A recreate makes the call force recreation: a service only created must have no
    container yet (all its replicas are created); one recreated is forced already."""
    recreated = {a.service for a in actions if a.kind is ActionKind.RECREATE}
    created: dict[str, set[int]] = {}
    for action in actions:
        if action.kind is ActionKind.CREATE and action.service not in recreated:
            created.setdefault(action.service, set()).add(action.number)
    return all(
        numbers == set(range(1, desired.services[name].replicas + 1))
        for name, numbers in created.items()
    )
