"""Plan: DesiredState x ObservedState -> an ordered Plan of explicit actions.

Pure, total and deterministic: no side effects, no I/O, nothing imported that does
any. Every desired service gets either actions or a no-op reason; an empty plan
means the stack has converged.

Per container, an ordered decision ladder (first match wins):
  dead -> recreate; no config-hash label -> recreate ("not created by Compose");
  APP_ENV, config hash or image differ, or a name left by an interrupted recreate ->
  recreate, saying what differs;
  paused/exited/created -> start; restarting -> none (reported); running -> none.
Per service: the lowest-numbered containers up to the scale are kept, one per
number, and the rest removed (highest first); missing ones are created with the
numbers Compose will give them: after the highest kept number, never into a gap.
Containers of services that are not wanted are removed, with why.
A dependent whose depends_on entry says `restart: true` is restarted when what it
depends on is (re)created.

Order: removals first, dependents before what they depend on; then creates,
recreates, starts and restarts, dependencies first. Actions of one wave are
independent of each other and may run together.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping

from pydantic import BaseModel, ConfigDict

from state.desired import DesiredService, DesiredState
from state.engine import ContainerStatus
from state.observed import ObservedContainer, ObservedState


class Strategy(enum.StrEnum):
    """When to recreate a container (Compose v1's ConvergenceStrategy)."""

    CHANGED = "changed"  # only what differs: `reconcile`
    ALWAYS = "always"  # every wanted container: `reconcile restart`


class ActionKind(enum.StrEnum):
    """What one action does to one container (a StrEnum, so a typo cannot be an action)."""

    CREATE = "create"
    START = "start"
    RESTART = "restart"
    RECREATE = "recreate"
    REMOVE = "remove"


# Within a wave: removals, then the rest (the order a reader expects).
_KIND_ORDER = {
    kind: index
    for index, kind in enumerate(
        [
            ActionKind.REMOVE,
            ActionKind.RECREATE,
            ActionKind.CREATE,
            ActionKind.START,
            ActionKind.RESTART,
        ]
    )
}
_BRING_UP = frozenset(
    {ActionKind.CREATE, ActionKind.RECREATE, ActionKind.START, ActionKind.RESTART}
)


class Action(BaseModel):
    """One explicit change to one container, with why."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: ActionKind
    service: str
    number: int
    reasons: tuple[str, ...]
    container: str | None = None
    container_id: str | None = None
    from_status: ContainerStatus | None = None
    in_compose_files: bool = True
    old_hash: str | None = None
    new_hash: str | None = None
    wave: int = 0


class Noop(BaseModel):
    """A desired service that needs nothing, and why."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    service: str
    reason: str


class Plan(BaseModel):
    """The ordered actions (grouped in waves) and the no-ops."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    actions: tuple[Action, ...] = ()
    noops: tuple[Noop, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.actions

    def waves(self) -> list[tuple[Action, ...]]:
        numbers = sorted({a.wave for a in self.actions})
        return [tuple(a for a in self.actions if a.wave == n) for n in numbers]

    def count(self, kind: ActionKind) -> int:
        return sum(1 for a in self.actions if a.kind is kind)

    def for_container(self, container_id: str) -> Action | None:
        return next((a for a in self.actions if a.container_id == container_id), None)


def plan(
    desired: DesiredState, observed: ObservedState, strategy: Strategy = Strategy.CHANGED
) -> Plan:
    """Compute the actions that make `observed` match `desired`. No side effects."""
    actions: list[Action] = []
    noops: list[Noop] = []
    for name in sorted(desired.services):
        service_actions, noop = _plan_service(desired.services[name], observed.of(name), strategy)
        actions += service_actions
        if noop:
            noops.append(Noop(service=name, reason=noop))
    for container in observed.containers:
        if container.service not in desired.services:
            actions.append(_remove_unwanted(container, desired))
    actions += _restart_dependents(desired, observed, actions)
    restarted = {a.service for a in actions if a.kind is ActionKind.RESTART}
    noops = [n for n in noops if n.service not in restarted]
    return Plan(actions=_order(actions, desired, observed), noops=tuple(noops))


def _plan_service(
    service: DesiredService, containers: tuple[ObservedContainer, ...], strategy: Strategy
) -> tuple[list[Action], str | None]:
    live = [c for c in containers if c.status is not ContainerStatus.REMOVING]
    actions: list[Action] = []
    kept: dict[int, ObservedContainer] = {}
    # The lowest numbers stay, one container per number (a running one when two share
    # it); the rest are extras. The id breaks the last tie, so the plan never depends
    # on the input's order.
    for container in sorted(
        live, key=lambda c: (c.number, not c.running, _half_renamed(c), c.name, c.id)
    ):
        if len(kept) < service.replicas and container.number not in kept:
            kept[container.number] = container
        else:
            actions.append(_action(ActionKind.REMOVE, service.name, container, ("extra replica",)))
    # Compose numbers a new container after the highest one, never into a gap.
    following = max(kept, default=0) + 1
    for offset in range(service.replicas - len(kept)):
        actions.append(
            Action(
                kind=ActionKind.CREATE,
                service=service.name,
                number=following + offset,
                reasons=("no container",),
                new_hash=service.config_hash,
            )
        )
    reasons_for_noop: list[str] = []
    for current in kept.values():
        decided = _decide(service, current)
        if strategy is Strategy.ALWAYS and not (
            isinstance(decided, Action) and decided.kind is ActionKind.RECREATE
        ):
            decided = _recreate(service, current, ("restart requested",))
        if isinstance(decided, Action):
            actions.append(decided)
        else:
            reasons_for_noop.append(decided)
    if actions:
        return actions, None
    if service.replicas == 0:
        return actions, "scaled to 0"
    noop = next((r for r in reasons_for_noop if r != "in sync"), "in sync")
    return actions, noop


def _decide(service: DesiredService, container: ObservedContainer) -> Action | str:
    """The decision ladder for one container of a wanted service: an action or a no-op reason."""
    if container.status is ContainerStatus.DEAD:
        return _recreate(service, container, ("container is dead",))
    if container.config_hash is None:
        return _recreate(service, container, ("not created by Compose",))
    reasons: list[str] = []
    if container.app_env != service.app_env:
        reasons.append(f"APP_ENV {container.app_env or 'unset'} -> {service.app_env or 'unset'}")
    elif container.config_hash != service.config_hash:
        reasons.append("configuration changed")
    if service.image_id is not None and container.image_id != service.image_id:
        reasons.append("image changed")
    if _half_renamed(container):
        reasons.append("left half-renamed by an interrupted recreate")
    if reasons:
        return _recreate(service, container, tuple(reasons))
    match container.status:
        case ContainerStatus.PAUSED:
            return _action(ActionKind.START, service.name, container, ("paused",))
        case ContainerStatus.EXITED:
            return _action(ActionKind.START, service.name, container, ("stopped out of band",))
        case ContainerStatus.CREATED:
            return _action(ActionKind.START, service.name, container, ("created, never started",))
        case ContainerStatus.RESTARTING:
            return f"restarting (crash loop): see `reconcile logs {service.name}`"
        case _:
            return "in sync"


def _half_renamed(container: ObservedContainer) -> bool:
    """Compose recreates as `<old id[:12]>_<project>-<service>-<n>`, then renames; a
    kill in between leaves that name, which nothing but a recreate puts right."""
    prefix, _, rest = container.name.partition("_")
    return (
        len(prefix) == 12
        and all(ch in "0123456789abcdef" for ch in prefix)
        and rest.endswith(f"-{container.service}-{container.number}")
    )


def _recreate(
    service: DesiredService, container: ObservedContainer, reasons: tuple[str, ...]
) -> Action:
    return _action(
        ActionKind.RECREATE,
        service.name,
        container,
        reasons,
        old_hash=container.config_hash,
        new_hash=service.config_hash,
    )


def _action(
    kind: ActionKind,
    service: str,
    container: ObservedContainer,
    reasons: tuple[str, ...],
    **extra: str | None,
) -> Action:
    return Action(
        kind=kind,
        service=service,
        number=container.number,
        reasons=reasons,
        container=container.name,
        container_id=container.id,
        **extra,
    )


def _remove_unwanted(container: ObservedContainer, desired: DesiredState) -> Action:
    in_files = container.service in desired.known_services
    reason = (
        f"not in the profiles of {desired.app_env.name}" if in_files else "not in the compose files"
    )
    return _action(ActionKind.REMOVE, container.service, container, (reason,)).model_copy(
        update={"in_compose_files": in_files}
    )


def _restart_dependents(
    desired: DesiredState, observed: ObservedState, actions: list[Action]
) -> list[Action]:
    """Compose's rule: `depends_on: {X: {restart: true}}` restarts the dependent when X is
    (re)created. Only running dependents that have no action of their own."""
    changed = {a.service for a in actions if a.kind in (ActionKind.CREATE, ActionKind.RECREATE)}
    busy = {a.service for a in actions}
    restarts = []
    for name, service in sorted(desired.services.items()):
        if name in busy:
            continue
        triggers = sorted(
            d.service for d in service.depends_on if d.restart and d.service in changed
        )
        if not triggers:
            continue
        for container in observed.of(name):
            if container.running:
                restarts.append(
                    _action(
                        ActionKind.RESTART,
                        name,
                        container,
                        tuple(f"{t} is recreated (depends_on restart: true)" for t in triggers),
                    )
                )
    return restarts


def _order(
    actions: Iterable[Action], desired: DesiredState, observed: ObservedState
) -> tuple[Action, ...]:
    """Assign waves: teardown (dependents first), then bring-up (dependencies first)."""
    actions = list(actions)
    depends: dict[str, set[str]] = {
        name: set(desired.dependencies(name)) for name in desired.services
    }
    for container in observed.containers:
        depends.setdefault(container.service, set()).update(container.depends_on)

    # Teardown depth follows dependencies among the removed services; the deepest
    # (a dependent of dependents) goes first, so nothing loses what it needs while up.
    removed = {a.service for a in actions if a.kind is ActionKind.REMOVE}
    teardown = _levels(removed, lambda s: depends.get(s, set()) & removed)
    top = max(teardown.values(), default=-1)

    wanted = set(desired.services)
    bring_up = _levels(wanted, lambda s: depends[s] & wanted)
    waves: list[Action] = []
    for action in actions:
        if action.kind is ActionKind.REMOVE:
            wave = top - teardown[action.service]
        else:
            wave = top + 1 + bring_up[action.service]
        waves.append(action.model_copy(update={"wave": wave}))
    used = sorted({a.wave for a in waves})
    renumber = {old: new for new, old in enumerate(used, start=1)}
    ordered = [a.model_copy(update={"wave": renumber[a.wave]}) for a in waves]
    ordered.sort(
        key=lambda a: (
            a.wave,
            _KIND_ORDER[a.kind],
            a.service,
            -a.number if a.kind is ActionKind.REMOVE else a.number,
            a.container_id or "",
        )
    )
    return tuple(ordered)


def _levels(nodes: set[str], edges: Callable[[str], set[str]]) -> Mapping[str, int]:
    """Longest-path depth of each node along `edges` (0 for a node with none).
    Compose rejects cycles in depends_on; a cycle in stray labels is cut, not looped."""
    depth: dict[str, int] = {}

    def visit(node: str, path: frozenset[str]) -> int:
        if node in depth:
            return depth[node]
        nexts = [n for n in edges(node) if n in nodes and n not in path]
        level = 1 + max((visit(n, path | {node}) for n in nexts), default=-1)
        depth[node] = level
        return level

    for node in sorted(nodes):
        visit(node, frozenset())
    return depth
