"""The Runner for a swarm (apply stage, Swarm backend).

Actions reach the swarm through the engine port exactly as on Compose (EngineRunner's
perform: creates and recreates deploy those services, stop/start scale, removals remove
or scale down; see state/swarm/adapter.py). What differs is the health gate: a wave is
settled when every service it brought up has all its replicas running (Swarm counts a
task with a healthcheck running only once it is healthy) and no update of it is still
rolling. A failed update is Swarm's to undo (`update_config.failure_action: rollback`);
`docker stack deploy` exits 0 all the same, so the gate reads each service's
UpdateStatus and reports a rollback, with Swarm's reason, as a failure. Waiting too
long names the tasks that are not running and why (e.g. no node meets a constraint).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from reconciler.execute.runner import EngineRunner, NotReady
from reconciler.execute.stages import Stage
from reconciler.planner.plan import Action
from state.engine import ContainerEngine
from state.errors import EngineError
from state.swarm.records import ServiceStatus


class UpdateRolledBack(EngineError):
    """Swarm could not update a service and rolled it back."""


class SwarmPort(ContainerEngine, Protocol):
    """What the gate reads besides the port (state/swarm/adapter.py's SwarmEngine)."""

    deployed_at: dict[str, float]  # full service name -> when this run deployed it

    def service_statuses(self, project: str) -> dict[str, ServiceStatus]: ...

    def last_failure(self, service: str) -> str: ...


@dataclass
class SwarmRunner(EngineRunner):
    engine: SwarmPort

    def stage(self, wave: Sequence[Action]) -> Stage | None:
        return None  # one stack deploy does not order its services: wave by wave

    def prepare(self, stage: Sequence[Action], later: Sequence[Sequence[Action]]) -> None:
        return None  # a stack deploy creates and starts: nothing to create ahead

    def settle(self, actions: Sequence[Action]) -> None:
        if not self.wait or self.desired is None:
            return
        project = self.desired.project
        names = sorted(
            {f"{project}_{a.service}" for a in actions if a.service in self.desired.services}
        )
        deadline = self.clock() + self.wait_timeout
        reasons: dict[str, str] = {}
        while True:
            found = self.engine.service_statuses(project)
            for name in names:
                status = found.get(name)
                if status is not None and status.rolled_back and self._ours(status):
                    reasons.setdefault(name, status.update_message)  # the cause, not "completed"
                    # Report once Swarm is done undoing it: the final plan then shows
                    # the update still to make, not a half-rolled-back service.
                    undoing = status.update_state == "rollback_started" or not status.ready
                    if not undoing or self.clock() >= deadline:
                        failed = self.engine.last_failure(name)
                        raise UpdateRolledBack(rolled_back_message(status, reasons[name], failed))
            pending = [found.get(name) or name for name in names]
            pending = [p for p in pending if isinstance(p, str) or not self._settled(p)]
            if not pending:
                return
            if self.clock() >= deadline:
                raise NotReady(self._explain_swarm(pending))
            self.sleep(self.poll_interval)

    def _settled(self, status: ServiceStatus) -> bool:
        """All replicas running, and the update this run's deploy asked for done: right
        after a deploy the old tasks still run, and UpdateStatus is the previous one's."""
        if not status.ready or (status.rolled_back and self._ours(status)):
            return False
        awaited = status.template_changed and status.name in self.engine.deployed_at
        return not awaited or self._ours(status)

    def _ours(self, status: ServiceStatus) -> bool:
        """Whether the update reported is the one this apply started (not an older one)."""
        deployed = self.engine.deployed_at.get(status.name)
        if deployed is None:
            return False
        return _timestamp(status.update_started) >= deployed - 1.0

    def _explain_swarm(self, pending: Sequence[ServiceStatus | str]) -> str:
        parts = []
        for item in pending:
            if isinstance(item, str):
                parts.append(f"{item}: no such service")
                continue
            text = f"{item.name}: {item.running}/{item.replicas} running"
            if item.update_state:
                text += f", update {item.update_state}"
            text += "".join(f"\n  {problem}" for problem in item.problems[:5])
            parts.append(text)
        return f"not ready after {self.wait_timeout:g} s (--wait-timeout): " + "\n".join(parts)


def rolled_back_message(status: ServiceStatus, reason: str, failed: str) -> str:
    reason = reason or status.update_message or "no reason given"
    return (
        f"the update of {status.name} failed and Swarm rolled it back ({status.update_state}): "
        f"{reason}{f' ({failed})' if failed else ''}; "
        f"see `docker service ps {status.name} --no-trunc`"
    )


def _timestamp(text: str) -> float:
    """Docker's RFC 3339 time (nanoseconds, Z) as seconds since the epoch; 0 if absent."""
    if not text:
        return 0.0
    head, _, fraction = text.rstrip("Z").partition(".")
    try:
        moment = datetime.fromisoformat(head + "+00:00")
    except ValueError:
        return 0.0
    return moment.timestamp() + float(f"0.{fraction or '0'}"[:8])
