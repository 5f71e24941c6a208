"""What applying did: one frozen Outcome per action (values of the apply stage).

Plain data, so the renderer can show outcomes without importing the executor.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from reconciler.planner.plan import Action
from reconciler.planner.snapshot import Snapshot


class OutcomeStatus(enum.StrEnum):
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"
    ROLLED_BACK = "rolled back"  # recreated, never ready, put back as it was (rollback.py)


@dataclass(frozen=True)
class Outcome:
    """What happened to one action."""

    action: Action
    status: OutcomeStatus
    seconds: float = 0.0
    error: str | None = None


@dataclass(frozen=True)
class ApplyResult:
    """Every action's outcome, and the first failure (of a batch or of the health gate)."""

    outcomes: tuple[Outcome, ...]
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def rolled_back(self) -> bool:
        return any(o.status is OutcomeStatus.ROLLED_BACK for o in self.outcomes)


@dataclass(frozen=True)
class Applied:
    """What an apply (or restart) did: its plan, every action's outcome, the fresh plan
    after it, how long it took, and the first failure. Failed or not, apply reports one."""

    first: Snapshot
    final: Snapshot
    outcomes: tuple[Outcome, ...]
    seconds: float
    error: str | None = None
