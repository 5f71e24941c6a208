"""The records a read builds are what validation would give.

The lean read path (issue 23): the records (engine port, observed and desired state,
plan) are plain frozen dataclasses, built from the adapter's checked inspect documents
and from Compose's model checked as it answered; nothing validates them again. Each is
checked here against the same data validated afresh by pydantic, field by field and
type by type (`repr` shows a list where a tuple belongs, a str where an enum does), so
a built record can never carry what validation would have refused or converted. Read
back from a file (journal, saved plan), a record is validated and refuses unknown keys.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from reconciler.commands.receipts import digest
from reconciler.planner.actions import Plan
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
from state.errors import PermanentError
from state.model.observed import observe
from state.stored import as_json, validated
from tests.builders import PROJECT, container, desired, observed, service

FIXTURES = Path(__file__).parents[1] / "fixtures" / "inspect"


def revalidated(record: Any) -> Any:
    """The same data through validation: what a validated read would have built."""
    return validated(type(record), as_json(record))


def assert_as_validated(record: Any) -> None:
    again = revalidated(record)
    assert record == again
    assert repr(record) == repr(again)  # the types too: tuple, enum, dict


@pytest.mark.parametrize("fixture", sorted(FIXTURES.glob("*.json")), ids=lambda p: p.stem)
def test_records_from_inspect_documents_are_as_validated(fixture: Path) -> None:
    records = records_of(json.loads(fixture.read_text()))
    assert records
    for record in records:
        assert_as_validated(record)
        assert isinstance(record.status, ContainerStatus)


@pytest.mark.parametrize(
    ("key", "value", "named"),
    [
        (("State", "Status"), "not-a-state", "State.Status"),
        (("Id",), None, "Id"),
        (("Config", "Labels"), {"a": 1}, "Config.Labels"),
        (("Config", "Env"), "A=1", "Config.Env"),
        (("State", "ExitCode"), "0", "State.ExitCode"),
        (("State", "Health"), {"Log": []}, "State.Health.Status"),
        (("Config",), [], "Config"),
    ],
)
def test_a_document_of_the_wrong_shape_is_refused_naming_the_key(
    key: tuple[str, ...], value: object, named: str
) -> None:
    document: dict[str, Any] = json.loads(sorted(FIXTURES.glob("*.json"))[0].read_text())[0]
    parent = document
    for part in key[:-1]:
        parent = parent[part]
    parent[key[-1]] = value
    with pytest.raises(PermanentError, match=f"unexpected `docker inspect` output: {named}"):
        records_of([document])


def test_keys_that_may_be_null_are_read_as_absent() -> None:
    document: dict[str, Any] = json.loads(sorted(FIXTURES.glob("*.json"))[0].read_text())[0]
    document["Config"]["Labels"] = document["Config"]["Env"] = document["State"]["Health"] = None
    (record,) = records_of([document])
    assert (record.labels, record.env, record.health, record.health_output) == ({}, {}, None, None)


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


def test_a_stored_record_with_a_key_it_does_not_have_is_refused() -> None:
    stored = as_json(desired(service("db")))
    assert validated(type(desired(service("db"))), stored) == desired(service("db"))
    stored["services"]["db"]["surprise"] = 1
    with pytest.raises(ValueError, match="surprise"):
        validated(type(desired(service("db"))), stored)


def test_the_plan_digest_is_the_one_the_validated_models_gave() -> None:
    """History names plans by digest: the JSON the records write is byte for byte the
    JSON pydantic writes for them, so a digest taken before this change still matches."""
    from pydantic import TypeAdapter

    made = plan(desired(service("db"), service("web", depends_on=["db"])), observed())
    assert made.actions
    by_pydantic = hashlib.sha256(TypeAdapter(Plan).dump_json(made)).hexdigest()[:16]
    assert digest(made) == f"sha256:{by_pydantic}"
