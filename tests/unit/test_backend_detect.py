"""Where a project runs decides where a command acts (reconciler/reads/placement.py):
reads and teardowns follow the project to the other backend, applies refuse to start a
second copy. The decision over scripted answers, no engine; the common path (no swarm
configured, an environment on Compose) asks no engine at all."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from reconciler.cli.engines import swarm_configured
from reconciler.reads.backend import BackendKit, choose
from reconciler.reads.placement import ACTING, Placement, RunsElsewhere, place
from state.engine import ONEOFF_LABEL, Backend, ContainerRecord, ContainerStatus
from state.errors import EngineError, TransientError
from state.swarm.adapter import SwarmEngine
from state.swarm.address import MANAGER_VARIABLE

APPLYING = ("cli", "restart", "apply", "watch")  # click's names: `reconcile` is the group
WHY = "APP_ENV=dev (from .env:1) uses compose"


class Answers:
    """Scripted answers to "does it run on this backend?", and the questions asked."""

    def __init__(self, **found: bool | EngineError) -> None:
        self.found, self.asked = found, list[str]()

    def __call__(self, backend: Backend) -> bool:
        self.asked.append(backend)
        answer = self.found[backend]
        if isinstance(answer, EngineError):
            raise answer
        return answer


def decide(command: str, configured: str | None, **found: bool | EngineError) -> Placement:
    return place(
        command, "spotit", Backend(configured) if configured else None, WHY, Answers(**found)
    )


@pytest.mark.parametrize("command", [*ACTING, *APPLYING])
def test_running_only_where_app_env_says_asks_one_question_and_acts_there(command: str) -> None:
    answers = Answers(swarm=False, compose=True)
    assert place(command, "spotit", Backend.COMPOSE, WHY, answers) == Placement(Backend.COMPOSE)
    assert answers.asked == ["swarm"]  # APP_ENV's own backend is never asked
    answers = Answers(compose=False, swarm=True)
    assert place(command, "spotit", Backend.SWARM, WHY, answers) == Placement(Backend.SWARM)
    assert answers.asked == ["compose"]


@pytest.mark.parametrize("command", list(ACTING))
def test_reads_and_teardowns_follow_the_project_to_the_other_backend(command: str) -> None:
    moved = decide(command, "compose", swarm=True, compose=False)
    assert moved.backend == "swarm"
    assert "project spotit runs on the swarm, but APP_ENV=dev" in moved.note
    back = decide(command, "swarm", compose=True, swarm=False)
    assert back.backend == "compose" and "runs on local Compose" in back.note


@pytest.mark.parametrize("command", APPLYING)
def test_an_apply_refuses_to_start_a_second_copy_naming_the_fix(command: str) -> None:
    with pytest.raises(RunsElsewhere) as refused:
        decide(command, "compose", swarm=True, compose=False)
    text = str(refused.value)
    assert "project spotit runs on the swarm backend, but APP_ENV=dev" in text
    assert "nothing was changed" in text and "`reconcile down --backend swarm`" in text
    assert "\n" not in text
    with pytest.raises(RunsElsewhere, match="down --backend compose"):
        decide(command, "swarm", compose=True, swarm=False)
    with pytest.raises(RunsElsewhere, match="runs on both backends"):
        decide(command, "compose", swarm=True, compose=True)


def test_on_both_status_shows_app_envs_copy_and_warns_of_the_other() -> None:
    shown = decide("status", "compose", swarm=True, compose=True)
    assert shown.backend == "compose"
    assert shown.note.startswith("warning: project spotit also runs on the swarm")
    assert "`reconcile down --backend swarm`" in shown.note


@pytest.mark.parametrize("command", ["stop", "down", "logs"])
def test_on_both_a_teardown_or_logs_refuses_and_names_backend(command: str) -> None:
    with pytest.raises(RunsElsewhere) as refused:
        decide(command, "swarm", compose=True, swarm=True)
    assert "runs on both backends" in str(refused.value)
    assert f"`reconcile {command} --backend compose` or `--backend swarm`" in str(refused.value)


def test_a_broken_table_still_finds_the_swarm_copy_else_acts_on_compose() -> None:
    found = decide("down", None, swarm=True, compose=False)
    assert found.backend == "swarm"
    answers = Answers(swarm=False)
    assert place("stop", "spotit", None, "the table is broken", answers) == Placement(
        Backend.COMPOSE
    )
    assert answers.asked == ["swarm"]


def test_a_swarm_that_does_not_answer_blocks_an_apply_but_not_a_read() -> None:
    away = TransientError("docker service ls failed: no swarm manager answers")
    with pytest.raises(RunsElsewhere) as refused:
        decide("cli", "compose", swarm=away, compose=True)
    assert "cannot tell whether project spotit also runs on the swarm" in str(refused.value)
    assert "pass --backend compose" in str(refused.value)
    read = decide("down", "compose", swarm=away)
    assert read.backend == "compose" and "could not check the swarm" in read.note


def test_a_local_engine_that_does_not_answer_runs_nothing_to_collide_with() -> None:
    down = TransientError("docker container ls failed: is the engine running?")
    assert decide("cli", "swarm", compose=down) == Placement(Backend.SWARM)
    assert decide("stop", "swarm", compose=down).note.startswith("could not check local Compose")


def test_a_swarm_is_configured_by_its_variable_or_an_existing_socket(tmp_path: Path) -> None:
    socket = tmp_path / "manager.sock"
    assert not swarm_configured({MANAGER_VARIABLE: f"unix://{socket}"})
    socket.touch()
    assert swarm_configured({MANAGER_VARIABLE: f"unix://{socket}"})
    assert swarm_configured({MANAGER_VARIABLE: "tcp://10.0.0.5:2376"})


def record(name: str, **labels: str) -> ContainerRecord:
    return ContainerRecord(
        id=name, name=name, labels=labels, status=ContainerStatus.RUNNING, env={}, image_id="x"
    )


class LocalEngine:
    """Local Compose's answer to `has_project(project)`, counting the calls."""

    def __init__(self, *found: ContainerRecord) -> None:
        self.found, self.calls = list(found), 0

    def __call__(self, project: Any) -> LocalEngine:
        return self

    def has_project(self, project: str) -> bool:
        self.calls += 1
        return any(r.labels.get(ONEOFF_LABEL) != "True" for r in self.found)


def kits(local: LocalEngine) -> dict[Backend, BackendKit]:
    return {
        Backend.COMPOSE: BackendKit(Backend.COMPOSE, local),  # type: ignore[arg-type]
        Backend.SWARM: BackendKit(Backend.SWARM, SwarmEngine, configured=swarm_configured),
    }


def test_without_a_swarm_no_engine_is_asked_and_one_offs_are_not_a_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MANAGER_VARIABLE, f"unix://{tmp_path}/none.sock")  # a call would raise
    local = LocalEngine(record("spotit-run-1", **{ONEOFF_LABEL: "True"}))
    kit, note = choose(
        kits(local), "status", "spotit", chosen=None, configured=Backend.SWARM, why=WHY,
        environ=os.environ,
    )  # fmt: skip
    assert kit.backend is Backend.SWARM and local.calls == 1  # only a one-off: not a copy
    local.found.append(record("spotit-api-1", **{ONEOFF_LABEL: "False"}))
    kit, note = choose(
        kits(local), "status", "spotit", chosen=None, configured=Backend.SWARM, why=WHY,
        environ=os.environ,
    )  # fmt: skip
    assert kit.backend is Backend.COMPOSE and "runs on local Compose" in note


def test_the_cli_on_compose_without_a_swarm_picks_the_engine_without_calling_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MANAGER_VARIABLE, f"unix://{tmp_path}/none.sock")
    local = LocalEngine()
    kit, note = choose(
        kits(local), "cli", "spotit", chosen=None, configured=Backend.COMPOSE, why=WHY,
        environ=os.environ,
    )  # fmt: skip
    assert kit.backend is Backend.COMPOSE and note == "" and local.calls == 0
    kit, _ = choose(
        kits(local), "cli", "spotit", chosen=Backend.SWARM, configured=Backend.COMPOSE, why=WHY,
        environ=os.environ,
    )  # fmt: skip
    assert kit.engine is SwarmEngine and local.calls == 0


def test_no_docker_client_is_an_engine_error_the_decision_handles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no `docker` here
    with pytest.raises(EngineError, match="no docker client on PATH"):
        SwarmEngine().service_ids("spotit")
