"""The Runner that the executor drives on a real engine (apply stage).

perform() maps each kind of action onto the engine port: creates and recreates go
through Compose (`up --no-deps [--force-recreate]`) so labels and hashes stay
Compose's own; starts, unpauses, restarts, stops and removals take container ids (a
container whose service is in no compose file cannot be addressed by Compose).
Teardown plans (stop, down) need no desired state: they bring nothing up.
A joined stage (reconciler/execute/stages.py) spans waves: its creates and recreates are
one `compose up`, which orders them by depends_on; its starts go wave by wave. Before
bringing anything up, what it depends on outside the batch and the gate would wait
for is awaited too, as Compose does (a dependency the plan left alone may still be
starting). While a stage waits for health, prepare() creates later containers.
settle() is the health gate, Compose's `up --wait` rule: it returns once every
container of the services a wave brought up is ready: healthy (with a healthcheck),
running (without), or, for a one-shot (a service some service waits for with
`service_completed_successfully`, reconciler/planner/plan.py), exited with code 0. It fails
naming the service, its last health output and the last lines of its log: at once
for a container that nothing will make ready (exited, with any code for a service
that should keep running and a non-zero one for a one-shot; dead; `unhealthy`), after
--wait-timeout for one still `starting`, running without being healthy, or a one-shot
still running. It polls fast (0.1 s), then backs off (doubling to 1 s): a fast
service is seen ready at once, a slow one costs few engine reads.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence, Set
from dataclasses import dataclass
from typing import Protocol, assert_never, runtime_checkable

from reconciler.execute.stages import Stage, by_wave, fresh_creates, gated
from reconciler.execute.timeouts import WAIT_TIMEOUT
from reconciler.planner.plan import COMPLETES, Action, ActionKind, one_shots
from state.engine import ContainerEngine, ContainerStatus, Recreate
from state.errors import EngineError, ReconcilerError
from state.model.desired import DesiredState
from state.model.observed import ObservedContainer, observe

log = logging.getLogger(__name__)
_BRINGS_UP = frozenset(
    {ActionKind.CREATE, ActionKind.RECREATE, ActionKind.START, ActionKind.UNPAUSE}
)
LOG_LINES = 10


@runtime_checkable
class _Creates(Protocol):
    def create(self, services: Sequence[str]) -> None: ...


class NotReady(EngineError):
    """Services did not become healthy or running in time (`services`: which ones)."""

    def __init__(self, message: str, services: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.services = tuple(services)


@dataclass
class EngineRunner:
    engine: ContainerEngine
    desired: DesiredState | None  # None: a teardown plan, nothing to wait for
    wait: bool = True
    wait_timeout: float = WAIT_TIMEOUT
    poll_interval: float = 0.1  # the first wait; doubled after each poll, up to max_poll
    max_poll: float = 1.0
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    on_ready: Callable[[Sequence[str]], None] = lambda services: None  # the gate saw them ready

    def perform(self, kind: ActionKind, actions: Sequence[Action]) -> None:
        services = list(dict.fromkeys(a.service for a in actions))  # a joined batch: in waves
        ids = [a.container_id for a in actions if a.container_id]
        if kind in _BRINGS_UP:
            self._await_dependencies(services)
        match kind:
            case ActionKind.CREATE:
                self._create(services, actions)
            case ActionKind.RECREATE:
                self._recreate(services, actions)
            case ActionKind.UNPAUSE:
                self.engine.unpause(ids)
            case ActionKind.START:
                for wave in by_wave(actions):  # a joined stage: in order
                    self._start(wave)
            case ActionKind.RESTART:
                self.engine.restart(ids)
            case ActionKind.STOP:
                self.engine.stop(ids)
            case ActionKind.REMOVE:
                self.engine.remove(ids)
            case _:
                assert_never(kind)

    def _create(self, services: Sequence[str], actions: Sequence[Action]) -> None:
        """Services created whole are one `up` (it orders them by depends_on). A service
        that keeps some containers (a gap in its replicas) gets only the missing ones."""
        gaps = self._with_gaps(actions)
        whole = [s for s in services if s not in gaps]
        if whole:
            self.engine.up(whole, recreate=Recreate.NEVER)
        if gaps:
            self._add_beside(gaps)

    def _with_gaps(self, actions: Sequence[Action]) -> list[str]:
        """Services whose planned creates are fewer than their replicas: others stay."""
        if self.desired is None:
            return []
        planned: dict[str, int] = {}
        for action in actions:
            if action.kind is ActionKind.CREATE:
                planned[action.service] = planned.get(action.service, 0) + 1
        known = self.desired.services
        return [s for s, n in planned.items() if s in known and n < known[s].replicas]

    def _add_beside(self, services: Sequence[str]) -> None:
        """The missing containers of services that keep others: created (numbered after
        the highest, as Compose does), then the never-started ones started, so a kept
        container is left as it is: `up` would start again a one-shot that completed,
        or a container the plan leaves stopped. Never-started, not "new": a retry after a
        failed start finds them created (a kept one that never ran is planned to start)."""
        if self.desired is None or not isinstance(self.engine, _Creates):
            self.engine.up(services, recreate=Recreate.NEVER)
            return
        self.engine.create(services)
        observed = observe(self.engine, self.desired.project)  # the project's, no one-offs
        created = [
            c.id
            for service in services
            for c in observed.of(service)
            if c.status is ContainerStatus.CREATED
        ]
        if created:
            self.engine.start(created)

    def _recreate(self, services: Sequence[str], actions: Sequence[Action]) -> None:
        """Exactly the planned containers are replaced. A service recreated whole is one
        `up --force-recreate` (numbers kept); one that keeps some containers loses the
        planned ones (a half-renamed leftover included) and gets new ones with
        `up --no-recreate`, which numbers them after the highest, as Compose does."""
        parts = [a for a in actions if a.renumbered is not None]
        partial = {a.service for a in parts}
        if parts:
            self.engine.remove([a.container_id for a in parts if a.container_id])
        # A joined batch of several waves holds only whole recreates and services created
        # from nothing (reconciler/execute/stages.py): one forced `up` keeps its order.
        forced = [s for s in services if s not in partial]
        if any(a.kind is ActionKind.RECREATE and a.service in forced for a in actions):
            self.engine.up(forced, recreate=Recreate.ALWAYS)
        else:
            forced = []
        rest = [s for s in services if s not in forced and s not in partial]
        if rest:
            self.engine.up(rest, recreate=Recreate.NEVER)
        if partial:
            self._add_beside([s for s in services if s in partial])

    def _await_dependencies(self, services: Sequence[str]) -> None:
        """First, what `services` depend on outside them and the gate waits for (a
        healthcheck, or a condition other than service_started) must be ready, as
        Compose waits for it: one look when an earlier stage settled it, a wait when the
        plan left it alone still starting (a migration a killed run left running)."""
        desired = self.desired
        if desired is None or not self.wait:
            return
        known = desired.services
        needed = {
            d.service
            for name in services
            if name in known
            for d in known[name].depends_on
            if d.service in known
            and d.service not in services
            and known[d.service].replicas > 0
            and gated(desired, d)
        }
        if needed:
            self.settle([_awaited(name) for name in sorted(needed)])

    def _start(self, actions: Sequence[Action]) -> None:
        ids = [a.container_id for a in actions if a.container_id]
        if ids:
            self.engine.start(ids)

    def stage(self, wave: Sequence[Action]) -> Stage | None:
        """A stage later actions may join (reconciler/execute/stages.py); none for a teardown."""
        return Stage(self.desired, wave) if self.desired is not None else None

    def prepare(self, stage: Sequence[Action], later: Sequence[Sequence[Action]]) -> None:
        """While `stage` waits for health, create (not start) the containers of the later
        services that have none yet, as Compose's own `up` creates every container
        before it starts any: their `up` then only starts them. Nothing that exists is
        touched (`up --no-start --no-deps --no-recreate`), so a failed gate leaves them created,
        never started, as Compose does. Only when the stage has a health to wait for,
        and not for a later stage that recreates (its `up` forces: it would recreate
        what was created ahead)."""
        desired = self.desired
        if desired is None or not isinstance(self.engine, _Creates):
            return
        if not any(
            desired.services[a.service].has_healthcheck
            for a in stage
            if a.service in desired.services
        ):
            return
        creating = [s for s in later if all(a.kind is not ActionKind.RECREATE for a in s)]
        fresh = fresh_creates(desired, [a for s in creating for a in s])
        if fresh:
            try:
                self.engine.create(fresh)
            except ReconcilerError as exc:  # their own `up` creates them all the same
                log.debug("creating ahead failed, left to their up: %s", exc)

    def settle(self, actions: Sequence[Action]) -> None:
        if not self.wait or self.desired is None:
            return
        desired = self.desired
        services = sorted({a.service for a in actions if a.service in desired.services})
        once = one_shots(desired)
        # Docker keeps the health a container had when it was paused (probes fail while
        # paused) until its next probe: an unpaused one may still read `unhealthy`.
        stale = {a.container_id for a in actions if a.kind is ActionKind.UNPAUSE}
        deadline = self.clock() + self.wait_timeout
        interval = self.poll_interval
        while True:
            pending = self._not_ready(services, once)
            self.on_ready([s for s in services if s not in pending])
            if not pending:
                return
            failed = {s: mine for s, mine in pending.items() if _any_failed(mine, s in once, stale)}
            if failed:  # nothing makes them ready: waiting cannot help (as Compose's --wait)
                raise NotReady(self._failure(failed, once), tuple(failed))
            if self.clock() >= deadline:
                raise NotReady(self._explain(pending, once), tuple(pending))
            self.sleep(interval)
            interval = min(interval * 2, self.max_poll)

    def _not_ready(
        self, services: Sequence[str], once: frozenset[str]
    ) -> dict[str, tuple[ObservedContainer, ...]]:
        assert self.desired is not None
        observed = observe(self.engine, self.desired.project)
        pending: dict[str, tuple[ObservedContainer, ...]] = {}
        for service in services:
            mine = observed.of(service)
            wants_health = self.desired.services[service].has_healthcheck
            if not mine or not all(_ready(c, wants_health, service in once) for c in mine):
                pending[service] = mine
        return pending

    def _failure(
        self, failed: dict[str, tuple[ObservedContainer, ...]], once: frozenset[str]
    ) -> str:
        """One part for the services that should run, one for the one-shots that failed."""
        crashed = {s: mine for s, mine in failed.items() if s not in once}
        incomplete = {s: mine for s, mine in failed.items() if s in once}
        parts = [self._explain(crashed, once, "failed to start")] if crashed else []
        if incomplete:
            parts.append(self._explain(incomplete, once, "did not complete successfully"))
        return "\n".join(parts)

    def _explain(
        self,
        pending: dict[str, tuple[ObservedContainer, ...]],
        once: frozenset[str] = frozenset(),
        headline: str = "",
    ) -> str:
        parts = []
        for service, containers in pending.items():
            if not containers:
                parts.append(f"{service}: no container")
                continue
            one_shot = service in once
            first = next((c for c in containers if _failed(c, one_shot)), containers[0])
            state = first.status.value + (f", {first.health}" if first.health else "")
            if first.status is ContainerStatus.EXITED:
                state += f" with code {first.exit_code}"
            text = f"{service} ({first.name}: {state})"
            text += self._note(service, first, one_shot)
            if first.health_output:
                text += f"\n  last health check: {first.health_output.splitlines()[-1][:300]}"
            tail = self.engine.log_tail(first.id, LOG_LINES)
            if tail:
                text += "\n  last log lines:\n" + "\n".join(
                    f"    {line}" for line in tail.splitlines()
                )
            parts.append(text)
        headline = headline or f"not ready after {self.wait_timeout:g} s (--wait-timeout)"
        return f"{headline}: " + "\n".join(parts)

    def _note(self, service: str, container: ObservedContainer, one_shot: bool) -> str:
        """What the gate expected of a one-shot, or of a service that exited by itself."""
        assert self.desired is not None
        if one_shot:
            waiting = sorted(
                name
                for name, spec in self.desired.services.items()
                if any(d.service == service and d.condition == COMPLETES for d in spec.depends_on)
            )
            verb = "waits" if len(waiting) == 1 else "wait"
            return f"\n  a one-shot: {', '.join(waiting)} {verb} for it to exit with code 0"
        if container.status is ContainerStatus.EXITED and container.exit_code == 0:
            return (
                "\n  it exited by itself: a service should keep running, unless one that "
                "depends on it waits for it with `condition: service_completed_successfully`"
            )
        return ""


def _ready(container: ObservedContainer, wants_health: bool, one_shot: bool = False) -> bool:
    if one_shot:  # judged by its exit alone, as Compose's service_completed_successfully
        return container.status is ContainerStatus.EXITED and container.exit_code == 0
    if container.status is not ContainerStatus.RUNNING:
        return False
    return container.health == "healthy" if wants_health else True


def _failed(container: ObservedContainer, one_shot: bool = False) -> bool:
    """It will not become ready however long the gate waits: dead; exited (a one-shot: with
    an error; no restart policy brings it back: that shows as restarting); unhealthy
    (Compose's --wait fails there too; `starting` may still turn healthy)."""
    if container.status is ContainerStatus.DEAD:
        return True
    if container.status is ContainerStatus.EXITED:
        return not one_shot or container.exit_code not in (0, None)
    return not one_shot and container.health == "unhealthy"


def _any_failed(
    containers: Sequence[ObservedContainer], one_shot: bool, stale: Set[str | None] = frozenset()
) -> bool:
    """Any of them failed for good; `stale`: ids whose health is not yet their own
    (just unpaused): `unhealthy` there may still turn healthy, so only the timeout ends it."""
    return any(
        _failed(c, one_shot)
        and not (c.id in stale and c.status is ContainerStatus.RUNNING and c.health == "unhealthy")
        for c in containers
    )


def _awaited(service: str) -> Action:
    """A dependency the gate looks at before its dependents go (settle reads the service)."""
    return Action(kind=ActionKind.START, service=service, number=1, reasons=("a dependency",))
