"""Guardrails on a plan: where it may run, what needs a confirmation, what a policy
forbids (plan stage, pure).

From the environment table (state/resolve/guarding.py), the engine's identity, the
states and the plan, `evaluate` says:
- a refusal, when the engine is a production engine that does not allow this
  environment, or the environment is pinned to other engines (no flag overrides it: the
  table says what may run where, and saying otherwise is an edit of the table);
- the confirmations the apply needs: switching what runs on a production engine from
  one environment to another (`--confirm-env NAME`, or the name typed), and a
  destructive plan there or wherever the table's [confirm] asks (`--yes`, or typed):
  a volume removed, a stateful service (one with named volumes) recreated or removed,
  or more than the [confirm] share of the running services stopped or removed;
- the policy violations (reconciler/planner/policies.py), each waivable by name.
`--plan` shows all of it; the apply enforces it. No I/O, no engine call: the engine's
identity is read before (once, and only when the table names engines).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reconciler.planner.actions import ActionKind, Plan
from reconciler.planner.policies import Violation, violations
from state.engine import EngineIdentity
from state.model.desired import DesiredState
from state.model.observed import ObservedState
from state.resolve.guarding import EngineSpec

if TYPE_CHECKING:  # the table's loader reads TOML: the planner needs only its type
    from state.resolve.table import EnvironmentTable

SWITCH = "switch"
DESTRUCTIVE = "destructive"


@dataclass(frozen=True)
class Confirmation:
    """What the apply may do only when the user said so."""

    kind: str  # SWITCH (--confirm-env TARGET) or DESTRUCTIVE (--yes)
    target: str  # the environment to switch to; the project for a destructive plan
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Guard:
    """The guardrails' verdict on one plan."""

    engine: EngineIdentity | None = None  # None: the table names no engine
    engines: tuple[str, ...] = ()  # the table's engines this one is
    production: bool = False
    refusal: str | None = None
    confirmations: tuple[Confirmation, ...] = ()
    violations: tuple[Violation, ...] = ()

    @property
    def blocking(self) -> tuple[Violation, ...]:
        return tuple(v for v in self.violations if not v.waived)


def matching(table: EnvironmentTable, identity: EngineIdentity) -> list[tuple[str, EngineSpec]]:
    """The table's engines that `identity` is (by endpoint, context, or daemon)."""
    found = []
    for name, spec in sorted(table.engines.items()):
        if (
            (spec.endpoint and spec.endpoint == identity.endpoint)
            or (spec.context and spec.context == identity.context)
            or (spec.daemon and spec.daemon in (identity.daemon_name, identity.daemon_id))
        ):
            found.append((name, spec))
    return found


def evaluate(
    table: EnvironmentTable,
    environment: str,
    identity: EngineIdentity | None,
    desired: DesiredState | None,
    observed: ObservedState,
    plan: Plan,
    *,
    waived: frozenset[str] = frozenset(),
    volumes_removed: tuple[str, ...] = (),
) -> Guard:
    """The verdict for applying `plan` of `environment` on the engine `identity`."""
    mine = matching(table, identity) if identity is not None else []
    production = any(spec.production for _, spec in mine)
    refusal = _refusal(table, environment, identity, mine) if identity is not None else None
    asks = production or environment in table.confirm.environments
    confirmations: list[Confirmation] = []
    running = observed.running_environments - {"?"}
    if production and running and environment not in running and desired is not None:
        was = ", ".join(sorted(running))
        why = f"what runs on production engine {_shown(mine)} switches from {was} to {environment}"
        confirmations.append(Confirmation(SWITCH, environment, (why,)))
    if asks:
        reasons = _destructive(plan, desired, observed, volumes_removed, table.confirm.stop_share)
        if reasons:
            confirmations.append(Confirmation(DESTRUCTIVE, observed.project, tuple(reasons)))
    found = violations(table.policies, desired, waived) if desired is not None else ()
    return Guard(
        engine=identity,
        engines=tuple(name for name, _ in mine),
        production=production,
        refusal=refusal,
        confirmations=tuple(confirmations),
        violations=found,
    )


def _shown(engines: Iterable[tuple[str, EngineSpec]]) -> str:
    return ", ".join(name for name, _ in engines)


def _refusal(
    table: EnvironmentTable,
    environment: str,
    identity: EngineIdentity,
    mine: list[tuple[str, EngineSpec]],
) -> str | None:
    for name, spec in mine:
        if spec.production and environment not in spec.allow:
            return (
                f"environment {environment} may not run on engine {name} ({identity}): it is "
                f"a production engine for {', '.join(spec.allow)}; nothing was changed: point "
                f"DOCKER_HOST or the docker context at another engine, or, to run it there "
                f"on purpose, add {environment!r} to engines.{name}.allow in the table"
            )
    pinned = table[environment].engines if environment in table.environments else ()
    if pinned and not {name for name, _ in mine} & set(pinned):
        return (
            f"environment {environment} runs only on engine {' or '.join(pinned)}, and this "
            f"engine is {identity}; nothing was changed: point DOCKER_HOST or the docker "
            f"context at {pinned[0]}, or, to run it here on purpose, add this engine to "
            f"environments.{environment}.engines in the table"
        )
    return None


def _destructive(
    plan: Plan,
    desired: DesiredState | None,
    observed: ObservedState,
    volumes_removed: tuple[str, ...],
    share: float,
) -> list[str]:
    reasons = [f"removes volume {name} (its data)" for name in volumes_removed]
    stateful = {n for n, s in desired.services.items() if s.volumes} if desired else set()
    for action in plan.actions:
        if action.service in stateful and action.kind in (ActionKind.RECREATE, ActionKind.REMOVE):
            reasons.append(
                f"{action.kind.value}s {action.container or action.service}, which owns named "
                "volumes"
            )
    running = {c.service for c in observed.containers if c.running}
    stopped = {
        a.service
        for a in plan.actions
        if a.kind in (ActionKind.STOP, ActionKind.REMOVE) and a.service in running
    }
    if running and len(stopped) / len(running) > share:
        reasons.append(
            f"stops {len(stopped)} of the {len(running)} running services (more than {share:.0%})"
        )
    return reasons
