"""Swarm services and tasks -> the records the planner already reads (observe stage, Swarm).

Pure: `docker service inspect` of the stack's services and `docker service ps` of their
current tasks go in; one ContainerRecord per replica slot comes out, so that nothing in
the planner changes:
- labels: the project (the stack's namespace), the service's short name, the slot as
  the container number, and the config hash from the service's `deploy.labels`;
- status: the slot's current task: running -> running (and healthy when the service
  has a healthcheck: Swarm counts a task running only once it is); on its way (new,
  pending, assigned, preparing, starting...) -> restarting: an apply waits for it, a
  `stop` stops it; failed, rejected or unreachable -> created;
- env and image id: the service's spec and its image-id label;
- a task on a node that is not Ready (its engine died): not running, whatever the
  manager still says, until Swarm has replaced it;
- a service `stop` scaled to 0 (its STOPPED_LABEL says from how many): one exited
  record per slot it had, so `reconcile` starts them again and `down` removes them.
A slot without a current task has no record: the planner creates it.
Record ids are `<stack>_<service>.<slot>` (the task's name): service_of() reads them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from state.engine import (
    CONFIG_HASH_LABEL,
    NUMBER_LABEL,
    PROJECT_LABEL,
    SERVICE_LABEL,
    ContainerRecord,
    ContainerStatus,
)
from state.swarm.render import HASH_LABEL, IMAGE_ID_LABEL, STOPPED_LABEL
from state.swarm.render import SERVICE_LABEL as SWARM_SERVICE_LABEL

NAMESPACE_LABEL = "com.docker.stack.namespace"
ROLLED_BACK = frozenset({"rollback_started", "rollback_paused", "rollback_completed", "paused"})


@dataclass(frozen=True)
class Task:
    """One current task (desired state running) as `docker service ps` shows it."""

    service: str  # the full service name, <stack>_<service>
    slot: str
    state: str  # lowercase: running, starting, pending, ...
    node: str
    error: str = ""


@dataclass(frozen=True)
class ServiceStatus:
    """One service's progress, for the health gate of an apply."""

    name: str  # the full service name
    replicas: int
    running: int
    update_state: str  # "" when never updated
    update_started: str
    update_message: str
    problems: tuple[str, ...]  # "<task>: <state> <error>" of the tasks not running
    template_changed: bool = False  # our deploy changed its task template: an update comes

    @property
    def rolled_back(self) -> bool:
        return self.update_state in ROLLED_BACK

    @property
    def ready(self) -> bool:
        return self.running >= self.replicas and self.update_state not in ("updating",)


def parse_tasks(lines: Iterable[str]) -> list[Task]:
    """Tasks from `docker service ps --format '{{json .}}'` (one JSON object a line)."""
    tasks = []
    for line in lines:
        if not line.strip():
            continue
        row = json.loads(line)
        name = row.get("Name", "").removeprefix("\\_").strip()
        service, _, slot = name.rpartition(".")
        state = (row.get("CurrentState") or "").split(" ", 1)[0].lower()
        error = (row.get("Error") or "").strip().strip('"')
        tasks.append(Task(service, slot, state, row.get("Node", ""), error))
    return tasks


def on_nodes_down(tasks: Iterable[Task], down: Mapping[str, str]) -> list[Task]:
    """The tasks, those on a node that is not Ready (hostname -> its status) no longer
    running: the manager still lists them as running until it reschedules them."""
    return [
        Task(t.service, t.slot, "unreachable", t.node, f"node {t.node} is {down[t.node]}")
        if t.node in down and t.state == "running"
        else t
        for t in tasks
    ]


def short_name(service: Mapping[str, Any], project: str) -> str:
    spec = service["Spec"]
    labels = spec.get("Labels") or {}
    return str(labels.get(SWARM_SERVICE_LABEL) or spec["Name"].removeprefix(f"{project}_"))


def service_of(record_id: str) -> str:
    """The full service name in a record id (`<stack>_<service>.<slot>`)."""
    return record_id.rpartition(".")[0]


def spec_replicas(service: Mapping[str, Any]) -> int | None:
    """The replica count of a replicated service; None for a global one."""
    replicated = (service["Spec"].get("Mode") or {}).get("Replicated")
    return None if replicated is None else int(replicated.get("Replicas") or 0)


def records(
    project: str, services: Sequence[Mapping[str, Any]], tasks: Sequence[Task]
) -> list[ContainerRecord]:
    """One record per replica slot of the project's services (see the module docstring)."""
    by_service: dict[str, list[Task]] = {}
    for task in tasks:
        by_service.setdefault(task.service, []).append(task)
    result: list[ContainerRecord] = []
    for service in services:
        spec = service["Spec"]
        full = spec["Name"]
        if (spec.get("Labels") or {}).get(NAMESPACE_LABEL) != project:
            continue
        mine = sorted(by_service.get(full, []), key=lambda t: (_slot_number(t.slot), t.node))
        stopped = stopped_count(service)
        if stopped:
            result += [
                _record(project, service, str(n), "exited", "") for n in range(1, stopped + 1)
            ]
            continue
        for index, task in enumerate(mine, start=1):
            slot = task.slot if task.slot.isdigit() else str(index)  # global: per node
            result.append(_record(project, service, slot, task.state, task.error))
    return result


def statuses(
    services: Sequence[Mapping[str, Any]],
    tasks: Sequence[Task],
    templates_before: Mapping[str, Any] | None = None,
) -> dict[str, ServiceStatus]:
    """Per full service name: replicas wanted and running, how its last update went, and
    whether its task template changed from `templates_before` (what a deploy found)."""
    before = templates_before or {}
    result = {}
    for service in services:
        spec = service["Spec"]
        full = spec["Name"]
        mine = [t for t in tasks if t.service == full]
        running = sum(1 for t in mine if t.state == "running")
        wanted = spec_replicas(service)
        update = service.get("UpdateStatus") or {}
        result[full] = ServiceStatus(
            name=full,
            replicas=len(mine) if wanted is None else wanted,
            running=running,
            update_state=update.get("State", ""),
            update_started=update.get("StartedAt", ""),
            update_message=update.get("Message", ""),
            template_changed=full in before and before[full] != spec.get("TaskTemplate"),
            problems=tuple(
                f"{full}.{t.slot} on {t.node or 'no node'}: {t.state}"
                + (f" ({t.error})" if t.error else "")
                for t in mine
                if t.state != "running"
            ),
        )
    return result


def stopped_count(service: Mapping[str, Any]) -> int:
    """How many replicas a service `stop` scaled to 0 had (0: not stopped)."""
    value = (service["Spec"].get("Labels") or {}).get(STOPPED_LABEL, "")
    if spec_replicas(service) != 0 or not value.isdigit():
        return 0
    return int(value)


def _slot_number(slot: str) -> int:
    return int(slot) if slot.isdigit() else 0


def _record(
    project: str, service: Mapping[str, Any], slot: str, state: str, error: str
) -> ContainerRecord:
    spec = service["Spec"]
    labels = spec.get("Labels") or {}
    container = (spec.get("TaskTemplate") or {}).get("ContainerSpec") or {}
    has_health = bool((container.get("Healthcheck") or {}).get("Test")) and (
        container["Healthcheck"]["Test"] != ["NONE"]
    )
    record_labels = {
        **(container.get("Labels") or {}),  # the service's own `labels:` (content digests)
        PROJECT_LABEL: project,
        SERVICE_LABEL: short_name(service, project),
        NUMBER_LABEL: slot,
    }
    if HASH_LABEL in labels:
        record_labels[CONFIG_HASH_LABEL] = labels[HASH_LABEL]
    status = _STATES.get(state, ContainerStatus.CREATED)
    return ContainerRecord(
        id=f"{spec['Name']}.{slot}",
        name=f"{spec['Name']}.{slot}",
        labels=record_labels,
        status=status,
        health=("healthy" if status is ContainerStatus.RUNNING else "starting")
        if has_health and status is not ContainerStatus.EXITED
        else None,
        health_output=error or None,
        exit_code=0 if status is ContainerStatus.EXITED else None,
        env=service_env(service),
        image_id=labels.get(IMAGE_ID_LABEL, ""),
    )


# A task on its way to running (new, pending, assigned, accepted, preparing, ready,
# starting) is `restarting`: not ready for the gate, and stoppable, so `stop` scales its
# service to 0 too. Any other state (failed, rejected, shutdown, unreachable...) counts
# as not started.
_STARTING = ("new", "pending", "assigned", "accepted", "preparing", "ready", "starting")
_STATES = {
    "running": ContainerStatus.RUNNING,
    "exited": ContainerStatus.EXITED,
    **dict.fromkeys(_STARTING, ContainerStatus.RESTARTING),
}


def service_env(service: Mapping[str, Any]) -> dict[str, str]:
    """The environment a service's tasks get (its spec's `Env`)."""
    container = (service["Spec"].get("TaskTemplate") or {}).get("ContainerSpec") or {}
    return dict(_env_pair(item) for item in container.get("Env") or [])


def _env_pair(item: str) -> tuple[str, str]:
    key, _, value = item.partition("=")
    return key, value
