"""The plan's vocabulary: actions, no-op reasons and the Plan value (plan stage).

Plain frozen data shared by the planner (reconciler/planner/plan.py) that makes them, the
executor that runs them, the renderers that show them and the saved-plan files that
store them. No logic beyond lookups; nothing here does I/O.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from state.engine import ContainerStatus
from state.stored import STRICT

if TYPE_CHECKING:
    from state.model.observed import ObservedContainer


class ActionKind(enum.StrEnum):
    """What one action does to one container (a StrEnum, so a typo cannot be an action)."""

    STOP = "stop"
    REMOVE = "remove"
    UNPAUSE = "unpause"  # before the rest: Compose refuses to `up` a service with a paused one
    RECREATE = "recreate"
    CREATE = "create"
    START = "start"
    RESTART = "restart"


TEARDOWN = frozenset({ActionKind.STOP, ActionKind.REMOVE})  # dependents first; rest: up
# Within a wave: in the enum's order (teardown, then the rest, as a reader expects).
KIND_ORDER = {kind: index for index, kind in enumerate(ActionKind)}
STOPPABLE = frozenset({ContainerStatus.RUNNING, ContainerStatus.PAUSED, ContainerStatus.RESTARTING})


class NoopReason(enum.StrEnum):
    """Why a wanted service needs nothing."""

    IN_SYNC = "in sync"
    SCALED_TO_ZERO = "scaled to 0"
    RESTARTING = "restarting (crash loop)"
    COMPLETED = "completed"  # a one-shot that exited 0 (reconciler/planner/plan.py)


@dataclass(frozen=True, kw_only=True)
class Action:
    """One explicit change to one container, with why."""

    __pydantic_config__ = STRICT  # read back by state/stored.py

    kind: ActionKind
    service: str
    number: int
    reasons: tuple[str, ...]
    container: str | None = None
    container_id: str | None = None
    renumbered: int | None = None  # a recreate's new number, when it cannot keep its own
    old_hash: str | None = None
    new_hash: str | None = None
    new_image: str | None = None  # the image id a created or recreated container runs
    start_first: bool = False  # a recreate that starts the new one before the old goes
    wave: int = 0

    @property
    def shown_kind(self) -> str:
        """`recreate (start-first)` for one that starts the new container first."""
        return f"{self.kind.value} (start-first)" if self.start_first else self.kind.value


@dataclass(frozen=True, kw_only=True)
class Noop:
    """A desired service that needs nothing, and why."""

    __pydantic_config__ = STRICT  # read back by state/stored.py

    service: str
    reason: NoopReason


@dataclass(frozen=True, kw_only=True)
class Plan:
    """The ordered actions (grouped in waves) and the no-ops."""

    __pydantic_config__ = STRICT  # read back by state/stored.py

    actions: tuple[Action, ...] = ()
    noops: tuple[Noop, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.actions

    def waves(self) -> list[tuple[Action, ...]]:
        grouped: dict[int, list[Action]] = {}
        for action in self.actions:
            grouped.setdefault(action.wave, []).append(action)
        return [tuple(grouped[n]) for n in sorted(grouped)]

    def count(self, kind: ActionKind) -> int:
        return sum(1 for a in self.actions if a.kind is kind)

    def for_container(self, container_id: str) -> Action | None:
        return self._by_container.get(container_id)

    @cached_property
    def _by_container(self) -> dict[str, Action]:
        """The first action of each container (renderers look one up per container)."""
        index: dict[str, Action] = {}
        for action in self.actions:
            if action.container_id:
                index.setdefault(action.container_id, action)
        return index


def action_on(
    kind: ActionKind,
    service: str,
    container: ObservedContainer,
    reasons: tuple[str, ...],
    **extra: Any,
) -> Action:
    """An action of `kind` on one observed container."""
    return Action(
        kind=kind,
        service=service,
        number=container.number,
        reasons=reasons,
        container=container.name,
        container_id=container.id,
        **extra,
    )
