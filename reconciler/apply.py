"""Apply: execute a Plan wave by wave (the apply stage).

A generic executor: it knows the plan's order and the retry policy, not Docker. The
Runner it is handed performs one batch (the actions of one kind in one wave, which
are independent and go to the engine together) and settles a wave (the health gate).
A runner that orders dependencies itself (Compose's `up` does) may join consecutive
waves into one batch, where nothing in a later wave waits for the health of an
earlier one (`Joining`): one engine call and one gate instead of one per wave.
When a batch fails, every later wave is skipped as "upstream failed": later waves
hold what depends on earlier ones (of a joined batch that failed, the first wave's
actions count as failed and the rest as skipped, as wave by wave; whatever Compose
did of them anyway shows in the next plan). Each action ends in a frozen Outcome.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

from reconciler.outcome import ApplyResult, Outcome, OutcomeStatus
from reconciler.plan import TEARDOWN, Action, ActionKind, Plan
from reconciler.retry import Policy, default_retrying
from state.errors import ReconcilerError


class Runner(Protocol):
    def perform(self, kind: ActionKind, actions: Sequence[Action]) -> None:
        """Carry out independent actions of one kind; raise ReconcilerError on failure."""
        ...

    def settle(self, actions: Sequence[Action]) -> None:
        """Return once what the wave brought up is ready; raise ReconcilerError if it never is."""
        ...


@runtime_checkable
class Joining(Protocol):
    def joins(self, earlier: Sequence[Action], wave: Sequence[Action]) -> bool:
        """Whether `wave` may go to the engine in one call with `earlier` (the waves just
        before it, joined already): the engine orders them by their dependencies, and
        nothing in `wave` waits for the health of anything in `earlier`. The joined
        actions are then performed as one batch of their strongest kind (RECREATE over
        CREATE): say yes only when that does what each of them asks."""
        ...


def stages(waves: Sequence[Sequence[Action]], runner: object) -> list[tuple[Action, ...]]:
    """The plan's waves, consecutive ones joined where the runner says it can (a runner
    that cannot join need not say so: each wave is then a stage of its own)."""
    joined: list[tuple[Action, ...]] = []
    for wave in waves:
        if joined and isinstance(runner, Joining) and runner.joins(joined[-1], wave):
            joined[-1] = (*joined[-1], *wave)
        else:
            joined.append(tuple(wave))
    return joined


def batches(wave: Sequence[Action]) -> list[tuple[ActionKind, tuple[Action, ...]]]:
    """A stage's actions grouped by kind, in the stage's own order of kinds; a joined
    stage (actions of several waves) is one batch of its strongest kind."""
    if len({a.wave for a in wave}) > 1:
        recreates = any(a.kind is ActionKind.RECREATE for a in wave)
        return [(ActionKind.RECREATE if recreates else ActionKind.CREATE, tuple(wave))]
    kinds: list[ActionKind] = []
    for action in wave:
        if action.kind not in kinds:
            kinds.append(action.kind)
    return [(kind, tuple(a for a in wave if a.kind is kind)) for kind in kinds]


def skipped(action: Action, failure: str) -> Outcome:
    return Outcome(action, OutcomeStatus.SKIPPED, error=f"upstream failed: {failure}")


def execute(
    plan: Plan,
    runner: Runner,
    *,
    retrying: Policy = default_retrying,
    on_outcome: Callable[[Outcome], None] = lambda outcome: None,
    clock: Callable[[], float] = time.monotonic,
) -> ApplyResult:
    """Run every wave in order; stop bringing things up after the first failure."""
    outcomes: list[Outcome] = []

    def record(outcome: Outcome) -> None:
        outcomes.append(outcome)
        on_outcome(outcome)

    failure: str | None = None
    for wave in stages(plan.waves(), runner):
        if failure is not None:
            for action in wave:
                record(skipped(action, failure))
            continue
        for kind, batch in batches(wave):
            started = clock()
            try:
                for attempt in retrying():
                    with attempt:
                        runner.perform(kind, batch)
            except ReconcilerError as exc:
                failure, first = str(exc), batch[0].wave
                for action in batch:  # a joined batch: its later waves counted as skipped
                    if action.wave == first:
                        record(Outcome(action, OutcomeStatus.FAILED, clock() - started, failure))
                    else:
                        record(skipped(action, failure))
                continue
            seconds = clock() - started
            for action in batch:
                record(Outcome(action, OutcomeStatus.DONE, seconds))
        if failure is None:
            brought_up = [a for a in wave if a.kind not in TEARDOWN]
            if brought_up:
                try:
                    runner.settle(brought_up)
                except ReconcilerError as exc:
                    failure = str(exc)
    return ApplyResult(tuple(outcomes), failure)
