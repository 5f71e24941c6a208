"""Apply: execute a Plan wave by wave (the apply stage).

A generic executor: it knows the plan's order and the retry policy, not Docker. The
Runner it is handed performs one batch (the actions of one kind in one wave, which
are independent and go to the engine together) and settles a wave (the health gate).
When a batch fails, every later wave is skipped as "upstream failed": later waves
hold what depends on earlier ones. Each action ends in a frozen Outcome.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Protocol

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


def batches(wave: Sequence[Action]) -> list[tuple[ActionKind, tuple[Action, ...]]]:
    """A wave's actions grouped by kind, in the wave's own order of kinds."""
    kinds: list[ActionKind] = []
    for action in wave:
        if action.kind not in kinds:
            kinds.append(action.kind)
    return [(kind, tuple(a for a in wave if a.kind is kind)) for kind in kinds]


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
    for wave in plan.waves():
        if failure is not None:
            for action in wave:
                record(Outcome(action, OutcomeStatus.SKIPPED, error=f"upstream failed: {failure}"))
            continue
        for kind, batch in batches(wave):
            started = clock()
            try:
                for attempt in retrying():
                    with attempt:
                        runner.perform(kind, batch)
            except ReconcilerError as exc:
                failure = str(exc)
                for action in batch:
                    record(Outcome(action, OutcomeStatus.FAILED, clock() - started, failure))
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
