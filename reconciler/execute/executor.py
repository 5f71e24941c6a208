"""Apply: execute a Plan wave by wave (the apply stage).

A generic executor: it knows the plan's order and the retry policy, not Docker. The
Runner it is handed performs one batch (the actions of one kind in one wave, which
are independent and go to the engine together) and settles a wave (the health gate).
A runner may let actions of later waves join a wave's stage (`Joining`) when nothing
they depend on needs the gate first: then one `compose up` (which orders by
depends_on itself) and one gate serve several waves, and what depends only on
services without a healthcheck does not wait for the health of unrelated ones;
while a stage waits for health, the runner may create later containers (`Preparing`).
When a batch fails, every later wave is skipped as "upstream failed": later waves
hold what depends on earlier ones (a joined batch that failed is performed again wave
by wave, to lay the failure on its wave). Each action ends in a frozen Outcome.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Protocol, runtime_checkable

from reconciler.execute.outcome import ApplyResult, Outcome, OutcomeStatus
from reconciler.execute.retry import Policy, default_retrying, retried
from reconciler.execute.stages import Stage, by_service, by_wave
from reconciler.planner.plan import TEARDOWN, Action, ActionKind, Plan
from state.errors import ReconcilerError
from state.process.concurrent import together


class Runner(Protocol):
    def perform(self, kind: ActionKind, actions: Sequence[Action]) -> None:
        """Carry out independent actions of one kind; raise ReconcilerError on failure."""
        ...

    def settle(self, actions: Sequence[Action]) -> None:
        """Return once what the wave brought up is ready; raise ReconcilerError if it never is."""
        ...


@runtime_checkable
class Joining(Protocol):
    def stage(self, wave: Sequence[Action]) -> Stage | None:
        """A stage starting with `wave` that later actions may join (reconciler/execute/stages.py),
        or None when nothing may join it. A stage spanning waves is performed as one
        batch of its strongest kind (RECREATE over CREATE; or START, in wave order)."""
        ...


def stages(waves: Sequence[Sequence[Action]], runner: object) -> list[tuple[Action, ...]]:
    """The plan's waves, each with the actions of later waves that may join it, where
    the runner says so (a runner that cannot join need not say: a stage per wave)."""
    pending = [list(wave) for wave in waves]
    found: list[tuple[Action, ...]] = []
    for index, wave in enumerate(pending):
        if not wave:
            continue  # every action of it joined an earlier stage
        forming = runner.stage(wave) if isinstance(runner, Joining) else None
        if forming is None:
            found.append(tuple(wave))
            continue
        for later in pending[index + 1 :]:
            staying: list[Action] = []
            for group in by_service(later):
                if forming.admits(group):
                    forming.add(group)
                else:
                    staying += group
            later[:] = staying
            forming.hold(staying)
        found.append(tuple(forming.actions))
    return found


def batches(stage: Sequence[Action]) -> list[tuple[ActionKind, tuple[Action, ...]]]:
    """A stage's actions grouped by kind, in the stage's own order of kinds; a stage
    spanning waves is one batch of its strongest kind."""
    if len({a.wave for a in stage}) > 1:
        recreates = any(a.kind is ActionKind.RECREATE for a in stage)
        return [(ActionKind.RECREATE if recreates else stage[0].kind, tuple(stage))]
    kinds: list[ActionKind] = []
    for action in stage:
        if action.kind not in kinds:
            kinds.append(action.kind)
    return [(kind, tuple(a for a in stage if a.kind is kind)) for kind in kinds]


@runtime_checkable
class Preparing(Protocol):
    def prepare(self, stage: Sequence[Action], later: Sequence[Sequence[Action]]) -> None:
        """Get the `later` stages ready while `stage` is settled (in another thread); a
        failure here must not fail the apply: the later actions do the work anyway."""
        ...


def _settle(
    runner: Runner, brought_up: Sequence[Action], later: Sequence[Sequence[Action]]
) -> None:
    """The gate; meanwhile a runner that can gets the later stages ready."""
    if later and isinstance(runner, Preparing):
        together(lambda: runner.settle(brought_up), lambda: runner.prepare(brought_up, later))
    else:
        runner.settle(brought_up)


def skipped(action: Action, failure: str) -> Outcome:
    return Outcome(action, OutcomeStatus.SKIPPED, error=f"upstream failed: {failure}")


Record = Callable[[Outcome], None]


def _perform(
    stage: Sequence[Action],
    runner: Runner,
    retrying: Policy,
    record: Record,
    clock: Callable[[], float],
) -> str | None:
    """Carry out a stage's batches; the first failure, if one failed. A batch of several
    waves that failed is performed again wave by wave (what its first try did is found
    done: each call converges), so the failure falls on the wave that has it and the
    waves after it are skipped, as when they were not joined. The later batches of a
    service whose batch failed are skipped too: Compose's `up` of a service touches all
    its containers, the failed one included."""
    failure: str | None = None
    failed: set[str] = set()
    for kind, batch in batches(stage):
        started = clock()
        blocked = [a for a in batch if a.service in failed]
        for action in blocked:
            record(skipped(action, failure or ""))
        batch = tuple(a for a in batch if a.service not in failed)
        if not batch:
            continue
        try:
            retried(partial(runner.perform, kind, batch), retrying)
        except ReconcilerError as exc:
            failed.update(a.service for a in batch)
            waves = by_wave(batch)
            if len(waves) > 1:
                failure = failure or _perform_waves(waves, runner, retrying, record, clock)
                continue
            failure = failure or str(exc)
            for action in batch:
                record(Outcome(action, OutcomeStatus.FAILED, clock() - started, str(exc)))
            continue
        seconds = clock() - started
        for action in batch:
            record(Outcome(action, OutcomeStatus.DONE, seconds))
    return failure


def _perform_waves(
    waves: Sequence[Sequence[Action]],
    runner: Runner,
    retrying: Policy,
    record: Record,
    clock: Callable[[], float],
) -> str | None:
    failure = None
    for wave in waves:
        if failure is not None:
            for action in wave:
                record(skipped(action, failure))
        else:
            failure = _perform(wave, runner, retrying, record, clock)
    return failure


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
    found = stages(plan.waves(), runner)
    for index, stage in enumerate(found):
        if failure is not None:
            for action in stage:
                record(skipped(action, failure))
            continue
        failure = _perform(stage, runner, retrying, record, clock)
        if failure is None:
            brought_up = [a for a in stage if a.kind not in TEARDOWN]
            if brought_up:
                try:  # a daemon blip while waiting is retried as any engine call is
                    retried(partial(_settle, runner, brought_up, found[index + 1 :]), retrying)
                except ReconcilerError as exc:
                    failure = str(exc)
    return ApplyResult(tuple(outcomes), failure)
