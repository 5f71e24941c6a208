"""Predicted unavailability: how long each action keeps its service from answering (plan stage).

Pure: the plan, the desired state and the seconds the history measured (read by the
commands from reconciler/store/history.py) in, a Prediction out. For each stop,
remove and recreate action:
- from history: the median of the service's last measured recreates (until ready),
  when the history has one;
- else from configuration: the stop (about 0.5 s with `init: true`, which passes
  SIGTERM to a process that handles it; else up to the stop grace period, Docker's
  10 s by default), plus about 3 s to create and start through Compose (measured
  here), plus, with a healthcheck, its first check (start_interval when set, else the
  interval; Docker's default 30 s).
A recreate after the plan's own stop of the container (restart) is not charged the
stop again. A start-first recreate (reconciler/planner/start_first.py) is ~0 s: the old
container serves until the new one is ready. Waves and the plan sum their actions'
seconds (service-seconds: parallel actions each count).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reconciler.planner.actions import Action, ActionKind, Plan
from state.model.desired import DesiredService, DesiredState

DOCKER_GRACE = 10.0  # docker stop's default grace period
DOCKER_INTERVAL = 30.0  # a healthcheck's default interval
INIT_STOP = 0.5  # a process that gets SIGTERM (init: true) stops about this fast
START = 3.0  # create and start a container through `compose up` (measured: 2.2-5.4 s)
SAMPLES = 5  # the last measured recreates a median is taken over
FROM_CONFIG = "from config"
START_FIRST = "start-first: the old container serves until the new one is ready"
_DOWNS = frozenset({ActionKind.STOP, ActionKind.REMOVE, ActionKind.RECREATE})


@dataclass(frozen=True)
class Guess:
    """One action's predicted unavailability and where it came from."""

    seconds: float
    source: str  # "from history (median of N)" or "from config"


@dataclass(frozen=True)
class Prediction:
    """Per action (by its index in plan.actions), per wave, in total."""

    actions: Mapping[int, Guess]
    waves: tuple[float, ...]
    total: float

    def of(self, plan: Plan, action: Action) -> Guess | None:
        return self.actions.get(plan.actions.index(action)) if action in plan.actions else None

    def per_service(self, plan: Plan) -> dict[str, tuple[float, str]]:
        """Each service's predicted seconds (its actions summed) and the first source."""
        found: dict[str, tuple[float, str]] = {}
        for index, guess in self.actions.items():
            service = plan.actions[index].service
            seconds, source = found.get(service, (0.0, guess.source))
            found[service] = (seconds + guess.seconds, source)
        return found


def stop_seconds(service: DesiredService | None) -> float:
    if service is not None and service.init:
        return INIT_STOP
    grace = service.stop_grace if service is not None else None
    return DOCKER_GRACE if grace is None else grace


def ready_seconds(service: DesiredService) -> float:
    if not service.has_healthcheck:
        return 0.0
    first = service.health_start_interval or service.health_interval
    return DOCKER_INTERVAL if first is None else first


def predict(
    desired: DesiredState | None,
    plan: Plan,
    measured: Mapping[str, Sequence[float]] | None = None,
) -> Prediction:
    """The plan's predicted unavailability; `measured`: per service, its measured
    recreates, newest first (reconciler/commands/receipts.py reads them)."""
    history = measured or {}
    services = desired.services if desired is not None else {}
    stopped: set[str] = set()
    guesses: dict[int, Guess] = {}
    for index, action in enumerate(plan.actions):
        if action.kind not in _DOWNS:
            continue
        spec = services.get(action.service)
        samples = list(history.get(action.service, ()))[:SAMPLES]
        if action.kind is ActionKind.RECREATE and action.start_first:
            guess = Guess(0.0, START_FIRST)
        elif action.kind is ActionKind.RECREATE and samples and action.container_id not in stopped:
            import statistics  # here: only a project with history needs it

            guess = Guess(statistics.median(samples), f"from history (median of {len(samples)})")
        elif action.kind is ActionKind.RECREATE:
            stop = 0.0 if action.container_id in stopped else stop_seconds(spec)
            ready = ready_seconds(spec) if spec is not None else 0.0
            guess = Guess(stop + START + ready, FROM_CONFIG)
        else:
            guess = Guess(stop_seconds(spec), FROM_CONFIG)
            if action.kind is ActionKind.STOP and action.container_id:
                stopped.add(action.container_id)
        guesses[index] = guess
    waves: dict[int, float] = {}
    for index, guess in guesses.items():
        wave = plan.actions[index].wave
        waves[wave] = waves.get(wave, 0.0) + guess.seconds
    numbers = sorted({a.wave for a in plan.actions})
    return Prediction(
        actions=guesses,
        waves=tuple(waves.get(n, 0.0) for n in numbers),
        total=sum(g.seconds for g in guesses.values()),
    )
