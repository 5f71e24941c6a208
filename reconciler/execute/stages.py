"""Which actions of later waves may join an earlier stage (apply stage).

The executor (reconciler/execute/executor.py) runs a plan in stages: a wave, plus the actions of
later waves that need no health gate before them. A service's actions join when each
of its dependencies is done (an earlier stage, gated), untouched by the plan, or in
the stage itself and ready as soon as it runs (no healthcheck, condition
service_started: the gate would only wait to see it running); never when a
dependency was held back, nor a start-first recreate (the runner does those one by
one, before the rest of its stage). A stage is of one sort: creates and recreates (one
`compose up`, which orders its services by depends_on itself), or starts (started in
order, reconciler/execute/start_flow.py). A stage that `waits_within` (the gate is on)
also admits what waits for a healthy or completed dependency in it, as Compose does,
where the stage's own call honours that condition: creates that make every container
of their service (Compose's `up` waits for the condition before it starts the
dependent), and starts (the start flow waits for it). Pure; each question costs the
size of the group asked about, so forming the stages of a plan grows linearly with it.
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.planner.actions import Action, ActionKind
from state.model.desired import Dependency, DesiredState

STARTED = "service_started"  # the condition Compose meets as soon as the dependency runs

_UP = frozenset({ActionKind.CREATE, ActionKind.RECREATE})  # what one `compose up` does
_START = frozenset({ActionKind.START})


class Stage:
    """A stage being formed from its first wave: what the join rule needs of it."""

    def __init__(
        self, desired: DesiredState, wave: Sequence[Action], *, waits_within: bool = False
    ) -> None:
        self.desired = desired
        self.waits_within = waits_within
        self.actions: list[Action] = []
        self.services: set[str] = set()
        self.kinds: set[ActionKind] = set()
        self.held: set[str] = set()  # services of the waves in between that stay behind
        self.not_fresh: set[str] = set()  # only created, beside containers they have
        for group in by_service(wave):
            self.add(group)

    def admits(self, group: Sequence[Action]) -> bool:
        """Whether one service's actions (`group`, from a later wave) may join."""
        services = self.desired.services
        name = group[0].service
        if name not in services:
            return False
        kinds = self.kinds | {a.kind for a in group}
        if not (kinds <= _UP or kinds <= _START):
            return False
        if any(a.start_first for a in group):  # done one by one, before the stage's `up`
            return False
        # A recreate makes the one `compose up` force recreation: harmless for what it
        # recreates anyway and for services without a container yet, not otherwise.
        if ActionKind.RECREATE in kinds and (self.not_fresh or not self._fresh(group)):
            return False
        for dependency in services[name].depends_on:
            if dependency.service in self.held:
                return False
            if (
                dependency.service in self.services
                and gated(self.desired, dependency)
                and not self._honours(dependency, kinds, group)
            ):
                return False
        return True

    def _honours(
        self, dependency: Dependency, kinds: set[ActionKind], group: Sequence[Action]
    ) -> bool:
        """Whether the stage's own call waits for `dependency` as the gate would: its
        condition (healthy, completed) is one Compose waits for, and the stage starts
        (the start flow) or creates whole services only (one `compose up`)."""
        if not self.waits_within or dependency.condition == STARTED:
            return False
        if kinds <= _START:
            return True
        return kinds == {ActionKind.CREATE} and not self.not_fresh and self._fresh(group)

    def add(self, group: Sequence[Action]) -> None:
        self.actions += group
        self.services.update(a.service for a in group)
        self.kinds.update(a.kind for a in group)
        if not self._fresh(group):
            self.not_fresh.add(group[0].service)

    def hold(self, actions: Sequence[Action]) -> None:
        self.held.update(a.service for a in actions)

    def _fresh(self, group: Sequence[Action]) -> bool:
        """Every replica of the service recreated or created: a forced `up` touches
        nothing the plan keeps."""
        return bool(whole_services(self.desired, group))


def gated(desired: DesiredState, dependency: Dependency) -> bool:
    """Whether the health gate waits for `dependency` beyond seeing it run: it has a
    healthcheck, or its condition is not service_started (healthy, completed)."""
    spec = desired.services[dependency.service]
    return spec.has_healthcheck or dependency.condition != "service_started"


def fresh_creates(desired: DesiredState, actions: Sequence[Action]) -> list[str]:
    """The services whose actions create all their containers (they have none yet)."""
    created: dict[str, set[int]] = {}
    for action in actions:
        if action.kind is ActionKind.CREATE and action.service in desired.services:
            created.setdefault(action.service, set()).add(action.number)
    return [
        name
        for name, numbers in created.items()
        if numbers == set(range(1, desired.services[name].replicas + 1))
    ]


def whole_services(desired: DesiredState, actions: Sequence[Action]) -> list[str]:
    """The services whose actions here recreate or create every replica, none kept as it
    is: `up --force-recreate` of them does exactly what the plan says. The planner marks
    the recreates of a service that keeps some containers (`renumbered`): those are done
    container by container."""
    recreated = {a.service for a in actions if a.kind is ActionKind.RECREATE}
    partial = {a.service for a in actions if a.renumbered is not None}
    return sorted((recreated - partial) | set(fresh_creates(desired, actions)))


def by_wave(actions: Sequence[Action]) -> list[list[Action]]:
    """The actions grouped by wave, in wave order (a stage spanning waves, taken apart)."""
    return [[a for a in actions if a.wave == n] for n in sorted({a.wave for a in actions})]


def by_service(actions: Sequence[Action]) -> list[list[Action]]:
    """The actions grouped by service, in the order the services first appear."""
    groups: dict[str, list[Action]] = {}
    for action in actions:
        groups.setdefault(action.service, []).append(action)
    return list(groups.values())
