"""Teardown and naming on the real engine: stop and down need only the project's name,
never touch one-off containers, and two checkouts are two stacks.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from state.resolve.naming import normalise
from tests.integration.plain_stack import (
    PORT_VARIABLES,
    REPO,
    PlainStack,
    copy_project,
    free_ports,
    reconcile,
    reconcile_environment,
)

BASE = {"db", "api-gateway", "analyzer-nlp", "analyzer-llm"}


def up(stack: PlainStack) -> None:
    result = reconcile(stack, "--no-wait")
    assert result.returncode == 0, result.stdout + result.stderr


def by_oneoff(stack: PlainStack) -> dict[bool, set[str]]:
    found: dict[bool, set[str]] = {True: set(), False: set()}
    for c in stack.containers():
        found[c["Config"]["Labels"].get("com.docker.compose.oneoff") == "True"].add(c["Name"])
    return found


def networks(name: str) -> list[str]:
    return subprocess.run(
        ["docker", "network", "ls", "-q", "--filter", f"label=com.docker.compose.project={name}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()


def test_down_never_removes_a_running_compose_run_container(stack: PlainStack) -> None:
    up(stack)
    stack.compose("run", "--detach", "--no-deps", "analyzer-nlp", "sleep", "300")
    oneoffs = by_oneoff(stack)[True]
    assert len(oneoffs) == 1

    planned = reconcile(stack, "down", "--plan", "--format", "json")
    assert planned.returncode == 2, planned.stderr
    document = json.loads(planned.stdout)
    assert {a["service"] for a in document["actions"]} == BASE
    assert document["networks"]["keep"] and not document["networks"]["remove"]

    result = reconcile(stack, "down")
    assert result.returncode == 0, result.stdout + result.stderr
    assert by_oneoff(stack) == {True: oneoffs, False: set()}
    assert "Kept network(s)" in result.stdout
    assert networks(stack.name)  # the one-off still uses it


def test_stop_down_and_status_work_with_images_gone_and_files_broken(stack: PlainStack) -> None:
    up(stack)
    compose_file = stack.directory / "compose" / "compose.yaml"
    text = compose_file.read_text()
    compose_file.write_text(text.replace("spot-app:local", "spotit-no-such-image:local"))
    status = reconcile(stack, "status")  # what runs, and what an apply would need first
    assert status.returncode == 0, status.stderr
    missing = "image spotit-no-such-image:local is not on this engine"
    assert status.stdout.count(missing) == 3 and "run `just images`" in status.stdout
    applied = reconcile(stack)  # refused before anything is touched
    assert applied.returncode == 1 and "just images" in applied.stderr
    assert stack.running_services() == BASE

    compose_file.write_text(text + "\nservices: [this is: not compose\n")
    assert "Cannot tell what should run:" in reconcile(stack, "status").stdout
    planned = reconcile(stack, "stop", "--plan")
    assert planned.returncode == 2, planned.stderr
    assert "Plan: 4 to stop." in planned.stdout
    assert stack.running_services() == BASE  # --plan changed nothing

    stopped = reconcile(stack, "stop")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert stack.running_services() == set()
    assert len(stack.containers()) == len(BASE)

    gone = reconcile(stack, "down")
    assert gone.returncode == 0, gone.stdout + gone.stderr
    assert stack.containers() == []
    assert networks(stack.name) == []


def checkout(root: Path, label: str) -> PlainStack:
    """A copy of the stack in a directory of its own name, with its own free ports."""
    directory = root / f"spotit-{label}-{uuid.uuid4().hex[:6]}"
    ports = dict(zip(PORT_VARIABLES, free_ports(len(PORT_VARIABLES)), strict=True))
    copy_project(directory, ports)
    return PlainStack(directory, "prod", normalise(directory.name), ports)


def unnamed(stack: PlainStack, *args: str) -> subprocess.CompletedProcess[str]:
    """`reconcile ARGS` run from inside the checkout, with no project name given."""
    env = {k: v for k, v in reconcile_environment("prod").items() if k != "COMPOSE_PROJECT_NAME"}
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *args],
        capture_output=True,
        text=True,
        env={**env, "PYTHONPATH": str(REPO)},
        cwd=stack.directory,
        timeout=300,
    )


def test_two_checkouts_are_two_stacks(tmp_path: Path) -> None:
    first, second = checkout(tmp_path, "one"), checkout(tmp_path, "two")
    try:
        result = unnamed(first, "--no-wait")
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"project {first.name}" in result.stdout
        assert first.running_services() == BASE

        status = json.loads(unnamed(second, "status", "--format", "json").stdout)
        assert status["project"] == second.name
        assert status["services"] == [] or {r["verdict"] for r in status["services"]} == {"missing"}
        before = {c["Id"] for c in first.containers()}
        assert unnamed(second, "down").returncode == 0
        assert {c["Id"] for c in first.containers()} == before
    finally:
        first.remove_everything()
        second.remove_everything()


GATED = """\
services:
  db:
    image: spot-busybox:local
    pull_policy: never
    init: true
    command: ["sleep", "2147483647"]
    healthcheck: {test: ["CMD", "true"], interval: 1s, timeout: 2s, retries: 3}
  api:  # no init: sleep as PID 1 ignores SIGTERM, so api takes its whole grace to stop
    image: spot-busybox:local
    pull_policy: never
    command: ["sleep", "2147483647"]
    stop_grace_period: 1s
    depends_on: {db: {condition: service_healthy}}
"""


def died(name: str, since: float) -> list[str]:
    """The project's services in the order their containers died since `since`."""
    window = ["--since", f"{since:.3f}", "--until", f"{time.time():.3f}"]
    only = ["--filter", f"label=com.docker.compose.project={name}", "--filter", "event=die"]
    service = '{{index .Actor.Attributes "com.docker.compose.service"}}'
    out = subprocess.run(
        ["docker", "events", *window, *only, "--format", service],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.split()


def test_stop_and_down_go_dependents_first_where_a_later_wave_left_no_label(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """api waits for db's health; an apply without the gate (--no-wait) creates it in a
    later `up --no-deps api`, whose depends_on label Compose writes without db. Ours
    must still stop api (slow: 1 s) before db (at once), as `docker compose stop` does
    with the files."""
    monkeypatch.setenv("RECONCILE_LOCK_DIR", str(tmp_path / "locks"))
    (tmp_path / "compose").mkdir()
    (tmp_path / "compose/compose.yaml").write_text(GATED)
    (tmp_path / "compose/environments.toml").write_text(
        'default = "prod"\n\n[environments.prod]\ndescription = "gated"\nfiles = ["compose.yaml"]\n'
    )
    stack = PlainStack(tmp_path, "prod", f"spotit-order-{uuid.uuid4().hex[:6]}")
    try:
        for command in (("stop",), ("down",)):
            applied = reconcile(stack, "--no-wait", app_env="prod")
            assert applied.returncode == 0, applied.stdout + applied.stderr
            (api,) = [
                c["Config"]["Labels"]
                for c in stack.containers()
                if c["Config"]["Labels"]["com.docker.compose.service"] == "api"
            ]
            assert "db" not in api.get("com.docker.compose.depends_on", "")
            since = time.time()
            result = reconcile(stack, *command, app_env="prod")
            assert result.returncode == 0, result.stdout + result.stderr
            assert died(stack.name, since) == ["api", "db"], command

        reconcile(stack, app_env="prod")  # the oracle: Compose's own stop, with the files
        since = time.time()
        stack.compose("stop")
        assert died(stack.name, since) == ["api", "db"]
    finally:
        stack.remove_everything()
