"""Plan: DesiredState x ObservedState -> an ordered Plan of explicit actions.

Pure, total and deterministic: no side effects, no I/O, nothing imported that does
any. Every desired service gets actions or a no-op reason; an empty plan: converged.

Per container, an ordered decision ladder (first match wins):
  Strategy.ALWAYS (restart) -> stop, then recreate; dead -> recreate; no config-hash
  label -> recreate ("not created by Compose"); APP_ENV, config hash or image differ,
  a name left by an interrupted recreate, or made from another checkout of the same
  project name -> recreate, saying what differs (a config hash changed by content
  digests names the files: "content of FILE changed");
  a one-shot exited 0 -> none ("completed"); paused -> unpause; exited/created -> start
  (a one-shot that exited non-zero: "exited with code N"); restarting -> none
  (reported); running -> none.
A one-shot is a service some desired service waits for with `condition:
service_completed_successfully` (Compose's rule for `up --wait`): it is done once it
exited 0, and is not started again (Compose's `up` would re-run it; a second run
here changes nothing). A service nobody waits for that way should keep running.
Per service: the lowest-numbered containers up to the scale are kept, one per number
(a global service's scale is as many as it has: one per node), the rest removed
(highest first); missing ones are created with the numbers Compose
will give them (after the highest kept, never into a gap). Unwanted ones are removed.
A service asking for `deploy.update_config.order: start-first` that can run twice
(reconciler/planner/start_first.py) has its recreates marked `start_first`, each
numbered after the highest the service has (the new container comes beside the old);
its ready, matching containers are kept first (what an interrupted start-first
recreate left: the new one stays, the old goes); one that cannot run twice says why.
A `depends_on: {X: {restart: true}}` dependent restarts when X is (re)created. `stop`
and `down` plan from the observed state alone. Order: stops and removals first,
dependents first; then the rest, dependencies first. One wave's actions are
independent and may run together (reconciler/planner/ordering.py). The vocabulary (Action,
Plan, ...) is reconciler/planner/actions.py, re-exported here.
"""

from __future__ import annotations

import enum
from dataclasses import replace
from pathlib import PurePath

from reconciler.planner import start_first
from reconciler.planner.actions import (
    STOPPABLE,
    TEARDOWN,
    Action,
    ActionKind,
    Noop,
    NoopReason,
    Plan,
    action_on,
)
from reconciler.planner.ordering import order as _order
from reconciler.planner.teardown import teardown_plan
from state.engine import ContainerStatus
from state.model.desired import DesiredService, DesiredState
from state.model.observed import ObservedContainer, ObservedState

__all__ = [
    "TEARDOWN",
    "Action",
    "ActionKind",
    "Noop",
    "NoopReason",
    "Plan",
    "Strategy",
    "one_shots",
    "plan",
    "teardown_plan",
]


COMPLETES = "service_completed_successfully"


def one_shots(desired: DesiredState) -> frozenset[str]:
    """The services a desired service waits for with `service_completed_successfully`:
    they run once, and exiting 0 is their success."""
    return frozenset(
        d.service
        for service in desired.services.values()
        for d in service.depends_on
        if d.condition == COMPLETES
    )


class Strategy(enum.StrEnum):
    """When to recreate a container (Compose v1's ConvergenceStrategy)."""

    CHANGED = "changed"  # only what differs: `reconcile`
    ALWAYS = "always"  # every wanted container: `reconcile restart`


def plan(
    desired: DesiredState, observed: ObservedState, strategy: Strategy = Strategy.CHANGED
) -> Plan:
    """Compute the actions that make `observed` match `desired`. No side effects."""
    actions: list[Action] = []
    noops: list[Noop] = []
    once = one_shots(desired)
    for name in sorted(desired.services):
        service_actions, noop = _plan_service(
            desired.services[name], observed.of(name), strategy, name in once, desired.checkout
        )
        actions += service_actions
        if noop:
            noops.append(Noop(service=name, reason=noop))
    for container in observed.containers:
        if container.service not in desired.services:
            actions.append(_remove_unwanted(container, desired))
    actions += _restart_dependents(desired, observed, actions)
    restarted = {a.service for a in actions if a.kind is ActionKind.RESTART}
    noops = [n for n in noops if n.service not in restarted]
    ordered = tuple(_order(actions, desired, observed))
    return Plan(actions=ordered, noops=tuple(noops))


def _plan_service(
    service: DesiredService,
    containers: tuple[ObservedContainer, ...],
    strategy: Strategy,
    one_shot: bool = False,
    checkout: str | None = None,
) -> tuple[list[Action], NoopReason | None]:
    live = [c for c in containers if c.status is not ContainerStatus.REMOVING]
    if service.global_mode and live:  # one per node on a swarm: as many as there are
        service = replace(service, replicas=len({c.number for c in live}))
    actions: list[Action] = []
    kept: dict[int, ObservedContainer] = {}

    # The lowest numbers stay, one per number (a running one first); the rest are extras.
    # The id breaks the last tie, so the plan never depends on the input's order. For a
    # start-first service, ready containers that match come first: an interrupted
    # start-first recreate keeps its new container and loses the old one.
    def rank(c: ObservedContainer) -> tuple[bool, int, bool, bool, str, str]:
        fresh = wants_start_first and _ready_match(service, c, checkout)
        return (not fresh, c.number, not c.running, c.half_renamed, c.name, c.id)

    wants_start_first = start_first.wants(service)
    for container in sorted(live, key=rank):
        if len(kept) < service.replicas and container.number not in kept:
            kept[container.number] = container
        else:
            extra = action_on(ActionKind.REMOVE, service.name, container, ("extra replica",))
            actions.append(extra)
    reasons_for_noop: list[NoopReason] = []
    for current in kept.values():
        decided = _decide(service, current, strategy, one_shot, checkout)
        if isinstance(decided, NoopReason):
            reasons_for_noop.append(decided)
        else:
            actions += decided
    actions = _numbered(service, kept, actions)
    if actions:
        return actions, None
    if service.replicas == 0:
        return actions, NoopReason.SCALED_TO_ZERO
    return actions, next(
        (r for r in reasons_for_noop if r is not NoopReason.IN_SYNC), NoopReason.IN_SYNC
    )


def _ready_match(
    service: DesiredService, container: ObservedContainer, checkout: str | None
) -> bool:
    """Running, healthy if it has a healthcheck, and nothing to recreate."""
    ready = container.running and container.health in (None, "healthy")
    return ready and not _drift(service, container, checkout)


def _numbered(
    service: DesiredService, kept: dict[int, ObservedContainer], actions: list[Action]
) -> list[Action]:
    """The service's actions, with the creates it needs numbered as Compose will number
    them: after the highest number that stays, never into a gap. A service recreated
    whole keeps its numbers (`up --force-recreate`); one that keeps some containers has
    the planned ones removed and new ones created (`up --no-recreate`), so each of those
    is `renumbered` after the highest that stays. A start-first recreate creates the new
    container while the old one is still there: after the highest of them all."""
    recreated = [a for a in actions if a.kind is ActionKind.RECREATE]
    beside = any(a.start_first for a in recreated)
    whole = len(recreated) == len(kept) and not beside
    staying = [n for n in kept if whole or beside or n not in {a.number for a in recreated}]
    following = max(staying, default=0) + 1
    numbered: list[Action] = []
    for action in actions:
        if action.kind is ActionKind.RECREATE and not whole:
            action = replace(action, renumbered=following)
            following += 1
        numbered.append(action)
    numbered += [
        Action(
            kind=ActionKind.CREATE,
            service=service.name,
            number=following + offset,
            reasons=("no container", *_image_note(service)),
            new_hash=service.config_hash,
            new_image=service.image_id,
        )
        for offset in range(service.replicas - len(kept))
    ]
    return numbered


def _decide(
    service: DesiredService,
    container: ObservedContainer,
    strategy: Strategy,
    one_shot: bool,
    checkout: str | None,
) -> list[Action] | NoopReason:
    """The decision ladder for one container of a wanted service: actions or a no-op reason."""
    drift = _drift(service, container, checkout)
    if strategy is Strategy.ALWAYS:  # restart stops first, whatever the update order
        stop = [action_on(ActionKind.STOP, service.name, container, ("restart: stop first",))]
        return [
            *(stop if container.status in STOPPABLE else []),
            _recreate(service, container, drift or ("restart requested",)),
        ]
    if drift:
        refused = start_first.note(service)
        recreate = _recreate(service, container, (*drift, *([refused] if refused else [])))
        return [replace(recreate, start_first=start_first.allowed(service))]
    match container.status:
        case ContainerStatus.PAUSED:  # Docker refuses to start a paused container
            return [action_on(ActionKind.UNPAUSE, service.name, container, ("paused",))]
        case ContainerStatus.EXITED if one_shot and container.exit_code == 0:
            return NoopReason.COMPLETED
        case ContainerStatus.EXITED if one_shot:
            why = f"exited with code {container.exit_code}"
            return [action_on(ActionKind.START, service.name, container, (why,))]
        case ContainerStatus.EXITED:
            return [action_on(ActionKind.START, service.name, container, ("stopped out of band",))]
        case ContainerStatus.CREATED:  # on a swarm, why its task is not running (node down)
            why = f"not running: {container.health_output}" if container.health_output else ""
            reason = why or "created, never started"
            return [action_on(ActionKind.START, service.name, container, (reason,))]
        case ContainerStatus.RESTARTING:
            return NoopReason.RESTARTING
        case _:
            return NoopReason.IN_SYNC


def _drift(
    service: DesiredService, container: ObservedContainer, checkout: str | None = None
) -> tuple[str, ...]:
    """Why the container does not match the service (empty: it matches)."""
    if container.status is ContainerStatus.DEAD:
        return ("container is dead",)
    if container.config_hash is None:
        return ("not created by Compose",)
    reasons: list[str] = []
    if container.app_env != service.app_env:
        reasons.append(f"APP_ENV {container.app_env or 'unset'} -> {service.app_env or 'unset'}")
    elif container.config_hash != service.config_hash:
        reasons += _changed_content(service, container) or ["configuration changed"]
    if service.image_id is not None and container.image_id != service.image_id:
        reasons.append("image changed")
    if container.half_renamed:
        reasons.append("left half-renamed by an interrupted recreate")
    made_in = container.working_dir
    if checkout and made_in and not PurePath(made_in).is_relative_to(checkout):
        reasons.append(f"made from another checkout ({made_in})")
    return tuple(reasons)


def _changed_content(service: DesiredService, container: ObservedContainer) -> list[str]:
    """Name the content files behind a config-hash change: only when both sides record
    the same files (else files were added or removed: the configuration changed)."""
    wanted, had = service.content, container.content
    if wanted.keys() != had.keys():
        return []
    return [f"content of {name} changed" for name in sorted(wanted) if had[name] != wanted[name]]


def _recreate(
    service: DesiredService, container: ObservedContainer, reasons: tuple[str, ...]
) -> Action:
    return action_on(
        ActionKind.RECREATE,
        service.name,
        container,
        (*reasons, *_image_note(service)),
        old_hash=container.config_hash,
        new_hash=service.config_hash,
        new_image=service.image_id,
    )


def _image_note(service: DesiredService) -> tuple[str, ...]:
    """`image X will be pulled` (or built): what creating the container brings first."""
    return (service.image_note,) if service.image_note else ()


def _remove_unwanted(container: ObservedContainer, desired: DesiredState) -> Action:
    in_files = container.service in desired.known_services
    reason = f"not in {desired.app_env.profiles_of()}" if in_files else "not in the compose files"
    return action_on(ActionKind.REMOVE, container.service, container, (reason,))


def _restart_dependents(
    desired: DesiredState, observed: ObservedState, actions: list[Action]
) -> list[Action]:
    """Compose's rule: `depends_on: {X: {restart: true}}` restarts the dependent when X is
    (re)created. Each running container of the dependent that has no action of its own
    (a replica being created or recreated beside it does not spare it)."""
    changed = {a.service for a in actions if a.kind in (ActionKind.CREATE, ActionKind.RECREATE)}
    busy = {a.container_id for a in actions if a.container_id}
    restarts = []
    for name, service in sorted(desired.services.items()):
        triggers = sorted(
            d.service for d in service.depends_on if d.restart and d.service in changed
        )
        if not triggers:
            continue
        for container in observed.of(name):
            if container.running and container.id not in busy:
                restarts.append(
                    action_on(
                        ActionKind.RESTART,
                        name,
                        container,
                        tuple(f"{t} is recreated (depends_on restart: true)" for t in triggers),
                    )
                )
    return restarts
