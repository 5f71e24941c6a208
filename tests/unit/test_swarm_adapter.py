"""The Swarm adapter's writes and logs over a scripted manager (state/swarm/adapter.py):
a service the plan keeps is never removed, and its logs are masked like Compose's."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from state import secrets
from state.docker.timeouts import Timeouts
from state.resolve.project import load_project
from state.swarm import manager as real
from state.swarm.adapter import SwarmEngine
from state.swarm.render import STOPPED_LABEL


class Manager(real.Manager):
    """Answers `service ls` and `service inspect` from `services`; records the writes;
    its logs are a process printing a line with the db's password."""

    def __init__(self, services: list[dict[str, Any]]) -> None:
        super().__init__(Timeouts())
        self.services = services
        self.writes: list[tuple[str, ...]] = []

    def run(self, *args: str, what: str, bound: float | None = None) -> str:
        if args[:2] == ("service", "ls"):
            return "\n".join(s["Spec"]["Name"] for s in self.services)
        if args[:2] == ("service", "inspect"):
            return json.dumps([s for s in self.services if s["Spec"]["Name"] in args])
        self.writes.append(args)
        return ""

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-c", "print('db up: POSTGRES_PASSWORD=hunter2hunter2 ok')"]


def spec(name: str, replicas: int, labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "Spec": {
            "Name": f"demo_{name}",
            "Labels": {"com.docker.stack.namespace": "demo", **(labels or {})},
            "Mode": {"Replicated": {"Replicas": replicas}},
            "TaskTemplate": {"ContainerSpec": {"Env": ["POSTGRES_PASSWORD=hunter2hunter2"]}},
        }
    }


def engine(*services: dict[str, Any]) -> tuple[SwarmEngine, Manager]:
    made = SwarmEngine()
    fake = Manager(list(services))
    made.manager = fake
    return made, fake


@pytest.mark.parametrize(
    ("service", "going", "write"),
    [
        (spec("api", 3), ["demo_api.3"], ("service", "scale", "--detach", "demo_api=2")),
        (
            spec("api", 0, {STOPPED_LABEL: "3"}),  # stopped, its file now says 2
            ["demo_api.3"],
            ("service", "update", "--detach", "--label-add", f"{STOPPED_LABEL}=2", "demo_api"),
        ),
        (spec("api", 2), ["demo_api.1", "demo_api.2"], ("service", "rm", "demo_api")),
    ],
    ids=["scale-down", "stopped-scale-down", "every-slot"],
)
def test_removing_slots_removes_a_service_only_when_all_of_them_go(
    service: dict[str, Any], going: list[str], write: tuple[str, ...]
) -> None:
    swarm, manager = engine(service)
    swarm.remove(going)
    assert manager.writes == [write]


@pytest.fixture
def masked() -> Iterator[None]:
    secrets.forget_all()
    yield
    secrets.forget_all()


def test_swarm_logs_go_through_our_stdout_with_the_tasks_secrets_masked(
    masked: None, capfd: pytest.CaptureFixture[str]
) -> None:
    from reconciler.cli.redaction import redacted_output

    swarm, _ = engine(spec("db", 1))
    with redacted_output():
        assert swarm.stream_logs("demo", ["db"], follow=False, tail=None) == 0
    out = capfd.readouterr().out
    assert "POSTGRES_PASSWORD=****" in out and "hunter2" not in out


class Local:
    """Stands in for the local engine's `compose config`."""

    def compose_model(self) -> dict[str, Any]:
        return {"services": {"web": {"image": "nginx", "environment": {"MODE": "a"}}}}


@pytest.mark.parametrize("with_table", [True, False], ids=["table", "plain-compose"])
def test_app_env_is_added_to_the_services_only_where_a_table_defines_it(
    tmp_path: Path, with_table: bool
) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n  web:\n    image: nginx\n")
    if with_table:
        (tmp_path / "environments.toml").write_text(
            'default = "prod"\n[environments.prod]\ndescription = "p"\nfiles = ["compose.yaml"]\n'
        )
    made = SwarmEngine(load_project(tmp_path, process_env={}))
    made.local = Local()  # type: ignore[assignment]
    environment = made.compose_model()["services"]["web"]["environment"]
    assert environment == ({"APP_ENV": "prod", "MODE": "a"} if with_table else {"MODE": "a"})
