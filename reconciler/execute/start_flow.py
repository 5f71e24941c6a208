"""A joined stage of starts, run as Compose's `start` runs: each service once its needs are met.

(Apply stage.)
Started wave by wave, a stage waits at each wave for its slowest start, and a stage
that ends at a dependency's health waits for every container of it. Compose's own
`start` walks the graph instead: a service goes as soon as each of its dependencies
meets its condition: started (its `docker start` returned), or healthy, or
completed (the health gate's own look sees it so). `start_flow` does the same for
the runner (reconciler/execute/runner.py): `needs` says, per service, which of its
dependencies in the stage it waits for and whether that wait is a look (`True`) or
only the start. A service something waits on starts alone (its end releases it),
and first: the ready ones nothing waits on start together once no such start is
under way (the daemon starts containers one at a time; a dependency started first is
healthy sooner), at most LIMIT starts at once. The
looks poll fast, then back off (`poll`, doubling to `max_poll`); `look` raises when a
dependency failed or took longer than the deadline it is given (its start plus
`wait_timeout`). After a failure nothing more is started; the starts under way end,
then the first error is raised (the executor lays it on its wave).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from reconciler.execute.stages import gated
from reconciler.planner.actions import Action
from state.errors import ReconcilerError
from state.model.desired import DesiredState

LIMIT = 32  # starts at once

Look = Callable[[Sequence[str], float], set[str]]  # (services, deadline) -> those ready


@dataclass(frozen=True)
class Pace:
    """The flow's time: its clock, how it sleeps when only looks are left, how often it looks."""

    clock: Callable[[], float]
    sleep: Callable[[float], None]
    wait_timeout: float
    poll: float = 0.1
    max_poll: float = 0.5


def groups_of(actions: Sequence[Action]) -> dict[str, list[str]]:
    """The container ids to start, per service, in the plan's order."""
    groups: dict[str, list[str]] = {}
    for action in actions:
        ids = groups.setdefault(action.service, [])
        if action.container_id:
            ids.append(action.container_id)
    return groups


def needs_of(desired: DesiredState, services: Sequence[str]) -> dict[str, dict[str, bool]]:
    """Per service, its dependencies and whether the gate looks before it goes."""
    known = desired.services
    return {
        name: {d.service: gated(desired, d) for d in known[name].depends_on}
        for name in services
        if name in known
    }


def start_flow(
    groups: Mapping[str, Sequence[str]],
    needs: Mapping[str, Mapping[str, bool]],
    start: Callable[[Sequence[str]], None],
    look: Look,
    pace: Pace,
) -> None:
    """Start every group (service -> its container ids), each once its `needs` are met."""
    pending = {
        s: {d: gated for d, gated in needs.get(s, {}).items() if d in groups} for s in groups
    }
    waited = {d for left in pending.values() for d, gated in left.items() if gated}
    started: dict[str, float] = {}  # service -> when its start returned
    looking: set[str] = set()  # started, waited for, not yet seen ready
    errors: list[ReconcilerError] = []

    def release(done: str, gated: bool) -> list[str]:
        ready = []
        for service, left in pending.items():
            if left.get(done) is gated:
                del left[done]
                if not left:
                    ready.append(service)
        for service in ready:
            del pending[service]
        return ready

    def launch(ready: list[str]) -> None:
        """What something waits on starts now, each alone (its end releases it); the
        rest together, once no such start is under way (the daemon starts one at a
        time: what is waited on goes first)."""
        held = {d for left in pending.values() for d in left}
        for service in ready:
            if service in held:
                future = pool.submit(start, groups[service])
                running[future] = [service]
                leading.add(future)
            else:
                later.append(service)
        if later and not leading & running.keys():
            running[pool.submit(start, [i for s in later for i in groups[s]])] = later[:]
            later.clear()

    ready = sorted(s for s, left in pending.items() if not left)
    for service in ready:
        del pending[service]
    interval, next_look = pace.poll, pace.clock()
    with ThreadPoolExecutor(max_workers=LIMIT, thread_name_prefix="start") as pool:
        running: dict[Future[None], list[str]] = {}
        leading: set[Future[None]] = set()  # the starts of what something waits on
        later: list[str] = []
        while True:
            if not errors:
                launch(ready)
            ready = []
            if not running and (errors or not looking):
                break
            finished = _next(running, looking, next_look, pace)
            for future in finished:
                services = running.pop(future)
                try:
                    future.result()
                except ReconcilerError as exc:
                    errors.append(exc)
                    continue
                for service in services:
                    started[service] = pace.clock()
                    ready += release(service, gated=False)
                    if service in waited:
                        looking.add(service)
                        interval, next_look = pace.poll, min(next_look, pace.clock())
            if looking and not errors and pace.clock() >= next_look:
                deadline = min(started[s] for s in looking) + pace.wait_timeout
                try:
                    seen = look(sorted(looking), deadline)
                except ReconcilerError as exc:
                    errors.append(exc)
                    continue
                for service in sorted(seen & looking):
                    looking.discard(service)
                    ready += release(service, gated=True)
                next_look = pace.clock() + interval
                interval = min(interval * 2, pace.max_poll)
        if pending and not errors:  # cannot happen for a stage's waves: a cycle in them
            raise ReconcilerError(f"start: waits that never end among {', '.join(sorted(pending))}")
    if errors:
        raise errors[0]


def _next(
    running: dict[Future[None], list[str]], looking: set[str], next_look: float, pace: Pace
) -> set[Future[None]]:
    """The starts that ended by the next look (all that end, when none is due)."""
    due = max(0.0, next_look - pace.clock()) if looking else None
    if not running:
        pace.sleep(due or 0.0)
        return set()
    try:
        finished, _ = wait(running, timeout=due, return_when=FIRST_COMPLETED)
    except BaseException:  # Ctrl-C or a stop signal: end the commands, not wait them out
        from state.process.bounded import end_running

        end_running()
        raise
    return finished
