"""The self-healing watch (apply stage, in a loop): when to run a pass, and when not to.

`reconcile watch` runs the usual pipeline (resolve -> desire/observe -> plan -> apply
-> render, through commands.preview and commands.apply) again whenever something may
have moved the stack away from its desired state: an engine event of one of the
project's containers, or an edit of one of its inputs. This module decides *when*;
it does no I/O of its own (the engine, the files, the lock and the printing come in
through `Passes`, `inbox`, `poll` and `say`; the clock is injectable), so each
decision is a small function a unit test can drive:

- debounce: a burst of triggers makes one pass, `quiet` seconds after the last one
  (at most `max_delay` after the first; a kill waits for its die);
- backoff: when the same plan fails again (or an applied plan is needed again within
  `stable` seconds: it did not hold), the next attempt waits base * 2^(n-1) seconds,
  capped; meanwhile a trigger only previews, and applies only a *different* plan. A
  different plan, an input change, or a converged pass after a failure resets it;
- the lock: a pass that finds another reconcile holding it is not a failure; the watch
  keeps the pass's reasons and tries again `lock_retry` seconds later;
- its own echo: engine events stamped before an apply ended (mostly its own recreates)
  lead to one re-check after it, which finds the converged stack and does nothing.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from reconciler.planner.plan import TEARDOWN
from reconciler.planner.snapshot import Snapshot
from reconciler.watch.inputs import InputChanged
from reconciler.watch.words import describe
from state.docker.events import ContainerEvent, StreamLost

log = logging.getLogger(__name__)

PlanKey = tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Timing:
    quiet: float = 0.5  # debounce: a pass starts once no trigger came for this long...
    max_delay: float = 3.0  # ...or this long after the burst's first trigger
    poll: float = 1.0  # seconds between two checks of the input files
    backoff_base: float = 10.0  # first wait after a repeated failure (--backoff)
    backoff_cap: float = 300.0  # longest wait (--backoff-max)
    stable: float = 10.0  # an applied plan needed again sooner than this did not hold
    lock_retry: float = 2.0  # seconds before a pass the lock kept out is tried again


Trigger = ContainerEvent | StreamLost | InputChanged


class Kind(enum.StrEnum):
    CONVERGED = "converged"  # the plan was empty: nothing applied
    PENDING = "pending"  # a preview found actions
    APPLIED = "applied"
    FAILED = "failed"
    BUSY = "busy"  # another reconcile held the lock: nothing done


@dataclass(frozen=True)
class Result:
    """What one pass came to; `key` names its plan (None: empty or unknown)."""

    kind: Kind
    key: PlanKey | None = None
    detail: str = ""  # the error, or the lock's holder
    plan_text: str = ""  # the plan as `reconcile --plan` shows it, when there was one


class Passes(Protocol):
    """The pipeline, one pass at a time (reconciler/watch/feed.py: commands.preview/apply)."""

    def preview(self) -> Result:
        """Plan without the lock and change nothing (the loop prints the plan_text)."""
        ...

    def apply(self) -> Result:
        """Plan under the lock, print the plan, apply it, verify (commands.apply)."""
        ...


def plan_key(snap: Snapshot) -> PlanKey:
    """What makes two plans "the same" for the backoff: which containers are brought up
    to which configuration (and which are stopped or removed), not how: a service whose
    create failed is the same plan as its start next time (the container now exists)."""
    items = set()
    for action in snap.plan.actions:
        service = snap.desired.services.get(action.service)
        if action.kind in TEARDOWN or service is None:
            items.add(
                (action.kind.value, action.service, str(action.number), action.container or "")
            )
        else:
            items.add(("up", action.service, str(action.number), service.config_hash))
    return tuple(sorted(items))


def debounce_wait(
    first: float, last: float, now: float, timing: Timing, settled: bool = True
) -> float:
    """Seconds until the pass for a burst that began at `first` and last grew at `last`;
    an unsettled burst (a kill whose die has not come yet) waits up to `max_delay`."""
    quiet_until = last + timing.quiet if settled else first + timing.max_delay
    return max(0.0, min(quiet_until, first + timing.max_delay) - now)


def settled(triggers: Sequence[Trigger]) -> bool:
    """False while a container was killed and has not died (or gone) yet: `docker stop`
    and `docker rm -f` take a moment between the kill and the die."""
    killed = {
        t.container_id for t in triggers if isinstance(t, ContainerEvent) and t.action == "kill"
    }
    ended = {
        t.container_id
        for t in triggers
        if isinstance(t, ContainerEvent) and t.action in ("die", "destroy", "oom")
    }
    return killed <= ended


def backoff_delay(failures: int, timing: Timing) -> float:
    """The wait after `failures` failures in a row of one plan: 0, base, 2 base, ... cap."""
    if failures <= 0:
        return 0.0
    return float(min(timing.backoff_cap, timing.backoff_base * 2 ** min(failures - 1, 32)))


@dataclass
class Attempts:
    """The last plan the watch applied and how it went: the backoff's memory."""

    timing: Timing
    key: PlanKey | None = None
    failures: int = 0  # in a row, of `key`
    ended: float = 0.0
    ok: bool = False

    def reset(self) -> None:
        self.key, self.failures, self.ok = None, 0, False

    def recent(self, now: float) -> bool:
        """Must a pass preview first (the last plan failed, or may not have held)?"""
        return self.key is not None and (self.failures > 0 or now - self.ended < self.timing.stable)

    def record(self, key: PlanKey | None, ok: bool, now: float) -> None:
        if key != self.key:
            self.failures = 0
        if not ok:
            self.failures += 1
        self.key, self.ok, self.ended = key, ok, now

    def wait(self, key: PlanKey, now: float) -> float:
        """Seconds before plan `key` may be applied (0: now). A different plan resets the
        backoff; the same plan, applied fine less than `stable` seconds ago, did not hold
        and counts as one more failure."""
        if key != self.key:
            self.reset()
            return 0.0
        if self.ok:
            if now - self.ended >= self.timing.stable:
                self.failures = 0
                return 0.0
            self.ok, self.failures = False, self.failures + 1
        return max(0.0, self.retry_at() - now)

    def retry_at(self) -> float:
        return self.ended + backoff_delay(self.failures, self.timing)


@dataclass
class Watch:
    """The loop: wait for triggers, debounce them, run passes, back off, until stopped.

    `inbox(t)` waits up to t seconds for the next engine event (None: none came);
    `poll()` returns the input files that changed since the last call; `stamp()` the
    wall-clock time for headers. Stopping is the caller's: a signal handler raises out
    of `run()` (every wait here is one an exception can interrupt)."""

    passes: Passes
    inbox: Callable[[float], Trigger | None]
    poll: Callable[[], list[InputChanged]]
    say: Callable[[str], None]
    timing: Timing = field(default_factory=Timing)
    plan_only: bool = False
    clock: Callable[[], float] = time.monotonic
    stamp: Callable[[], str] = lambda: time.strftime("%H:%M:%S")
    wall: Callable[[], float] = time.time  # the engine's events carry wall-clock times
    attempts: Attempts = field(init=False)
    pending: list[Trigger] = field(default_factory=list)
    passes_run: int = 0
    _first: float = 0.0
    _last: float = 0.0
    _retry: float | None = None  # when the backoff or a busy lock allows the next try
    _retry_why: str = ""
    _next_poll: float = 0.0
    _recheck: int = 0  # engine events that came during the last pass
    _shown: str = ""  # the last plan text printed

    def __post_init__(self) -> None:
        self.attempts = Attempts(self.timing)

    def run(self, limit: int | None = None) -> None:
        """Watch until interrupted (or, for tests, until `limit` passes ran)."""
        self.pass_now("watch started")
        while limit is None or self.passes_run < limit:
            self.step()

    def step(self) -> None:
        """Wait for the next trigger or deadline, then run a pass if one is due."""
        trigger = self.inbox(self._next_wakeup(self.clock()))
        now = self.clock()
        if trigger is not None:
            self._add(trigger, now)
        if now >= self._next_poll:
            self._next_poll = now + self.timing.poll
            changed = self.poll()
            if changed:
                self.attempts.reset()  # new inputs: a new chance for every plan
                self._retry = None
                for change in changed:
                    self._add(change, now)
        if self.pending:
            if self._due(now) <= 0:
                triggers, self.pending = self.pending, []
                self.pass_now(describe(triggers))
        elif self._recheck:
            count = self._recheck
            self.pass_now(f"re-check after the last pass ({count} engine event(s) during it)")
        elif self._retry is not None and now >= self._retry:
            self.pass_now(self._retry_why)

    def _next_wakeup(self, now: float) -> float:
        if self._recheck and not self.pending:
            return 0.0
        deadlines = [self._next_poll]
        if self.pending:
            deadlines.append(now + self._due(now))
        elif self._retry is not None:  # (a pending pass comes first anyway)
            deadlines.append(self._retry)
        return max(0.0, min(deadlines) - now)

    def _due(self, now: float) -> float:
        return debounce_wait(self._first, self._last, now, self.timing, settled(self.pending))

    def _add(self, trigger: Trigger, now: float) -> None:
        if not self.pending:
            self._first = now
        self._last = now
        self.pending.append(trigger)

    def pass_now(self, why: str) -> None:
        """Run one pass now, saying why; afterwards schedule what it calls for."""
        self.passes_run += 1
        self._retry = None
        self.say(f"\n[{self.stamp()}] pass {self.passes_run}: {why}")
        applied_until = None
        if self.plan_only:
            self._show(self.passes.preview())
        else:
            applied_until = self._attempt(why, self.clock())
        self._recheck = self._drain(applied_until)

    def _show(self, seen: Result) -> None:
        text = seen.plan_text or seen.detail
        self.say("Plan unchanged (shown above)." if text and text == self._shown else text)
        self._shown = text

    def _attempt(self, why: str, now: float) -> float | None:
        """Preview if need be, apply unless backing off; when something was applied, the
        wall-clock time the apply ended."""
        if self.attempts.recent(now):  # preview first: it may be the plan that failed
            seen = self.passes.preview()
            if seen.kind is Kind.CONVERGED:
                self._show(seen)
                self._converged()
                return None
            wait = self.attempts.wait(seen.key, now) if seen.key is not None else 0.0
            if wait > 0:
                self._show(seen)
                self._backoff(f"not applied: {self._failed_text()}")
                return None
        result = self.passes.apply()
        self._shown, ended, ended_wall = result.plan_text, self.clock(), self.wall()
        match result.kind:
            case Kind.CONVERGED:
                self._converged()
            case Kind.APPLIED:
                self.attempts.record(result.key, True, ended)
            case Kind.FAILED:
                self.attempts.record(result.key, False, ended)
                self.say(f"Failed: {result.detail}")
                self._backoff(self._failed_text())
            case Kind.BUSY:
                self.say(f"Skipped: {result.detail}; next try in {self.timing.lock_retry:g} s.")
                self._retry = ended + self.timing.lock_retry
                self._retry_why = (
                    why if why.endswith("(lock was busy)") else f"{why} (lock was busy)"
                )
        return ended_wall if result.kind in (Kind.APPLIED, Kind.FAILED) else None

    def _converged(self) -> None:
        """Nothing to do. A failed plan is forgotten (fixed by someone); an applied one is
        remembered until `stable` passes, to notice when it does not hold."""
        if not self.attempts.ok:
            self.attempts.reset()

    def _failed_text(self) -> str:
        n = self.attempts.failures
        return f"the same plan failed {n} time{'s' if n != 1 else ''} in a row"

    def _backoff(self, text: str) -> None:
        self._retry = self.attempts.retry_at()
        delay = backoff_delay(self.attempts.failures, self.timing)
        self._retry_why = f"retry after {delay:g} s of backoff"
        wait = max(0.0, self._retry - self.clock())
        self.say(
            f"Backing off: {text}; next attempt in {wait:.0f} s (backoff {delay:g} s), "
            "sooner if the plan or an input changes."
        )

    def _drain(self, applied_until: float | None) -> int:
        """Engine events from before the end of a pass that applied something (mostly its
        own doing): counted for one re-check, not described. Later events, and other
        triggers, stay triggers."""
        count = 0
        while (trigger := self.inbox(0.0)) is not None:
            if (
                isinstance(trigger, ContainerEvent)
                and applied_until is not None
                and trigger.time <= applied_until
            ):
                count += 1
            else:
                self._add(trigger, self.clock())
        if count:
            log.debug("%d engine event(s) during the pass: one re-check follows", count)
        return count
