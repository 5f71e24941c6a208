"""Apply: execute a Plan wave by wave (the apply stage).

A generic executor: it knows the plan's order and the retry policy, not Docker. The
Runner it is handed performs one batch (the actions of one kind in one wave, which
are independent and go to the engine together) and settles a wave (the health gate).
When a batch fails, every later wave is skipped as "upstream failed": later waves
hold what depends on earlier ones. Each action ends in a frozen Outcome.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from reconciler.plan import Action, ActionKind, Plan
from state.errors import ReconcilerError, TransientError

log = logging.getLogger(__name__)


class OutcomeStatus(enum.StrEnum):
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Outcome:
    """What happened to one action."""

    action: Action
    status: OutcomeStatus
    seconds: float = 0.0
    error: str | None = None


class Runner(Protocol):
    def perform(self, kind: ActionKind, actions: Sequence[Action]) -> None:
        """Carry out independent actions of one kind; raise ReconcilerError on failure."""
        ...

    def settle(self, actions: Sequence[Action]) -> None:
        """Return once what the wave brought up is ready; raise ReconcilerError if it never is."""
        ...


def default_retrying(attempts: int = 4, max_wait: float = 4.0) -> Retrying:
    """Transient engine errors only: bounded, exponential, each retry logged."""

    def log_retry(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        delay = state.next_action.sleep if state.next_action else 0.0
        log.warning(
            "transient engine error (attempt %d of %d), retrying in %.1f s: %s",
            state.attempt_number,
            attempts,
            delay,
            error,
        )

    return Retrying(
        retry=retry_if_exception_type(TransientError),
        stop=stop_after_attempt(attempts),
        wait=wait_exponential(multiplier=0.5, max=max_wait),
        before_sleep=log_retry,
        reraise=True,
    )


def batches(wave: Sequence[Action]) -> list[tuple[ActionKind, tuple[Action, ...]]]:
    """A wave's actions grouped by kind, in the wave's own order of kinds."""
    kinds: list[ActionKind] = []
    for action in wave:
        if action.kind not in kinds:
            kinds.append(action.kind)
    return [(kind, tuple(a for a in wave if a.kind is kind)) for kind in kinds]


@dataclass(frozen=True)
class ApplyResult:
    """Every action's outcome, and the first failure (of a batch or of the health gate)."""

    outcomes: tuple[Outcome, ...]
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def execute(
    plan: Plan,
    runner: Runner,
    *,
    retrying: Callable[[], Retrying] = default_retrying,
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
            brought_up = [a for a in wave if a.kind is not ActionKind.REMOVE]
            if brought_up:
                try:
                    runner.settle(brought_up)
                except ReconcilerError as exc:
                    failure = str(exc)
    return ApplyResult(tuple(outcomes), failure)
