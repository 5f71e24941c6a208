"""Hypothesis strategies: generated desired states and the worlds they meet.

Desired states draw services from a small pool, with depends_on as a DAG (a service
may only depend on services drawn before it), replicas 0-3, random hashes, images,
healthchecks, the restart flag and the condition (some `service_completed_successfully`:
one-shots, which the in-memory engine runs to completion at once). Worlds are lists
of container seeds for the in-memory engine: missing, extra, stopped (exit code 0 or
1), dead, restarting, paused and created containers, duplicates, wrong APP_ENV, stale
hashes, no hash label, stale images, containers of services in no compose file,
one-offs and other projects' containers.
"""

from __future__ import annotations

from dataclasses import dataclass

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
CONDITIONS = ("service_started", "service_started", "service_completed_successfully")
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
                has_healthcheck=draw(st.booleans()),
                volumes=(f"{name}-data",) if draw(st.booleans()) else (),
            )
        )
    known = set(names) | set(draw(st.lists(st.sampled_from(POOL), max_size=3)))
    return DesiredState(
        project=PROJECT,
        app_env=ResolvedAppEnv(name=env, source=Source.DEFAULT),
        profiles=(),
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
    )
    return st.lists(seed, max_size=12)


def world(desired: DesiredState, planted: list[Seed]) -> MemoryEngine:
    """A fresh in-memory engine holding the seeded containers."""
    engine = MemoryEngine(desired)
    for s in planted:
        spec = desired.services.get(s.service)
        deps = [d.service for d in spec.depends_on] if spec else list(POOL[:1])
        engine.add(
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
    return engine


@st.composite
def worlds(draw: st.DrawFn) -> tuple[DesiredState, MemoryEngine]:
    """A desired state and a seeded world for it."""
    desired = draw(desired_states())
    return desired, world(desired, draw(seeds(desired)))
