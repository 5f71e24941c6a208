"""The records a read constructs without validating are what validation would give.

The lean read path (issue 23) builds the engine port's records from the adapter's
validated inspect documents, the observed state from those records, and the plan from
validated states with `model_construct`: no second validation. Each is checked here
against the same data validated afresh, field by field and type by type (`repr` shows
a list where a tuple belongs, a str where an enum does), so a constructed record can
never carry what validation would have refused or converted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from reconciler.planner.plan import ActionKind, Strategy, plan, teardown_plan
from state.docker.inspect import records_of
from state.engine import (
    CONFIG_HASH_LABEL,
    DEPENDS_ON_LABEL,
    NUMBER_LABEL,
    PROJECT_LABEL,
    SERVICE_LABEL,
    WORKING_DIR_LABEL,
    ContainerRecord,
    ContainerStatus,
)
from state.model.observed import observe
from tests.builders import PROJECT, container, desired, observed, service

FIXTURES = Path(__file__).parents[1] / "fixtures" / "inspect"


def revalidated(model: BaseModel) -> BaseModel:
    """The same data through validation: what a validated read would have built."""
    return type(model).model_validate(model.model_dump())


def assert_as_validated(model: BaseModel) -> None:
    again = revalidated(model)
    assert model == again
    assert repr(model) == repr(again)  # the types too: tuple, enum, dict


@pytest.mark.parametrize("fixture", sorted(FIXTURES.glob("*.json")), ids=lambda p: p.stem)
def test_records_from_inspect_documents_are_as_validated(fixture: Path) -> None:
    records = records_of(json.loads(fixture.read_text()))
    assert records
    for record in records:
        assert_as_validated(record)
        assert isinstance(record.status, ContainerStatus)


def test_a_document_the_adapter_refuses_is_still_refused() -> None:
    document: dict[str, Any] = json.loads(sorted(FIXTURES.glob("*.json"))[0].read_text())[0]
    document["State"]["Status"] = "not-a-state"
    with pytest.raises(Exception, match="unexpected `docker inspect` output"):
        records_of([document])


class Records:
    """An engine port that lists the records it was given (observe's only call)."""

    def __init__(self, *records: ContainerRecord) -> None:
        self.records = list(records)

    def containers(self, project: str) -> list[ContainerRecord]:
        return self.records


def record(service: str, number: int, **labels: str) -> ContainerRecord:
    return ContainerRecord(
        id=f"id-{service}-{number}",
        name=f"{PROJECT}-{service}-{number}",
        labels={
            PROJECT_LABEL: PROJECT,
            SERVICE_LABEL: service,
            NUMBER_LABEL: str(number),
            **labels,
        },
        status=ContainerStatus.EXITED if number > 1 else ContainerStatus.RUNNING,
        health="healthy" if number == 1 else None,
        exit_code=0 if number > 1 else None,
        env={"APP_ENV": "prod", "OTHER": "x"},
        image_id="sha256:abc",
    )


def test_the_observed_state_is_as_validated() -> None:
    engine = Records(
        record("web", 2, **{CONFIG_HASH_LABEL: "h2", WORKING_DIR_LABEL: "/srv"}),
        record("web", 1, **{DEPENDS_ON_LABEL: "db:service_healthy:false,cache:x:true"}),
        record("db", 1, **{NUMBER_LABEL: "not-a-number"}),
        record("other", 1, **{PROJECT_LABEL: "another"}),  # dropped by observe
    )
    state = observe(engine, PROJECT)  # type: ignore[arg-type]
    assert [c.service for c in state.containers] == ["db", "web", "web"]
    assert_as_validated(state)
    for each in state.containers:
        assert_as_validated(each)


@pytest.mark.parametrize("strategy", list(Strategy))
def test_plans_are_as_validated(strategy: Strategy) -> None:
    wanted = desired(
        service("db"),
        service("web", depends_on=["db"], replicas=2),
        service("new"),
        known=["gone-by-profile"],
    )
    running = observed(
        container("db"),
        container("web", config_hash="stale"),
        container("web", 3, env="dev"),
        container("gone-by-profile"),
        container("unknown"),
    )
    for made in (plan(wanted, running, strategy), plan(wanted, observed(*[]), strategy)):
        assert_as_validated(made)
        assert isinstance(made.actions, tuple) and isinstance(made.noops, tuple)
    in_sync = plan(desired(service("db")), observed(container("db")), strategy)
    assert_as_validated(in_sync)


@pytest.mark.parametrize("kind", [ActionKind.STOP, ActionKind.REMOVE])
def test_teardown_plans_are_as_validated(kind: ActionKind) -> None:
    made = teardown_plan(observed(container("db"), container("web")), kind, "asked")
    assert made.actions
    assert_as_validated(made)
