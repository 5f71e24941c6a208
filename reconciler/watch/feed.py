"""The watch wired to the real parts: its passes, its event feed, its signals.

Each pass opens the project again (reconciler/reads/opened.py: an edited .env may name
another APP_ENV) and runs the usual pipeline through converge.preview / converge.apply,
whose renderers print the plan and the outcome. Engine events come from the engine's
event stream (state/docker/events.py, in a thread feeding a queue), input changes from
polling the digests of the env file, the environment table and every compose file it
names, once a second (reconciler/watch/inputs.py). The lock is taken by converge.apply
for the length of one pass only, with no wait (--lock-timeout, default 0 here): a busy
lock defers the pass, it never fails the watch.

Stopping: SIGINT (Ctrl-C) exits 130, SIGTERM exits 0 (a requested stop, as service
managers send it); either interrupts a running pass the way killing `reconcile` does
(its engine calls are ended, the lock released), and the next run converges from there.
The click command is reconciler/cli/watch.py.
"""

from __future__ import annotations

import queue
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any, Protocol, runtime_checkable

from reconciler.commands import converge
from reconciler.planner.plan import Strategy
from reconciler.reads.backend import Kits
from reconciler.reads.opened import Opened, ProjectOptions, open_project
from reconciler.render import plans
from reconciler.store.lock import LockBusy
from reconciler.watch.inputs import InputFiles, input_paths
from reconciler.watch.loop import Kind, PlanKey, Result, Timing, Trigger, Watch, plan_key
from state.docker.events import ContainerEvent, StreamLost
from state.errors import ReconcilerError
from state.model.desired import DesiredState
from state.resolve.project import ComposeProject

EXIT_BY_SIGNAL = {signal.SIGINT: 130, signal.SIGTERM: 0}


@runtime_checkable
class EventSource(Protocol):
    """An engine whose container events can be followed (the Docker adapter)."""

    def follow_events(
        self,
        project: str,
        put: Callable[[ContainerEvent | StreamLost], None],
        stop: threading.Event,
        started: Callable[[Any], None],
    ) -> None: ...


class Stopped(BaseException):
    """A stop signal arrived (BaseException: no `except Exception` may swallow it)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextmanager
def stopping_on_signals() -> Iterator[None]:
    """SIGINT and SIGTERM raise Stopped in the main thread while the watch runs."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise Stopped(signum)

    previous = {sig: signal.signal(sig, handler) for sig in EXIT_BY_SIGNAL}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


class EventFeed:
    """The project's engine events, from a `docker events` thread into a queue."""

    def __init__(self, source: EventSource) -> None:
        self.source = source
        self.queue: queue.Queue[Trigger] = queue.Queue()
        self.project: str | None = None
        self._stop = threading.Event()
        self._streams: list[Any] = []
        self._thread: threading.Thread | None = None

    def follow(self, project: str) -> None:
        if project == self.project:
            return
        self.close()
        self.project, self._stop = project, threading.Event()
        self._thread = threading.Thread(
            target=self.source.follow_events,
            args=(project, self.queue.put, self._stop, self._streams.append),
            name=f"docker-events-{project}",
            daemon=True,
        )
        self._thread.start()

    def get(self, timeout: float) -> Trigger | None:
        try:
            return self.queue.get(timeout=timeout) if timeout > 0 else self.queue.get_nowait()
        except queue.Empty:
            return None

    def close(self) -> None:
        self._stop.set()
        for stream in self._streams:
            stream.close()
        self._streams.clear()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


@dataclass
class PipelinePasses:
    """The watch's passes on the real pipeline: converge.preview and converge.apply."""

    options: ProjectOptions
    kits: Kits
    settings: converge.ApplySettings
    say: Callable[[str], None]
    on_project: Callable[[ComposeProject, DesiredState | None], None]
    _told: PlanKey | None = None  # the drift last told to the notifier by a preview

    def _open(self) -> Opened:
        opened = open_project(self.options, self.kits, "watch")
        self.on_project(opened.project, None)
        return opened

    def preview(self) -> Result:
        try:
            opened = self._open()
            snap = converge.preview(opened, Strategy.CHANGED)
            self.on_project(opened.project, snap.desired)
        except ReconcilerError as exc:
            return Result(Kind.FAILED, (("error", str(exc)),), f"cannot plan: {exc}")
        text, key = plans.plan_text(snap), plan_key(snap)
        kind = Kind.CONVERGED if snap.plan.is_empty else Kind.PENDING
        if kind is Kind.PENDING and key != self._told:  # --plan-only: drift, told once
            converge.drift_found(opened, snap, self.settings, self.say)
        self._told = key if kind is Kind.PENDING else None
        return Result(kind, key, plan_text=text)

    def apply(self) -> Result:
        applied: list[Any] = []
        try:
            opened = self._open()
            converge.apply(opened, self.settings, self.say, report=applied.append)
        except LockBusy as exc:
            return Result(Kind.BUSY, detail=exc.who)
        except ReconcilerError as exc:
            if not applied:
                return Result(Kind.FAILED, (("error", str(exc)),), str(exc))
            first = applied[-1].first
            self.on_project(opened.project, first.desired)
            return Result(Kind.FAILED, plan_key(first), str(exc), plans.plan_text(first))
        first = applied[-1].first
        self.on_project(opened.project, first.desired)
        kind = Kind.CONVERGED if first.plan.is_empty else Kind.APPLIED
        return Result(kind, plan_key(first), plan_text=plans.plan_text(first))


def run_watch(
    options: ProjectOptions,
    kits: Kits,
    settings: converge.ApplySettings,
    timing: Timing,
    *,
    plan_only: bool,
    say: Callable[[str], None],
) -> int:
    """Watch until SIGINT (exit 130) or SIGTERM (exit 0). Bad input at the start is a
    one-line error before anything runs; later, it is one failed pass."""
    opened = open_project(options, kits, "watch")
    project = opened.project
    if not opened.kit.watchable or not isinstance(opened.engine, EventSource):
        raise ReconcilerError(
            f"reconcile watch follows the local engine's events; {project.app_env.name} runs "
            "on a swarm, which reschedules failed tasks itself: run `reconcile` there, or "
            "pass --backend compose"
        )
    feed, inputs = EventFeed(opened.engine), InputFiles(project.directory)

    def on_project(resolved: ComposeProject, desired: DesiredState | None = None) -> None:
        feed.follow(resolved.name)
        if desired is not None or not inputs.digests:
            inputs.follow(input_paths(resolved, desired))

    loop = Watch(
        PipelinePasses(options, kits, settings, say, on_project),
        feed.get,
        inputs.changes,
        say,
        timing,
        plan_only=plan_only,
    )
    mode = "planning only" if plan_only else "applying"
    say(
        f"Watching project {project.name} ({project.app_env}; {mode}): engine events and "
        f"{', '.join(inputs.shown(p) for p in input_paths(project))}. Ctrl-C stops."
    )
    return serve(loop, lambda: on_project(project), feed.close, say)


def serve(
    loop: Watch, start: Callable[[], None], close: Callable[[], None], say: Callable[[str], None]
) -> int:
    """Run `loop` until SIGINT (130) or SIGTERM (0), then `close` the event feed."""
    signum: int = signal.SIGTERM  # only for a loop that ends by itself (tests)
    with stopping_on_signals():
        try:
            start()
            loop.run()
        except Stopped as stop:
            signum = stop.signum
        finally:
            close()
    name = signal.Signals(signum).name
    say(f"\n[{loop.stamp()}] {name}: stopped after {loop.passes_run} pass(es).")
    return EXIT_BY_SIGNAL[signal.Signals(signum)]
