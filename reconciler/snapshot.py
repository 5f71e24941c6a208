"""A Snapshot: desired and observed state at one moment, and the plan between them.

A value (desire/observe -> plan -> render): commands build it, the renderer shows
it. Importing it loads no engine code.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.plan import Plan
from state.desired import DesiredState
from state.observed import ObservedState


@dataclass(frozen=True)
class Snapshot:
    """Desired and observed state at one moment, and the plan between them."""

    desired: DesiredState
    observed: ObservedState
    plan: Plan
