"""`reconcile watch`: the self-healing loop of reconciler/watch/loop.py wired to the real parts.

Each pass resolves the project again (an edited .env may name another APP_ENV) and
runs the usual pipeline through converge.preview / converge.apply, whose renderers
print the plan and the outcome. Engine events come from state/docker/events.py (a
thread feeds a queue), input changes from polling the digests of the env file, the
environment table and every compose file it names, once a second: a handful of small
files, so no file-watching library is needed. The lock is taken by converge.apply for
the length of one pass only, with no wait (--lock-timeout, default 0 here): a busy
lock defers the pass, it never fails the watch.

Stopping: SIGINT (Ctrl-C) exits 130, SIGTERM exits 0 (a requested stop, as service
managers send it); either interrupts a running pass the way killing `reconcile` does
(its engine calls are ended, the lock released), and the next run converges from there.
"""

from __future__ import annotations

import dataclasses
import queue
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any

import click

from reconciler.cli.options import (
    apply_options,
    option,
    planning,
    project_of,
    project_options,
    settings_from,
)
from reconciler.commands import converge
from reconciler.execute.swarm_runner import on_swarm
from reconciler.planner.plan import Strategy
from reconciler.reads.content import attach
from reconciler.reads.pipeline import ProjectOptions, open_project
from reconciler.render import plans
from reconciler.store.lock import LockBusy
from reconciler.watch.inputs import InputFiles, input_paths
from reconciler.watch.loop import Kind, Result, Timing, Trigger, Watch, plan_key
from state.docker.events import pump
from state.engine import Engine
from state.errors import ReconcilerError
from state.model.desired import DesiredState
from state.resolve.project import ComposeProject

EXIT_BY_SIGNAL = {signal.SIGINT: 130, signal.SIGTERM: 0}
EngineFactory = Callable[[ComposeProject | None], Engine]


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

    def __init__(self) -> None:
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
            target=pump,
            args=(project, self.queue.put, self._stop),
            kwargs={"started": self._streams.append},
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
    engines: EngineFactory
    settings: converge.ApplySettings
    say: Callable[[str], None]
    on_project: Callable[[ComposeProject, DesiredState | None], None]

    def _open(self) -> tuple[ComposeProject, Engine]:
        project, engine = attach(open_project(self.options), self.engines)  # content labels
        self.on_project(project, None)
        return project, engine

    def preview(self) -> Result:
        try:
            project, engine = self._open()
            snap = converge.preview(engine, project, Strategy.CHANGED)
            self.on_project(project, snap.desired)
        except ReconcilerError as exc:
            return Result(Kind.FAILED, (("error", str(exc)),), f"cannot plan: {exc}")
        text = plans.plan_text(snap)
        kind = Kind.CONVERGED if snap.plan.is_empty else Kind.PENDING
        return Result(kind, plan_key(snap), plan_text=text)

    def apply(self) -> Result:
        applied: list[Any] = []
        try:
            project, engine = self._open()
            converge.apply(engine, project, self.settings, self.say, report=applied.append)
        except LockBusy as exc:
            return Result(Kind.BUSY, detail=str(exc).split("; wait for it")[0])
        except ReconcilerError as exc:
            if not applied:
                return Result(Kind.FAILED, (("error", str(exc)),), str(exc))
            first = applied[-1].first
            self.on_project(project, first.desired)
            return Result(Kind.FAILED, plan_key(first), str(exc), plans.plan_text(first))
        first = applied[-1].first
        self.on_project(project, first.desired)
        kind = Kind.CONVERGED if first.plan.is_empty else Kind.APPLIED
        return Result(kind, plan_key(first), plan_text=plans.plan_text(first))


def run_watch(
    options: ProjectOptions,
    engines: EngineFactory,
    settings: converge.ApplySettings,
    timing: Timing,
    *,
    plan_only: bool,
    say: Callable[[str], None],
) -> int:
    """Watch until SIGINT (exit 130) or SIGTERM (exit 0). Bad input at the start is a
    one-line error before anything runs; later, it is one failed pass."""
    project = open_project(options)
    if on_swarm(engines(project)):
        raise ReconcilerError(
            f"reconcile watch follows the local engine's events; {project.app_env.name} runs "
            "on a swarm, which reschedules failed tasks itself: run `reconcile` there, or "
            "pass --backend compose"
        )
    feed, inputs = EventFeed(), InputFiles(project.directory)

    def on_project(resolved: ComposeProject, desired: DesiredState | None = None) -> None:
        feed.follow(resolved.name)
        if desired is not None or not inputs.digests:
            inputs.follow(input_paths(resolved, desired))

    loop = Watch(
        PipelinePasses(options, engines, settings, say, on_project),
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


@click.command()
@click.option(
    "--plan-only",
    "--plan",
    "plan_only",
    is_flag=True,
    default=None,
    help="Only show each pass's plan; change nothing and never take the lock.",
)
@click.option(
    "--backoff",
    type=click.FloatRange(min=0.1),
    default=Timing.backoff_base,
    envvar="RECONCILE_WATCH_BACKOFF",
    show_default=True,
    help="Seconds to wait before retrying a plan that failed; doubles on each repeat.",
)
@click.option(
    "--backoff-max",
    type=click.FloatRange(min=0.1),
    default=Timing.backoff_cap,
    envvar="RECONCILE_WATCH_BACKOFF_MAX",
    show_default=True,
    help="The longest wait between two attempts of the same failing plan.",
)
@project_options
@apply_options
@click.pass_context
def watch(ctx: click.Context, /, backoff: float, backoff_max: float, **params: Any) -> int:
    """Keep the stack at APP_ENV: re-plan and apply whenever it drifts, until Ctrl-C.

    A pass runs when a container of the project stops, dies or is removed, and when
    .env, compose/environments.toml, a compose file or a content file a service uses
    changes (bursts make one pass).
    Each pass prints why it ran, the plan, and the outcome. A plan that keeps failing
    is retried after --backoff seconds, doubling up to --backoff-max; a different
    plan or an input change retries at once. The lock is held only during a pass: a
    pass that finds another reconcile running waits for the next one. Exit 130 on
    Ctrl-C (SIGINT), 0 on SIGTERM.
    """
    # As `reconcile` applies (rollback included, --no-rollback honoured); no lock wait.
    settings = dataclasses.replace(
        settings_from(ctx, params), lock_timeout=option(ctx, params, "lock_timeout", 0.0)
    )
    timing = Timing(backoff_base=backoff, backoff_cap=max(backoff, backoff_max))
    return run_watch(
        project_of(ctx, params),
        _engines(ctx),
        settings,
        timing,
        plan_only=planning(ctx, params),
        say=click.echo,
    )


for _param in watch.params:  # the same option as everywhere, another default here
    if _param.name == "lock_timeout" and isinstance(_param, click.Option):
        _param.help = "Seconds a pass waits for another reconcile (default 0: the next pass)."


def _engines(ctx: click.Context) -> EngineFactory:
    """The engine port per project, from the one place that wires in the Docker adapter
    (imported here, not at the top: reconciler/cli/main.py imports this module)."""
    from reconciler.cli.main import engine_for

    return lambda project: engine_for(ctx, project)
