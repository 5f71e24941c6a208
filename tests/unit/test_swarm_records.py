"""Swarm services and tasks -> planner records (state/swarm/records.py): pure, no engine.

The records feed the unchanged planner: these tests also plan over them, to show the
plan a swarm gets (in sync, APP_ENV drift, replicas, a stopped service, a pending task).
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from reconciler.planner.plan import ActionKind, plan
from state.engine import CONFIG_HASH_LABEL, NUMBER_LABEL, SERVICE_LABEL, ContainerStatus
from state.model.desired import DesiredService, DesiredState
from state.model.observed import ObservedState, _observed
from state.resolve.appenv import ResolvedAppEnv, Source
from state.swarm.records import (
    ServiceStatus,
    Task,
    on_nodes_down,
    parse_tasks,
    records,
    service_of,
    statuses,
)
from state.swarm.render import HASH_LABEL, IMAGE_ID_LABEL, STOPPED_LABEL


def service(
    name: str,
    *,
    replicas: int = 1,
    app_env: str = "prod",
    labels: dict[str, str] | None = None,
    health: bool = True,
    update: dict[str, str] | None = None,
) -> dict[str, Any]:
    container: dict[str, Any] = {"Image": "img", "Env": [f"APP_ENV={app_env}", "X=a=b"]}
    if health:
        container["Healthcheck"] = {"Test": ["CMD", "true"]}
    found: dict[str, Any] = {
        "Spec": {
            "Name": f"demo_{name}",
            "Labels": {
                "com.docker.stack.namespace": "demo",
                HASH_LABEL: f"hash-{name}",
                IMAGE_ID_LABEL: "sha256:img",
                **(labels or {}),
            },
            "TaskTemplate": {"ContainerSpec": container},
            "Mode": {"Replicated": {"Replicas": replicas}},
        }
    }
    if update:
        found["UpdateStatus"] = update
    return found


def task(name: str, slot: int, state: str = "running", error: str = "") -> Task:
    return Task(f"demo_{name}", str(slot), state, f"node{slot}", error)


def desired(name: str, replicas: int = 1, app_env: str = "prod") -> DesiredState:
    return DesiredState(
        project="demo",
        app_env=ResolvedAppEnv(name=app_env, source=Source.COMMAND_LINE),
        profiles=(),
        services={
            name: DesiredService(
                name=name,
                image="img",
                image_id="sha256:img",
                config_hash=f"hash-{name}",
                app_env=app_env,
                has_healthcheck=True,
                replicas=replicas,
            )
        },
    )


def observed(found: list[Any]) -> ObservedState:
    return ObservedState(project="demo", containers=tuple(_observed(r) for r in found))


def test_tasks_are_read_from_service_ps_json_lines() -> None:
    line = json.dumps(
        {
            "Name": "demo_api.2",
            "CurrentState": "Running 5 seconds ago",
            "Node": "spot-swarm-worker1",
            "Error": '"task: non-zero exit (1)"',
        }
    )
    assert parse_tasks([line, ""]) == [
        Task("demo_api", "2", "running", "spot-swarm-worker1", "task: non-zero exit (1)")
    ]


def test_one_record_per_slot_with_the_labels_the_planner_reads() -> None:
    found = records(
        "demo", [service("api", replicas=2)], [task("api", 2), task("api", 1, "starting")]
    )
    assert [r.id for r in found] == ["demo_api.1", "demo_api.2"]
    assert [service_of(r.id) for r in found] == ["demo_api", "demo_api"]
    first, second = found
    assert first.labels[SERVICE_LABEL] == "api" and first.labels[NUMBER_LABEL] == "1"
    assert first.labels[CONFIG_HASH_LABEL] == "hash-api" and first.image_id == "sha256:img"
    assert first.env == {"APP_ENV": "prod", "X": "a=b"}
    assert (first.status, first.health) == (ContainerStatus.RESTARTING, "starting")
    assert (second.status, second.health) == (ContainerStatus.RUNNING, "healthy")


def test_other_stacks_services_are_left_out() -> None:
    other = service("api")
    other["Spec"]["Labels"]["com.docker.stack.namespace"] = "other"
    assert records("demo", [other], [task("api", 1)]) == []


def test_a_stack_in_sync_plans_nothing() -> None:
    found = records("demo", [service("api", replicas=2)], [task("api", 1), task("api", 2)])
    assert plan(desired("api", replicas=2), observed(found)).is_empty


def test_app_env_drift_is_a_recreate_of_every_slot_saying_so() -> None:
    found = records("demo", [service("api", replicas=2)], [task("api", 1), task("api", 2)])
    actions = plan(desired("api", replicas=2, app_env="dev"), observed(found)).actions
    assert [a.kind for a in actions] == [ActionKind.RECREATE, ActionKind.RECREATE]
    assert actions[0].reasons == ("APP_ENV prod -> dev",)


def test_more_replicas_are_creates_fewer_are_removals_of_the_extra_slots() -> None:
    found = records("demo", [service("api", replicas=2)], [task("api", 1), task("api", 2)])
    more = plan(desired("api", replicas=3), observed(found)).actions
    assert [(a.kind, a.number) for a in more] == [(ActionKind.CREATE, 3)]
    fewer = plan(desired("api", replicas=1), observed(found)).actions
    assert [(a.kind, a.container_id, a.reasons) for a in fewer] == [
        (ActionKind.REMOVE, "demo_api.2", ("extra replica",))
    ]


def test_a_stopped_service_has_exited_slots_that_reconcile_starts_again() -> None:
    stopped = service("api", replicas=0, labels={STOPPED_LABEL: "2"})
    found = records("demo", [stopped], [])
    assert [(r.id, r.status, r.exit_code) for r in found] == [
        ("demo_api.1", ContainerStatus.EXITED, 0),
        ("demo_api.2", ContainerStatus.EXITED, 0),
    ]
    actions = plan(desired("api", replicas=2), observed(found)).actions
    assert {a.kind for a in actions} == {ActionKind.START}


def test_a_service_scaled_to_zero_without_stop_has_no_records() -> None:
    assert records("demo", [service("api", replicas=0)], []) == []


def test_a_slot_without_a_current_task_is_created() -> None:
    found = records("demo", [service("api", replicas=2)], [task("api", 1)])
    actions = plan(desired("api", replicas=2), observed(found)).actions
    assert [(a.kind, a.number) for a in actions] == [(ActionKind.CREATE, 2)]


def test_statuses_count_running_tasks_and_read_the_update() -> None:
    update = {
        "State": "rollback_completed",
        "StartedAt": "2026-01-01T00:00:00.5Z",
        "Message": "rollback completed",
    }
    found = statuses(
        [service("api", replicas=2, update=update)],
        [task("api", 1), task("api", 2, "pending", "no suitable node")],
    )
    status = found["demo_api"]
    assert isinstance(status, ServiceStatus)
    assert (status.replicas, status.running, status.ready, status.rolled_back) == (
        2,
        1,
        False,
        True,
    )
    assert status.problems == ("demo_api.2 on node2: pending (no suitable node)",)
    healthy = statuses([service("api")], [task("api", 1)])["demo_api"]
    assert healthy.ready and not healthy.rolled_back


def test_a_task_on_a_node_that_is_down_is_not_running_until_swarm_replaces_it() -> None:
    tasks = on_nodes_down([task("api", 1), task("api", 2)], {"node2": "Down"})
    found = records("demo", [service("api", replicas=2)], tasks)
    assert [r.status for r in found] == [ContainerStatus.RUNNING, ContainerStatus.CREATED]
    assert found[1].health_output == "node node2 is Down"
    assert not statuses([service("api", replicas=2)], tasks)["demo_api"].ready
    actions = plan(desired("api", replicas=2), observed(found)).actions
    assert [(a.kind, a.number) for a in actions] == [(ActionKind.START, 2)]  # waited for


def test_a_changed_task_template_is_an_update_to_wait_for_an_unchanged_one_is_not() -> None:
    api = service("api")
    template = api["Spec"]["TaskTemplate"]
    assert (
        statuses([api], [task("api", 1)], {"demo_api": template})["demo_api"].template_changed
        is False
    )
    older = {"ContainerSpec": {"Image": "img", "Env": ["APP_ENV=dev"]}}
    assert statuses([api], [task("api", 1)], {"demo_api": older})["demo_api"].template_changed
    assert statuses([api], [task("api", 1)])["demo_api"].template_changed is False  # not deployed


def test_a_starting_task_is_stopped_by_stop_and_awaited_by_an_apply() -> None:
    """A just-deployed or crash-looping service's tasks (pending, preparing, starting)
    are `restarting`: `stop` scales their service to 0 too."""
    from reconciler.planner.plan import teardown_plan

    found = records("demo", [service("api", replicas=3)], [
        task("api", 1, "starting"), task("api", 2, "preparing"), task("api", 3, "pending"),
    ])  # fmt: skip
    assert {r.status for r in found} == {ContainerStatus.RESTARTING}
    stops = teardown_plan(observed(found), ActionKind.STOP, "stop requested").actions
    assert len(stops) == 3


def global_service(name: str) -> dict[str, Any]:
    found = service(name)
    found["Spec"]["Mode"] = {"Global": {}}
    return found


def test_a_global_service_keeps_one_slot_per_node() -> None:
    """`deploy.mode: global` runs one task per node: none of them is an extra replica."""
    want = desired("agent")
    want = replace(want, services={"agent": replace(want.services["agent"], global_mode=True)})
    on_three_nodes = [task("agent", n) for n in (1, 2, 3)]
    seen = observed(records("demo", [global_service("agent")], on_three_nodes))
    assert len(seen.containers) == 3
    assert plan(want, seen).is_empty
