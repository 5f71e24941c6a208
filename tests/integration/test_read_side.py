"""The read side on the real engine: `reconcile --plan` and `status` see drift and touch nothing.

The stack is brought up in prod with plain `docker compose`; then APP_ENV changes in
.env, and the reconciler must report exactly what would change, exit 2, and leave
.env and every container as they were.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from state.docker.adapter import DockerEngine
from state.model.observed import observe
from state.resolve.project import load_project
from tests.integration.plain_stack import (
    REPO,
    PlainStack,
    fingerprint,
    reconcile,
    unique_project_name,
)

PROD_SERVICES = {"db", "api-gateway", "analyzer-nlp", "analyzer-llm"}


@pytest.fixture(scope="module")
def prod_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlainStack]:
    stack = PlainStack.create(tmp_path_factory.mktemp("read"), "prod", label="read")
    try:
        stack.up()
        yield stack
    finally:
        stack.remove_everything()


def test_a_stack_compose_just_brought_up_needs_no_changes(prod_stack: PlainStack) -> None:
    result = reconcile(prod_stack, "--plan")
    assert result.returncode == 0, result.stderr
    assert "APP_ENV=prod (the default)" in result.stdout
    assert "No changes. The stack matches APP_ENV=prod." in result.stdout


def test_env_file_switch_to_dev_is_planned_and_nothing_is_touched(prod_stack: PlainStack) -> None:
    env_file = prod_stack.directory / ".env"
    original = env_file.read_text()
    env_file.write_text(original + "APP_ENV=dev\n")
    env_before = env_file.read_bytes()
    before = fingerprint(prod_stack)
    try:
        result = reconcile(prod_stack, "--plan", "--format", "json")
        assert result.returncode == 2, result.stderr
        document = json.loads(result.stdout)
        assert document["schema_version"] == 7
        assert document["app_env"]["source"] == "env file"
        by_kind: dict[str, dict[str, list[str]]] = {}
        for action in document["actions"]:
            by_kind.setdefault(action["kind"], {})[action["service"]] = action["reasons"]
        assert set(by_kind) == {"recreate", "create"}
        # The app services also move to the dev image (dev dependencies); the db does not.
        assert by_kind["recreate"] == {
            s: ["APP_ENV prod -> dev"] + (["image changed"] if s != "db" else [])
            for s in PROD_SERVICES
        }
        assert set(by_kind["create"]) == {"adminer", "mailhog", "devtools"}
        # db is recreated before the api-gateway that depends on it.
        wave = {a["service"]: a["wave"] for a in document["actions"]}
        assert wave["db"] < wave["api-gateway"]

        text = reconcile(prod_stack, "--plan")
        assert text.returncode == 2
        assert "Plan: 3 to create, 4 to recreate, 0 to remove." in text.stdout

        status = reconcile(prod_stack, "status")
        assert status.returncode == 0, status.stderr
        assert "running: prod" in status.stdout
        assert "Running: prod; desired: dev." in status.stdout
        assert "would recreate (APP_ENV prod -> dev)" in status.stdout

        assert env_file.read_bytes() == env_before
        assert fingerprint(prod_stack) == before
    finally:
        env_file.write_text(original)


def test_command_line_beats_env_file(prod_stack: PlainStack) -> None:
    env_file = prod_stack.directory / ".env"
    original = env_file.read_text()
    env_file.write_text(original + "APP_ENV=dev\n")
    try:
        result = reconcile(prod_stack, "--plan", app_env="prod")
        assert result.returncode == 0, result.stderr
        assert "APP_ENV=prod (from the command line)" in result.stdout
    finally:
        env_file.write_text(original)


def test_invalid_app_env_is_one_line_exit_1_and_touches_nothing(prod_stack: PlainStack) -> None:
    before = fingerprint(prod_stack)
    result = reconcile(prod_stack, "--plan", app_env="staging")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "APP_ENV='staging' (from the command line) is not an environment" in result.stderr
    assert "Traceback" not in result.stderr
    assert fingerprint(prod_stack) == before


def test_status_json_lists_every_container(prod_stack: PlainStack) -> None:
    result = reconcile(prod_stack, "status", "--format", "json")
    document = json.loads(result.stdout)
    assert document["in_sync"] is True
    assert document["running_environments"] == ["prod"]
    assert {row["service"] for row in document["services"]} == PROD_SERVICES
    assert {row["verdict"] for row in document["services"]} == {"in sync"}


@pytest.fixture
def bare_containers(tmp_path: Path) -> Iterator[tuple[str, Any]]:
    """A project of plain `docker create`d containers carrying Compose's labels."""
    name = unique_project_name("observe")
    created: list[str] = []

    def make(count: int, **labels: str) -> None:
        for _ in range(count):
            all_labels = {
                "com.docker.compose.project": name,
                "com.docker.compose.service": f"svc{len(created)}",
                "com.docker.compose.container-number": "1",
                **labels,
            }
            args = [arg for k, v in all_labels.items() for arg in ("--label", f"{k}={v}")]
            out = subprocess.run(
                ["docker", "create", *args, "spot-busybox:local", "true"],
                capture_output=True,
                text=True,
                check=True,
            )
            created.append(out.stdout.strip())

    try:
        yield name, make
    finally:
        if created:
            subprocess.run(["docker", "rm", "-f", *created], capture_output=True)


@pytest.mark.parametrize("count", [3, 30])
def test_observation_takes_two_engine_calls_whatever_the_count(
    bare_containers: tuple[str, Any], count: int, tmp_path: Path
) -> None:
    name, make = bare_containers
    make(count)
    make(1, **{"com.docker.compose.oneoff": "True"})
    engine = DockerEngine(load_project(REPO, project_name=name, process_env={}))
    state = observe(engine, name)
    assert engine.calls == 2
    assert len(state.containers) == count  # the one-off is left out
