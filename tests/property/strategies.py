"""Hypothesis strategies: generated desired states and the worlds they meet.

Desired states draw services from a small pool, with depends_on as a DAG (a service
may only depend on services drawn before it), replicas 0-3, random hashes, images,
healthchecks, the restart flag, the condition (`service_started`, `service_healthy`,
`service_completed_successfully`: one-shots, which the in-memory engine runs to their
end at once) and active profiles (a known service left out is one a profile turns
off). Worlds are built to reach the hard cases (tests/property/test_distribution.py
measures it): half of them start from the project as Compose left it (every
replica, sometimes with a gap in the numbers), and then container seeds are added:
missing, extra, stopped (exit code 0 or 1), dead, restarting, paused and created
containers, leftovers of a killed recreate (`<id12>_<name>`), duplicates, wrong
APP_ENV, stale hashes, no hash label, stale images, containers of services in no
compose file, one-offs and other projects' containers. The engine may run failing
one-shots and failing healthchecks, and the health gate may be on (`engine.gate`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from hypothesis import strategies as st

from state.engine import ContainerStatus
from state.model.desired import Dependency, DesiredService, DesiredState
from state.resolve.appenv import ResolvedAppEnv, Source
from tests.memory_engine import MemoryEngine

PROJECT = "spot"
POOL = ("db", "api", "web", "worker", "cache", "mail")
GHOSTS = ("ghost", "old-tool")
ENVS = ("prod", "dev", "test")
IMAGES = ("sha256:img-a", "sha256:img-b")
CONDITIONS = ("service_started", "service_healthy", "service_completed_successfully")
PROFILES = ((), ("dev",), ("test",), ("dev", "test"))
FATES: tuple[ContainerStatus | str, ...] = (
    *[ContainerStatus.RUNNING] * 5,
    ContainerStatus.PAUSED,
    ContainerStatus.DEAD,
    ContainerStatus.RESTARTING,
    ContainerStatus.EXITED,
    "stale",
    "old-image",
    "other-env",
)
STATUSES = tuple(s for s in ContainerStatus if s is not ContainerStatus.REMOVING)


@st.composite
def desired_states(
    draw: st.DrawFn, env: str | None = None, allow_restart: bool = True
) -> DesiredState:
    names = draw(st.lists(st.sampled_from(POOL), unique=True, max_size=len(POOL)))
    env = env or draw(st.sampled_from(ENVS))
    services = []
    for index, name in enumerate(names):
        deps = (
            draw(st.lists(st.sampled_from(names[:index]), unique=True, max_size=2)) if index else []
        )
        healthcheck = draw(st.booleans())
        services.append(
            DesiredService(
                name=name,
                image=f"{name}:local",
                image_id=draw(st.sampled_from(IMAGES)),
                config_hash=f"{name}-{env}-{draw(st.sampled_from('xy'))}",
                depends_on=tuple(
                    Dependency(
                        service=d,
                        restart=allow_restart and draw(st.booleans()),
                        condition=draw(st.sampled_from(CONDITIONS)),
                    )
                    for d in deps
                ),
                app_env=env,
                replicas=draw(st.sampled_from((1, 1, 1, 2, 3, 0))),
                has_healthcheck=healthcheck,
                volumes=(f"{name}-data",) if draw(st.booleans()) else (),
                # start-first recreates (reconciler/planner/start_first.py) for some
                update_order=draw(st.sampled_from((None, None, "start-first"))),
            )
        )
    known = set(names) | set(draw(st.lists(st.sampled_from(POOL), max_size=3)))
    return DesiredState(
        project=PROJECT,
        app_env=ResolvedAppEnv(name=env, source=Source.DEFAULT),
        profiles=draw(st.sampled_from(PROFILES)),
        services={s.name: s for s in services},
        known_services=frozenset(known),
    )


@dataclass(frozen=True)
class Seed:
    """One container put into the world before the reconciler looks."""

    service: str
    number: int
    status: ContainerStatus
    app_env: str | None  # None: the desired one
    config_hash: str | None  # "": the desired one; None: no label (not made by Compose)
    stale_image: bool
    project: str
    oneoff: bool
    exit_code: int = 0  # an exited one-shot: completed, or failed
    half_renamed: bool = False  # the leftover of a recreate killed midway


def seeds(desired: DesiredState) -> st.SearchStrategy[list[Seed]]:
    seed = st.builds(
        Seed,
        service=st.sampled_from(POOL + GHOSTS),
        number=st.integers(1, 4),
        status=st.sampled_from(STATUSES),
        app_env=st.one_of(st.none(), st.sampled_from(ENVS)),
        config_hash=st.sampled_from(("", "", "", "stale", None)),
        stale_image=st.booleans(),
        project=st.sampled_from((PROJECT, PROJECT, PROJECT, "other")),
        oneoff=st.sampled_from((False, False, False, True)),
        exit_code=st.sampled_from((0, 0, 1)),
        half_renamed=st.sampled_from((False, False, False, True)),
    )
    return st.lists(seed, max_size=8)


@st.composite
def as_compose_left_it(
    draw: st.DrawFn, desired: DesiredState, fates: tuple[ContainerStatus | str, ...] = ()
) -> list[Seed]:
    """Every replica of every wanted service, numbered 1..n or with a gap (a scaled
    service whose middle replica was removed, Compose numbering on); most in sync, some
    paused, dead, restarting, stopped, with a stale configuration, an image rebuilt
    since, or another APP_ENV under the same config hash."""
    planted = []
    for name, spec in sorted(desired.services.items()):
        numbers = list(range(1, spec.replicas + 1))
        if spec.replicas > 1 and draw(st.booleans()):
            numbers[-1] += 1  # the gap: 1, 3 (or 1, 2, 4)
        for n in numbers:
            fate = draw(st.sampled_from(fates or FATES))
            status = fate if isinstance(fate, ContainerStatus) else ContainerStatus.RUNNING
            config_hash = "stale" if fate == "stale" else ""
            other = next(e for e in ENVS if e != spec.app_env)
            app_env = other if fate == "other-env" else None  # same config hash, other env
            old_image = fate == "old-image"  # rebuilt since: same hash, another image
            planted.append(Seed(name, n, status, app_env, config_hash, old_image, PROJECT, False))
    return planted


def world(desired: DesiredState, planted: list[Seed]) -> MemoryEngine:
    """A fresh in-memory engine holding the seeded containers."""
    engine = MemoryEngine(desired, probed_health=True)
    for s in planted:
        spec = desired.services.get(s.service)
        deps = [d.service for d in spec.depends_on] if spec else list(POOL[:1])
        container = engine.add(
            s.service,
            s.number,
            project=s.project,
            status=s.status,
            app_env=s.app_env,
            config_hash=s.config_hash,
            oneoff=s.oneoff,
            depends_on=deps,
            image_id="sha256:stale" if s.stale_image else None,
            exit_code=s.exit_code,
        )
        if s.half_renamed:
            container.name = f"{int(container.id[1:]):012x}_{container.name}"
            engine.disturb_status(container.id, ContainerStatus.EXITED)
    engine.found()
    return engine


@st.composite
def worlds(draw: st.DrawFn, hard: bool = False) -> tuple[DesiredState, MemoryEngine]:
    """A desired state and a seeded world for it. `hard`: the engine may also run a
    failing one-shot and a failing healthcheck, and the health gate may be on."""
    desired = draw(desired_states())
    edges = sorted(
        d.service
        for s in desired.services.values()
        for d in s.depends_on
        if d.restart and s.replicas and desired.services[d.service].replicas
    )
    focus = draw(st.booleans())
    if edges and focus:
        # In sync but for one changed dependency of a `restart: true` dependent.
        changed = draw(st.sampled_from(edges))
        planted = [
            replace(s, config_hash="stale") if s.service == changed and s.number == 1 else s
            for s in draw(as_compose_left_it(desired, fates=(ContainerStatus.RUNNING,)))
        ]
        engine = world(desired, planted)
    else:
        base = draw(as_compose_left_it(desired)) if draw(st.sampled_from((1, 1, 0))) else []
        engine = world(desired, base + draw(seeds(desired)))
    if hard:
        once = sorted(
            {
                d.service
                for s in desired.services.values()
                for d in s.depends_on
                if d.condition == "service_completed_successfully"
            }
        )
        checked = sorted(n for n, s in desired.services.items() if s.has_healthcheck)
        fail_run, fail_health = draw(st.booleans()), draw(st.booleans())
        if once and fail_run:
            engine.failing_runs = {draw(st.sampled_from(once))}
        if checked and fail_health:
            engine.failing_health = {draw(st.sampled_from(checked))}
            for container in engine.containers_by_id.values():
                if container.service in engine.failing_health and container.health:
                    container.health = "unhealthy"
        engine.gate = draw(st.booleans())
    return desired, engine
