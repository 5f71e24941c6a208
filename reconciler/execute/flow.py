"""A teardown plan run as a flow: each service goes once what waits on it is gone (apply stage).

A plan's waves keep its order, but a wave waits for its slowest action: one slow stop
holds back every stop of the next wave. Compose's `stop` and `down` walk the
dependency graph instead, a service as soon as its dependents are done; so does
`flow`, for the plans of `stop` and `down` (every action of one kind, STOP or REMOVE),
given who goes first (`waits`: service -> the services that must be gone before it,
reconciler/planner/ordering.py's teardown_waits). A service something waits on is one
batch for the runner (one `docker container stop` of its containers), performed with
the retry policy in a thread once the batches it waits on are done, at most LIMIT at
once; the services nothing waits on that are ready together go as one batch (their
ends release nothing: one process, not one each). A failed batch
skips what waits on it, directly or not ("upstream failed"); the rest goes on, as
nothing of it needs the failed one gone. Outcomes are recorded on the calling thread
as batches end. The order the waves show is kept: a service never goes before one its
wave comes after needs it gone.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence, Set
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from functools import partial

from reconciler.execute.executor import Runner, skipped
from reconciler.execute.outcome import ApplyResult, Outcome, OutcomeStatus
from reconciler.execute.retry import Policy, default_retrying, retried
from reconciler.planner.plan import TEARDOWN, Action, Plan
from state.errors import ReconcilerError

LIMIT = 32  # batches at once: Compose's own stop runs every ready service together


def flows(plan: Plan) -> bool:
    """Whether `plan` may run as a flow: it only stops, or only removes."""
    return len({a.kind for a in plan.actions}) == 1 and plan.actions[0].kind in TEARDOWN


def flow(
    plan: Plan,
    runner: Runner,
    waits: Mapping[str, Set[str]],
    *,
    retrying: Policy = default_retrying,
    on_outcome: Callable[[Outcome], None] = lambda outcome: None,
    clock: Callable[[], float] = time.monotonic,
    limit: int = LIMIT,
) -> ApplyResult:
    """Run a teardown plan (`flows(plan)`) service by service, each once what waits on
    it is done; the first failure (in the order batches end) is the result's error."""
    assert flows(plan), "only a plan of one teardown kind flows"
    kind = plan.actions[0].kind
    batches: dict[str, list[Action]] = {}
    for action in plan.actions:
        batches.setdefault(action.service, []).append(action)
    wave = {a.service: a.wave for a in plan.actions}
    # Only waits on an earlier wave count: the waves already cut a cycle in stray labels.
    pending = {s: {w for w in waits.get(s, ()) if wave.get(w, wave[s]) < wave[s]} for s in batches}
    outcomes: list[Outcome] = []
    failure: str | None = None

    def record(outcome: Outcome) -> None:
        outcomes.append(outcome)
        on_outcome(outcome)

    def perform(batch: Sequence[Action]) -> tuple[float, str | None]:
        started = clock()
        try:
            retried(partial(runner.perform, kind, batch), retrying)
        except ReconcilerError as exc:
            return clock() - started, str(exc)
        return clock() - started, None

    def release(done: str, failed: str | None) -> list[str]:
        """The services `done` held that may go now; those it blocks are skipped."""
        ready = []
        for service in sorted(pending):
            if service not in pending or done not in pending[service]:
                continue  # skipped meanwhile (below), or not held by `done`
            if failed is not None:
                del pending[service]
                for action in batches[service]:
                    record(skipped(action, failed))
                release(service, failed)  # and what waits on it, in turn
                continue
            pending[service].discard(done)
            if not pending[service]:
                del pending[service]
                ready.append(service)
        return ready  # none after a failure: what it held is skipped

    def launches(ready: list[str]) -> list[tuple[str, ...]]:
        """The ready services as batches: one each for those something waits on (their
        end releases it), and one for all the rest, which nothing waits on (as a wave:
        one process, not one per service)."""
        needed = set().union(*pending.values())
        alone = [(s,) for s in ready if s in needed]
        rest = tuple(s for s in ready if s not in needed)
        return alone + ([rest] if rest else [])

    ready = sorted(s for s, left in pending.items() if not left)
    for service in ready:
        del pending[service]
    with ThreadPoolExecutor(max_workers=limit, thread_name_prefix="teardown") as pool:
        running: dict[Future[tuple[float, str | None]], tuple[str, ...]] = {}
        while ready or running:
            for services in launches(ready):
                work = [a for s in services for a in batches[s]]
                running[pool.submit(perform, work)] = services
            ready = []
            try:
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
            except BaseException:  # Ctrl-C or a stop signal: end the commands, not wait them out
                from state.process.bounded import end_running

                end_running()
                raise
            for future in sorted(finished, key=lambda f: running[f]):
                services = running.pop(future)
                seconds, error = future.result()
                status = OutcomeStatus.DONE if error is None else OutcomeStatus.FAILED
                for service in services:
                    for action in batches[service]:
                        record(Outcome(action, status, seconds, error))
                    ready += release(service, error)
                failure = failure or error
    return ApplyResult(tuple(outcomes), failure)
