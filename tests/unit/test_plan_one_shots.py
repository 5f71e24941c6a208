"""The planner on one-shots: services a desired service waits for with `condition:
service_completed_successfully`. Exited 0 and unchanged: done (no-op "completed"), so
a second run changes nothing; exited non-zero: started again, saying its exit code.
A service nobody waits for that way that exited is still "stopped out of band"."""

from __future__ import annotations

from reconciler.planner.plan import ActionKind, NoopReason, Strategy, one_shots, plan
from reconciler.planner.snapshot import Snapshot
from reconciler.render.status import status_rows
from state.engine import ContainerStatus
from state.model.desired import Dependency, DesiredState
from state.model.observed import ObservedContainer
from tests.builders import container, desired, observed, service

EXITED = ContainerStatus.EXITED
COMPLETES = "service_completed_successfully"


def stack(condition: str = COMPLETES, **migrate: object) -> DesiredState:
    return desired(
        service("migrate", **migrate),  # type: ignore[arg-type]
        service("after", depends_on=[Dependency(service="migrate", condition=condition)]),
    )


def migrated(code: int, **extra: object) -> ObservedContainer:
    return container("migrate", status=EXITED, exit_code=code, **extra)  # type: ignore[arg-type]


Summary = tuple[list[tuple[ActionKind, str, tuple[str, ...]]], dict[str, NoopReason]]


def summary(state: DesiredState, *containers: ObservedContainer, **kw: Strategy) -> Summary:
    made = plan(state, observed(*containers), **kw)
    return (
        [(a.kind, a.service, a.reasons) for a in made.actions],
        {n.service: n.reason for n in made.noops},
    )


def test_only_services_waited_for_until_completed_are_one_shots() -> None:
    assert one_shots(stack()) == {"migrate"}
    assert one_shots(stack("service_started")) == frozenset()
    assert one_shots(stack("service_healthy")) == frozenset()


def test_a_one_shot_that_exited_0_is_done_and_a_second_run_changes_nothing() -> None:
    assert summary(stack(), migrated(0), container("after")) == (
        [],
        {"after": NoopReason.IN_SYNC, "migrate": NoopReason.COMPLETED},
    )


def test_a_one_shot_that_exited_non_zero_is_started_again_saying_its_code() -> None:
    assert summary(stack(), migrated(1), container("after", status=ContainerStatus.CREATED)) == (
        [
            (ActionKind.START, "migrate", ("exited with code 1",)),
            (ActionKind.START, "after", ("created, never started",)),
        ],
        {},
    )


def test_a_changed_one_shot_is_recreated_so_it_runs_again() -> None:
    assert summary(stack(config_hash="new"), migrated(0), container("after")) == (
        [(ActionKind.RECREATE, "migrate", ("configuration changed",))],
        {"after": NoopReason.IN_SYNC},
    )


def test_restart_recreates_a_completed_one_shot_too() -> None:
    actions, _ = summary(stack(), migrated(0), container("after"), strategy=Strategy.ALWAYS)
    assert [(kind, name) for kind, name, _ in actions] == [
        (ActionKind.STOP, "after"),
        (ActionKind.RECREATE, "migrate"),
        (ActionKind.RECREATE, "after"),
    ]


def test_a_service_nobody_waits_for_to_complete_is_started_again_when_exited_0() -> None:
    for condition in ("service_started", "service_healthy"):
        assert summary(stack(condition), migrated(0), container("after")) == (
            [(ActionKind.START, "migrate", ("stopped out of band",))],
            {"after": NoopReason.IN_SYNC},
        )


def test_a_fresh_project_creates_the_one_shot_before_what_waits_for_it() -> None:
    made = plan(stack(), observed())
    assert [(a.kind, a.service, a.wave) for a in made.actions] == [
        (ActionKind.CREATE, "migrate", 1),
        (ActionKind.CREATE, "after", 2),
    ]


def test_status_shows_a_completed_one_shot_as_completed_not_as_a_problem() -> None:
    state = stack()
    now = observed(migrated(0), container("after"))
    rows = status_rows(Snapshot(desired=state, observed=now, plan=plan(state, now)))
    assert [(r["service"], r["state"], r["verdict"], r["reasons"]) for r in rows] == [
        ("after", "running", "in sync", []),
        ("migrate", "exited", "completed", ["exited with code 0"]),
    ]
