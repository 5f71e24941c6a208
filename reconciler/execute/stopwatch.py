"""Measured unavailability: when each service stopped serving and was ready again (apply stage).

`Timed` wraps the apply's runner and notes, per service, the start of the first batch
that stops, removes or recreates one of its containers (a recreate is stop-first:
Compose stops the old container before it starts the new one), and the end of the
batch that brings it back (a start-first recreate does not stop its service: its old
container serves until the new one is ready); the health gate (EngineRunner.settle)
reports each service the first time it sees it ready (`Stopwatch.seen_ready`, polled
0.1 s to 0.5 s apart).
A service's measured unavailability is from the first to the last (an upper bound
for a service that one `compose up` of several recreates after the others: its old
container served meanwhile); one that was only stopped or removed is down from then
on ("stopped", "removed"). The numbers go into the history's receipts
(reconciler/commands/receipts.py); nothing here touches Docker.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.execute.stages import Stage
from reconciler.planner.plan import Action, ActionKind

_DOWNS = frozenset({ActionKind.STOP, ActionKind.REMOVE, ActionKind.RECREATE})
_UPS = frozenset({ActionKind.RECREATE, ActionKind.CREATE, ActionKind.START, ActionKind.UNPAUSE})
READY = "ready"
STOPPED = "stopped"
REMOVED = "removed"
NOT_READY = "not ready"


@dataclass(frozen=True)
class Unavailable:
    """One service's measured unavailability: seconds, and how it ended."""

    service: str
    seconds: float
    until: str  # READY, STOPPED, REMOVED or NOT_READY


@dataclass
class Stopwatch:
    clock: Callable[[], float] = time.monotonic
    down: dict[str, float] = field(default_factory=dict)
    last_kind: dict[str, ActionKind] = field(default_factory=dict)
    up: dict[str, float] = field(default_factory=dict)  # its bring-up batch ended
    ready: dict[str, float] = field(default_factory=dict)  # the gate first saw it ready
    ended: dict[str, float] = field(default_factory=dict)  # its teardown batch ended

    def going_down(self, kind: ActionKind, actions: Sequence[Action]) -> None:
        now = self.clock()
        for action in actions:
            if action.kind in _DOWNS and not action.start_first:  # start-first: never down
                self.down.setdefault(action.service, now)
            self.last_kind[action.service] = action.kind

    def done(self, kind: ActionKind, actions: Sequence[Action]) -> None:
        now = self.clock()
        for action in actions:
            if action.kind in _UPS and action.service in self.down:
                self.up[action.service] = now
                self.ready.pop(action.service, None)  # ready again counts from now
            elif action.kind in _DOWNS:
                self.ended[action.service] = now

    def seen_ready(self, services: Sequence[str]) -> None:
        now = self.clock()
        for service in services:
            if service in self.up:
                self.ready.setdefault(service, now)

    def back(self, services: Sequence[str]) -> None:
        """A rollback put these services back: ready now."""
        now = self.clock()
        for service in services:
            self.up[service] = self.ready[service] = now

    def measured(self, gated: bool = True) -> list[Unavailable]:
        """Per service that went down: how long, and how it ended (`gated`: the health
        gate ran, so a service it never saw ready was not ready)."""
        found = []
        for service, since in sorted(self.down.items()):
            if service in self.up:
                at = self.ready.get(service)
                if at is None and gated:
                    found.append(Unavailable(service, self.up[service] - since, NOT_READY))
                else:
                    found.append(Unavailable(service, (at or self.up[service]) - since, READY))
                continue
            end = self.ended.get(service, self.clock())
            kind = self.last_kind.get(service, ActionKind.RECREATE)
            until = {ActionKind.REMOVE: REMOVED, ActionKind.STOP: STOPPED}.get(kind, NOT_READY)
            found.append(Unavailable(service, end - since, until))
        return found


@dataclass
class Timed:
    """A runner that tells a Stopwatch what each batch does to which service."""

    runner: Any  # the apply's runner (rollback.Watched or an EngineRunner)
    stopwatch: Stopwatch

    def perform(self, kind: ActionKind, actions: Sequence[Action]) -> None:
        self.stopwatch.going_down(kind, actions)
        self.runner.perform(kind, actions)
        self.stopwatch.done(kind, actions)

    def settle(self, actions: Sequence[Action]) -> None:
        self.runner.settle(actions)
        # Settled: all ready now, for a gate that does not report each service (a swarm's)
        self.stopwatch.seen_ready(sorted({a.service for a in actions}))

    def stage(self, wave: Sequence[Action]) -> Stage | None:
        stage = getattr(self.runner, "stage", None)
        return stage(wave) if stage is not None else None

    def prepare(self, stage: Sequence[Action], later: Sequence[Sequence[Action]]) -> None:
        prepare = getattr(self.runner, "prepare", None)
        if prepare is not None:
            prepare(stage, later)
