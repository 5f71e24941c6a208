"""The planner, table-driven: desired + observed in, actions (with reasons) and no-ops out.

One case per row of DESIGN.md's plan table and per reason, then ordering cases.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from reconciler.planner.plan import Action, ActionKind, NoopReason, Strategy, plan, teardown_plan
from state.engine import ContainerStatus
from state.model.desired import Dependency, DesiredState
from state.model.observed import ObservedState
from tests.builders import container, desired, observed, service

CREATE, START, RECREATE, REMOVE, RESTART, STOP, UNPAUSE = (
    ActionKind.CREATE,
    ActionKind.START,
    ActionKind.RECREATE,
    ActionKind.REMOVE,
    ActionKind.RESTART,
    ActionKind.STOP,
    ActionKind.UNPAUSE,
)
IN_SYNC = NoopReason.IN_SYNC


@dataclass
class Case:
    desired: DesiredState
    observed: ObservedState
    actions: list[tuple[ActionKind, str, int, tuple[str, ...]]]
    noops: dict[str, str] = field(default_factory=dict)


CASES = {
    "no-container-create": Case(
        desired(service("db")), observed(), [(CREATE, "db", 1, ("no container",))]
    ),
    "stopped-start": Case(
        desired(service("db")),
        observed(container("db", status=ContainerStatus.EXITED)),
        [(START, "db", 1, ("stopped out of band",))],
    ),
    "created-start": Case(
        desired(service("db")),
        observed(container("db", status=ContainerStatus.CREATED)),
        [(START, "db", 1, ("created, never started",))],
    ),
    "running-same-none": Case(
        desired(service("db")), observed(container("db")), [], {"db": IN_SYNC}
    ),
    "config-hash-recreate": Case(
        desired(service("db", config_hash="new")),
        observed(container("db", config_hash="old")),
        [(RECREATE, "db", 1, ("configuration changed",))],
    ),
    "image-recreate": Case(
        desired(service("db")),
        observed(container("db", image_id="sha256:old")),
        [(RECREATE, "db", 1, ("image changed",))],
    ),
    "app-env-recreate": Case(
        desired(service("db", env="dev"), env="dev"),
        observed(container("db", env="prod")),
        [(RECREATE, "db", 1, ("APP_ENV prod -> dev",))],
    ),
    "app-env-and-image-recreate": Case(
        desired(service("db", env="dev"), env="dev"),
        observed(container("db", env="prod", image_id="sha256:old")),
        [(RECREATE, "db", 1, ("APP_ENV prod -> dev", "image changed"))],
    ),
    "other-profile-remove": Case(
        desired(service("db"), known={"adminer"}),
        observed(container("db"), container("adminer", env="dev")),
        [(REMOVE, "adminer", 1, ("not in the profiles of prod",))],
        {"db": IN_SYNC},
    ),
    "not-in-files-remove": Case(
        desired(service("db")),
        observed(container("db"), container("ghost")),
        [(REMOVE, "ghost", 1, ("not in the compose files",))],
        {"db": IN_SYNC},
    ),
    "extra-replicas-remove-highest-first": Case(
        desired(service("worker", replicas=1)),
        observed(container("worker", 1), container("worker", 2), container("worker", 3)),
        [(REMOVE, "worker", 3, ("extra replica",)), (REMOVE, "worker", 2, ("extra replica",))],
    ),
    "missing-replicas-create-after-the-highest-number": Case(
        desired(service("worker", replicas=3)),
        observed(container("worker", 2)),
        [(CREATE, "worker", 3, ("no container",)), (CREATE, "worker", 4, ("no container",))],
    ),
    "gap-filled-as-compose-numbers-not-into-the-gap": Case(
        desired(service("worker", replicas=3)),
        observed(container("worker", 1), container("worker", 3)),
        [(CREATE, "worker", 4, ("no container",))],
    ),
    "gap-within-the-scale-is-converged": Case(
        desired(service("worker", replicas=2)),
        observed(container("worker", 1), container("worker", 3)),
        [],
        {"worker": IN_SYNC},
    ),
    "extra-with-a-gap-removes-the-highest": Case(
        desired(service("worker", replicas=2)),
        observed(container("worker", 2), container("worker", 5), container("worker", 7)),
        [(REMOVE, "worker", 7, ("extra replica",))],
    ),
    "duplicate-number-replaced-after-the-highest": Case(
        desired(service("worker", replicas=2)),
        observed(
            container("worker", 1, cid="a"),
            container("worker", 1, status=ContainerStatus.EXITED, cid="b"),
        ),
        [(REMOVE, "worker", 1, ("extra replica",)), (CREATE, "worker", 2, ("no container",))],
    ),
    "paused-unpause": Case(
        desired(service("db")),
        observed(container("db", status=ContainerStatus.PAUSED)),
        [(UNPAUSE, "db", 1, ("paused",))],
    ),
    "dead-recreate": Case(
        desired(service("db")),
        observed(container("db", status=ContainerStatus.DEAD)),
        [(RECREATE, "db", 1, ("container is dead",))],
    ),
    "restarting-none-reported": Case(
        desired(service("db")),
        observed(container("db", status=ContainerStatus.RESTARTING)),
        [],
        {"db": NoopReason.RESTARTING},
    ),
    "no-hash-label-recreate": Case(
        desired(service("db")),
        observed(container("db", config_hash=None)),
        [(RECREATE, "db", 1, ("not created by Compose",))],
    ),
    "stopped-and-changed-recreate": Case(
        desired(service("db", config_hash="new")),
        observed(container("db", status=ContainerStatus.EXITED, config_hash="old")),
        [(RECREATE, "db", 1, ("configuration changed",))],
    ),
    "duplicate-number-keeps-running": Case(
        desired(service("db")),
        observed(
            container("db", 1, status=ContainerStatus.EXITED, cid="a"), container("db", 1, cid="b")
        ),
        [(REMOVE, "db", 1, ("extra replica",))],
    ),
    "half-renamed-leftover-of-an-interrupted-recreate": Case(
        desired(service("db")),
        observed(container("db", status=ContainerStatus.CREATED, name="0123456789ab_spot-db-1")),
        [(RECREATE, "db", 1, ("left half-renamed by an interrupted recreate",))],
    ),
    "of-a-half-renamed-and-the-old-one-the-old-one-stays": Case(
        desired(service("db", config_hash="new")),
        observed(
            container("db", status=ContainerStatus.EXITED, config_hash="old", cid="old"),
            container(
                "db",
                status=ContainerStatus.CREATED,
                config_hash="new",
                name="0123456789ab_spot-db-1",
                cid="new",
            ),
        ),
        [(REMOVE, "db", 1, ("extra replica",)), (RECREATE, "db", 1, ("configuration changed",))],
    ),
    "scaled-to-zero": Case(
        desired(service("db", replicas=0)),
        observed(container("db")),
        [(REMOVE, "db", 1, ("extra replica",))],
    ),
    "removing-is-gone": Case(
        desired(service("db")),
        observed(container("db", status=ContainerStatus.REMOVING)),
        [(CREATE, "db", 1, ("no container",))],
    ),
    "restart-true-dependent-restarted": Case(
        desired(
            service("db", config_hash="new"),
            service("api", depends_on=[Dependency(service="db", restart=True)]),
        ),
        observed(container("db", config_hash="old"), container("api")),
        [
            (RECREATE, "db", 1, ("configuration changed",)),
            (RESTART, "api", 1, ("db is recreated (depends_on restart: true)",)),
        ],
    ),
    "restart-true-kept-replicas-restarted-beside-a-new-one": Case(
        desired(
            service("db", config_hash="new"),
            service("api", depends_on=[Dependency(service="db", restart=True)], replicas=2),
        ),
        observed(container("db", config_hash="old"), container("api")),
        [
            (RECREATE, "db", 1, ("configuration changed",)),
            (CREATE, "api", 2, ("no container",)),
            (RESTART, "api", 1, ("db is recreated (depends_on restart: true)",)),
        ],
    ),
    "plain-dependent-left-alone": Case(
        desired(service("db", config_hash="new"), service("api", depends_on=["db"])),
        observed(container("db", config_hash="old"), container("api")),
        [(RECREATE, "db", 1, ("configuration changed",))],
        {"api": IN_SYNC},
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_plan_table(case: Case) -> None:
    result = plan(case.desired, case.observed)
    assert [(a.kind, a.service, a.number, a.reasons) for a in result.actions] == case.actions
    assert {n.service: n.reason for n in result.noops} == case.noops
    assert result.is_empty == (not case.actions)


def test_one_replica_of_several_is_recreated_alone_and_renumbered_as_compose_will() -> None:
    """Compose cannot recreate one replica in place: the plan replaces exactly that one,
    and names the number its replacement gets (after the highest that stays)."""
    workers = [container("worker", n) for n in (1, 2, 3)]
    stale = container("worker", 2, config_hash="old")
    planned = plan(desired(service("worker", replicas=3)), observed(workers[0], stale, workers[2]))
    (action,) = planned.actions
    assert (action.kind, action.container_id, action.renumbered) == (RECREATE, stale.id, 4)
    every = [container("worker", n, config_hash="old") for n in (1, 2, 3)]
    whole = plan(desired(service("worker", replicas=3)), observed(*every))
    assert [(a.kind, a.number, a.renumbered) for a in whole.actions] == [
        (RECREATE, n, None) for n in (1, 2, 3)
    ]


def test_a_half_renamed_leftover_beside_its_twin_is_removed_else_replaced() -> None:
    """What a SIGKILL during Compose's recreate leaves: the new container still named
    `<old id>_project-service-n`, beside the old one or alone."""
    old = container("worker", 2, cid="old", config_hash="old")
    leftover = container("worker", 2, cid="new", name=f"{'a' * 12}_spot-worker-2")
    kept = [container("worker", n) for n in (1, 3)]
    both = plan(desired(service("worker", replicas=3)), observed(kept[0], old, leftover, kept[1]))
    assert {(a.kind, a.container_id) for a in both.actions} == {
        (REMOVE, "new"),
        (RECREATE, "old"),
    }
    alone = plan(desired(service("worker", replicas=3)), observed(kept[0], leftover, kept[1]))
    (action,) = alone.actions
    assert (action.kind, action.container_id, action.renumbered) == (RECREATE, "new", 4)
    assert "left half-renamed by an interrupted recreate" in action.reasons


def test_recreate_carries_old_and_new_hash_and_the_container() -> None:
    result = plan(
        desired(service("db", config_hash="new")),
        observed(container("db", config_hash="old", cid="abc")),
    )
    (action,) = result.actions
    assert (action.old_hash, action.new_hash) == ("old", "new")
    assert (action.container, action.container_id) == ("spot-db-1", "abc")


def test_service_in_no_compose_file_is_removed_by_id() -> None:
    result = plan(desired(service("db")), observed(container("db"), container("ghost", cid="g1")))
    (action,) = result.actions
    assert (action.kind, action.container_id) == (ActionKind.REMOVE, "g1")
    assert action.reasons == ("not in the compose files",)


def waves(actions: tuple[Action, ...]) -> list[list[str]]:
    grouped: dict[int, list[str]] = {}
    for a in actions:
        grouped.setdefault(a.wave, []).append(f"{a.kind}:{a.service}")
    return [grouped[w] for w in sorted(grouped)]


def chain(env: str = "prod") -> list:  # type: ignore[type-arg]
    return [
        service("db", env=env),
        service("api", env=env, depends_on=["db"]),
        service("web", env=env, depends_on=["api"]),
        service("worker", env=env),
    ]


def test_creates_go_dependencies_first_and_independents_together() -> None:
    result = plan(desired(*chain()), observed())
    assert waves(result.actions) == [["create:db", "create:worker"], ["create:api"], ["create:web"]]


def test_removals_go_dependents_first() -> None:
    result = plan(
        desired(),
        observed(
            container("db"),
            container("api", depends_on=["db"]),
            container("web", depends_on=["api"]),
        ),
    )
    assert waves(result.actions) == [["remove:web"], ["remove:api"], ["remove:db"]]


def test_env_switch_removes_first_then_recreates_in_dependency_order() -> None:
    result = plan(
        desired(*chain("prod"), known={"adminer"}),
        observed(
            *(
                container(n, env="dev", depends_on=d)
                for n, d in [("db", []), ("api", ["db"]), ("web", ["api"]), ("worker", [])]
            ),
            container("adminer", env="dev"),
        ),
    )
    assert waves(result.actions) == [
        ["remove:adminer"],
        ["recreate:db", "recreate:worker"],
        ["recreate:api"],
        ["recreate:web"],
    ]
    assert {a.reasons for a in result.actions if a.kind is RECREATE} == {("APP_ENV dev -> prod",)}


def test_dependency_outside_the_plan_does_not_delay_a_dependent() -> None:
    result = plan(desired(*chain()), observed(container("db"), container("worker")))
    assert waves(result.actions) == [["create:api"], ["create:web"]]


def test_plan_is_deterministic_under_permutation_of_observed_containers() -> None:
    containers = [
        container("db", env="dev"),
        container("api", env="dev"),
        container("x"),
        container("worker", 2),
    ]
    first = plan(desired(*chain()), observed(*containers))
    second = plan(desired(*chain()), observed(*reversed(containers)))
    assert first == second


def test_of_two_containers_with_one_number_the_stopped_one_goes() -> None:
    result = plan(
        desired(service("db")),
        observed(
            container("db", 1, status=ContainerStatus.EXITED, cid="stopped"),
            container("db", 1, cid="running"),
        ),
    )
    assert [a.container_id for a in result.actions] == ["stopped"]


def test_restart_stops_every_running_container_first_then_recreates_each() -> None:
    result = plan(
        desired(*chain()),
        observed(
            container("db"),
            container("api", depends_on=["db"]),
            container("web", depends_on=["api"], status=ContainerStatus.EXITED),
        ),
        Strategy.ALWAYS,
    )
    assert waves(result.actions) == [
        ["stop:api"],
        ["stop:db"],
        ["recreate:db", "create:worker"],
        ["recreate:api"],
        ["recreate:web"],
    ]
    assert {a.reasons for a in result.actions if a.kind is RECREATE} == {("restart requested",)}
    assert {a.container_id for a in result.actions if a.kind is STOP} == {"id-db-1", "id-api-1"}


def test_restart_keeps_the_reason_a_container_differs() -> None:
    result = plan(
        desired(service("db", env="dev"), env="dev"),
        observed(container("db", env="prod")),
        Strategy.ALWAYS,
    )
    assert [(a.kind, a.reasons) for a in result.actions] == [
        (STOP, ("restart: stop first",)),
        (RECREATE, ("APP_ENV prod -> dev",)),
    ]


def test_stop_plans_a_stop_for_each_running_container_dependents_first() -> None:
    result = teardown_plan(
        observed(
            container("db"),
            container("api", depends_on=["db"]),
            container("worker", status=ContainerStatus.EXITED),
            container("cache", status=ContainerStatus.PAUSED),
        ),
        STOP,
        "stop requested",
    )
    assert waves(result.actions) == [["stop:api", "stop:cache"], ["stop:db"]]
    assert result.noops == ()


def test_teardown_goes_in_composes_order_a_service_once_its_dependents_are_gone() -> None:
    # Compose stops a service as soon as what depends on it has stopped: one with no
    # dependents (worker) goes at once, beside the deepest dependent, not with db last.
    result = teardown_plan(
        observed(
            container("db"),
            container("api", depends_on=["db"]),
            container("web", depends_on=["api"]),
            container("cron", depends_on=["db"]),
            container("worker"),
        ),
        STOP,
        "stop requested",
    )
    assert waves(result.actions) == [
        ["stop:cron", "stop:web", "stop:worker"],
        ["stop:api"],
        ["stop:db"],
    ]


def test_teardown_orders_by_the_compose_files_where_a_label_is_missing() -> None:
    # `up --no-deps api` (a later stage of an apply) labels api without db: Compose drops
    # dependencies outside the call. What the files declare restores the edge.
    containers = observed(container("db"), container("api"))
    assert waves(teardown_plan(containers, REMOVE, "down").actions) == [["remove:api", "remove:db"]]
    result = teardown_plan(containers, REMOVE, "down", declared={"api": ["db"], "gone": ["db"]})
    assert waves(result.actions) == [["remove:api"], ["remove:db"]]


def test_down_plans_a_removal_of_every_container_whatever_its_state() -> None:
    result = teardown_plan(
        observed(
            container("db", status=ContainerStatus.EXITED),
            container("api", depends_on=["db"]),
            container("web", 2, depends_on=["api"], status=ContainerStatus.DEAD),
        ),
        REMOVE,
        "down",
    )
    assert waves(result.actions) == [["remove:web"], ["remove:api"], ["remove:db"]]
