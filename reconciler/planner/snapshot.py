"""What a command saw and planned: values between the commands and the renderer.

Snapshot (desired and observed state, and the plan between them), Teardown (stop,
down) and Unknown (status without a desired state). Commands build them, the renderer
shows them (desire/observe -> plan -> render); what an apply did is
reconciler/execute/outcome.py's Applied. No engine code here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from reconciler.planner.downtime import Prediction
from reconciler.planner.guards import Guard
from reconciler.planner.plan import Plan
from state.model.desired import DesiredState
from state.model.observed import ObservedState
from state.resolve.appenv import ResolvedAppEnv


@dataclass(frozen=True)
class Snapshot:
    """Desired and observed state at one moment, and the plan between them."""

    desired: DesiredState
    observed: ObservedState
    plan: Plan
    guard: Guard | None = None  # the guardrails' verdict, when one was asked for
    downtime: Prediction | None = None  # predicted unavailability (planner/downtime.py)


@dataclass(frozen=True)
class Teardown:
    """What `stop` or `down` does (or, with --plan, would do): the plan for the project's
    containers and, for `down`, its networks and volumes."""

    command: str
    project: str
    observed: ObservedState
    plan: Plan
    networks: tuple[str, ...] = ()  # to remove
    kept_networks: tuple[str, ...] = ()  # still used by one-off containers
    volumes: tuple[str, ...] = ()  # to remove: `down --volumes` only
    kept_volumes: tuple[str, ...] = ()
    guard: Guard | None = None
    # service -> the services to be gone before it (reconciler/execute/flow.py)
    waits: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return self.plan.is_empty and not self.networks and not self.volumes


@dataclass(frozen=True)
class Unknown:
    """`status` when what should run cannot be read (broken compose files, images gone):
    what runs, and why the rest is unknown."""

    project: str
    app_env: ResolvedAppEnv
    observed: ObservedState
    problem: str
