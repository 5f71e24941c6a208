"""The Runner that the executor drives on a real engine (apply stage).

perform() maps each kind of action onto the engine port: creates and recreates go
through Compose (`up --no-deps [--force-recreate]`) so labels and hashes stay
Compose's own; starts, unpauses, restarts, stops and removals take container ids (a
container whose service is in no compose file cannot be addressed by Compose).
Teardown plans (stop, down) need no desired state: they bring nothing up.
A joined stage (reconciler/execute/stages.py) spans waves: its creates and recreates are
one `compose up`, which orders them by depends_on and waits for their conditions; its
starts go as Compose's `start` walks the graph (reconciler/execute/start_flow.py).
Before bringing anything up, what it depends on outside the batch and the gate would
wait for is awaited too, as Compose does (a dependency the plan left alone may still
be starting). While a stage waits for health, prepare() creates later containers.
A start-first recreate (reconciler/planner/start_first.py) adds the new container
beside the old one (`up --no-start --no-recreate --scale SVC=n+1`: Compose numbers it
after the highest), starts it, waits for it alone with the gate's own rule, then
removes the old one; a new one that never gets ready is removed, and the old one,
never stopped, keeps serving (NotReady). Killed anywhere in between, the next plan
finds two containers and keeps the ready one that matches (reconciler/planner/plan.py).
settle() is the health gate, Compose's `up --wait` rule: every container of the
services a wave brought up is healthy (with a healthcheck), running (without), or,
for a one-shot (reconciler/planner/plan.py), exited with code 0. It fails naming the
service, its last health output and log lines: at once for a container nothing will
make ready (exited, dead, `unhealthy`), after --wait-timeout for one still starting.
It polls fast (0.1 s), then backs off to 0.5 s, the tick of Compose's own wait.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence, Set
from dataclasses import dataclass, field
from typing import Protocol, assert_never, runtime_checkable

from reconciler.execute.readiness import Explainer, any_failed, ready
from reconciler.execute.stages import Stage, fresh_creates, gated
from reconciler.execute.start_flow import Pace, groups_of, needs_of, start_flow
from reconciler.execute.timeouts import WAIT_TIMEOUT
from reconciler.planner.plan import Action, ActionKind, one_shots
from state.engine import ContainerEngine, ContainerStatus, CreatesBeside, Recreate
from state.errors import EngineError, ReconcilerError
from state.model.desired import DesiredState
from state.model.observed import ObservedContainer, observe

log = logging.getLogger(__name__)
_BRINGS_UP = frozenset(
    {ActionKind.CREATE, ActionKind.RECREATE, ActionKind.START, ActionKind.UNPAUSE}
)


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
    max_poll: float = 0.5
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    on_ready: Callable[[Sequence[str]], None] = lambda services: None  # the gate saw them ready
    # A start-first recreate's old container id -> the service's container ids before its
    # new one was added: a retried call adds none again.
    _before: dict[str, frozenset[str]] = field(default_factory=dict)

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
                self._start(actions)
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
        """The start-first recreates one by one (a stage admits none from a later wave:
        reconciler/execute/stages.py, so they go first), then the rest. A swarm has no
        container to add: its own update (`stack deploy`) honours update_config.order."""
        beside = [a for a in actions if a.start_first]
        if isinstance(self.engine, CreatesBeside):
            for action in beside:
                self._start_first(self.engine, action)
        elif beside:  # a swarm: its own update
            self.engine.up(sorted({a.service for a in beside}), recreate=Recreate.ALWAYS)
        rest = [a for a in actions if not a.start_first]
        if rest:
            named = {a.service for a in rest}
            self._replace([s for s in services if s in named], rest)

    def _start_first(self, engine: CreatesBeside, action: Action) -> None:
        """The new container beside the old one, started and awaited alone, then the old
        one removed. One the gate fails is removed (the old one never stopped)."""
        assert self.desired is not None and action.container_id is not None
        old, service = action.container_id, action.service
        ids = self._ids_of(service)
        if old not in ids:  # replaced already (a batch retried after a later failure)
            return
        before = self._before.setdefault(old, ids)
        engine.create_beside(service, len(before) + 1)
        new = self._ids_of(service) - before
        created = [
            c.id
            for c in observe(self.engine, self.desired.project).of(service)
            if c.id in new and c.status is ContainerStatus.CREATED
        ]
        if created:
            self.engine.start(created)
        try:
            if self.wait:
                self._gate([service], ids=new)
        except NotReady as exc:
            self.engine.remove(sorted(new))
            self._before.pop(old, None)
            kept = action.container or old
            raise NotReady(
                f"{exc}\nstart-first: the new container was removed; {kept} kept serving",
                exc.services,
            ) from None
        self.engine.remove([old])
        self._before.pop(old, None)

    def _ids_of(self, service: str) -> frozenset[str]:
        assert self.desired is not None
        return frozenset(c.id for c in observe(self.engine, self.desired.project).of(service))

    def _replace(self, services: Sequence[str], actions: Sequence[Action]) -> None:
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
        """One wave's containers at once; a joined stage's in order, as Compose's `start`
        goes (reconciler/execute/start_flow.py)."""
        if len({a.wave for a in actions}) == 1:
            ids = [a.container_id for a in actions if a.container_id]
            if ids:
                self.engine.start(ids)
            return
        assert self.desired is not None
        groups = groups_of(actions)
        needs = needs_of(self.desired, list(groups))
        pace = Pace(self.clock, self.sleep, self.wait_timeout, self.poll_interval, self.max_poll)

        def look(services: Sequence[str], deadline: float) -> set[str]:
            return set(services) - set(self._look(services, deadline))

        start_flow(groups, needs, self.engine.start, look, pace)

    def stage(self, wave: Sequence[Action]) -> Stage | None:
        """A stage later actions may join (reconciler/execute/stages.py); none for a teardown."""
        return None if self.desired is None else Stage(self.desired, wave, waits_within=self.wait)

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
        # Docker keeps the health a container had when it was paused (probes fail while
        # paused) until its next probe: an unpaused one may still read `unhealthy`.
        stale = {a.container_id for a in actions if a.kind is ActionKind.UNPAUSE}
        self._gate(services, stale)

    def _gate(
        self,
        services: Sequence[str],
        stale: Set[str | None] = frozenset(),
        ids: Set[str] | None = None,
    ) -> None:
        """Wait until every container of `services` (only `ids`, when given) is ready."""
        deadline = self.clock() + self.wait_timeout
        interval = self.poll_interval
        while self._look(services, deadline, stale, ids):
            self.sleep(interval)
            interval = min(interval * 2, self.max_poll)

    def _look(
        self,
        services: Sequence[str],
        deadline: float,
        stale: Set[str | None] = frozenset(),
        ids: Set[str] | None = None,
    ) -> dict[str, tuple[ObservedContainer, ...]]:
        """One look of the gate: the services not ready yet; NotReady when one never
        will be, or the deadline has passed."""
        assert self.desired is not None
        once = one_shots(self.desired)
        pending = self._not_ready(services, once, ids)
        if ids is None:  # the stopwatch's "ready": every container of the service
            self.on_ready([s for s in services if s not in pending])
        failed = {s: mine for s, mine in pending.items() if any_failed(mine, s in once, stale)}
        if failed:  # nothing makes them ready: waiting cannot help (as Compose's --wait)
            raise NotReady(self._words().failure(failed, once), tuple(failed))
        if pending and self.clock() >= deadline:
            raise NotReady(self._words().explain(pending, once), tuple(pending))
        return pending

    def _words(self) -> Explainer:
        assert self.desired is not None
        return Explainer(self.engine, self.desired, self.wait_timeout)

    def _not_ready(
        self, services: Sequence[str], once: frozenset[str], ids: Set[str] | None = None
    ) -> dict[str, tuple[ObservedContainer, ...]]:
        assert self.desired is not None
        observed = observe(self.engine, self.desired.project)
        pending: dict[str, tuple[ObservedContainer, ...]] = {}
        for service in services:
            mine = tuple(c for c in observed.of(service) if ids is None or c.id in ids)
            wants_health = self.desired.services[service].has_healthcheck
            if not mine or not all(ready(c, wants_health, service in once) for c in mine):
                pending[service] = mine
        return pending


def _awaited(service: str) -> Action:
    """A dependency the gate looks at before its dependents go (settle reads the service)."""
    return Action(kind=ActionKind.START, service=service, number=1, reasons=("a dependency",))
