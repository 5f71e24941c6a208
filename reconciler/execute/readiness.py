"""What the health gate (reconciler/execute/runner.py) calls ready or failed, and how it
explains a service that is not (apply stage).

A container is ready when healthy (with a healthcheck) or running (without); a
one-shot when it exited with code 0. It has failed for good when nothing will make
it ready (dead, exited, `unhealthy`). The explanation names the container, its state,
its last health check and the last lines of its log (one engine read per service).
"""

from __future__ import annotations

from collections.abc import Sequence, Set
from dataclasses import dataclass

from reconciler.planner.plan import COMPLETES
from state.engine import ContainerEngine, ContainerStatus
from state.model.desired import DesiredState
from state.model.observed import ObservedContainer

LOG_LINES = 10


@dataclass(frozen=True)
class Explainer:
    """The gate's words for services that are not ready."""

    engine: ContainerEngine
    desired: DesiredState
    wait_timeout: float

    def failure(
        self, failed: dict[str, tuple[ObservedContainer, ...]], once: frozenset[str]
    ) -> str:
        """One part for the services that should run, one for the one-shots that failed."""
        crashed = {s: mine for s, mine in failed.items() if s not in once}
        incomplete = {s: mine for s, mine in failed.items() if s in once}
        parts = [self.explain(crashed, once, "failed to start")] if crashed else []
        if incomplete:
            parts.append(self.explain(incomplete, once, "did not complete successfully"))
        return "\n".join(parts)

    def explain(
        self,
        pending: dict[str, tuple[ObservedContainer, ...]],
        once: frozenset[str] = frozenset(),
        headline: str = "",
    ) -> str:
        parts = []
        for service, containers in pending.items():
            if not containers:
                parts.append(f"{service}: no container")
                continue
            one_shot = service in once
            first = next((c for c in containers if failed(c, one_shot)), containers[0])
            state = first.status.value + (f", {first.health}" if first.health else "")
            if first.status is ContainerStatus.EXITED:
                state += f" with code {first.exit_code}"
            text = f"{service} ({first.name}: {state})"
            text += self._note(service, first, one_shot)
            if first.health_output:
                text += f"\n  last health check: {first.health_output.splitlines()[-1][:300]}"
            tail = self.engine.log_tail(first.id, LOG_LINES)
            if tail:
                text += "\n  last log lines:\n" + "\n".join(
                    f"    {line}" for line in tail.splitlines()
                )
            parts.append(text)
        headline = headline or f"not ready after {self.wait_timeout:g} s (--wait-timeout)"
        return f"{headline}: " + "\n".join(parts)

    def _note(self, service: str, container: ObservedContainer, one_shot: bool) -> str:
        """What the gate expected of a one-shot, or of a service that exited by itself."""
        if one_shot:
            waiting = sorted(
                name
                for name, spec in self.desired.services.items()
                if any(d.service == service and d.condition == COMPLETES for d in spec.depends_on)
            )
            verb = "waits" if len(waiting) == 1 else "wait"
            return f"\n  a one-shot: {', '.join(waiting)} {verb} for it to exit with code 0"
        if container.status is ContainerStatus.EXITED and container.exit_code == 0:
            return (
                "\n  it exited by itself: a service should keep running, unless one that "
                "depends on it waits for it with `condition: service_completed_successfully`"
            )
        return ""


def ready(container: ObservedContainer, wants_health: bool, one_shot: bool = False) -> bool:
    if one_shot:  # judged by its exit alone, as Compose's service_completed_successfully
        return container.status is ContainerStatus.EXITED and container.exit_code == 0
    if container.status is not ContainerStatus.RUNNING:
        return False
    return container.health == "healthy" if wants_health else True


def failed(container: ObservedContainer, one_shot: bool = False) -> bool:
    """It will not become ready however long the gate waits: dead; exited (a one-shot: with
    an error; no restart policy brings it back: that shows as restarting); unhealthy
    (Compose's --wait fails there too; `starting` may still turn healthy)."""
    if container.status is ContainerStatus.DEAD:
        return True
    if container.status is ContainerStatus.EXITED:
        return not one_shot or container.exit_code not in (0, None)
    return not one_shot and container.health == "unhealthy"


def any_failed(
    containers: Sequence[ObservedContainer], one_shot: bool, stale: Set[str | None] = frozenset()
) -> bool:
    """Any of them failed for good; `stale`: ids whose health is not yet their own
    (just unpaused): `unhealthy` there may still turn healthy, so only the timeout ends it."""
    return any(
        failed(c, one_shot)
        and not (c.id in stale and c.status is ContainerStatus.RUNNING and c.health == "unhealthy")
        for c in containers
    )
