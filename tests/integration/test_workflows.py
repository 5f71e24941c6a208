"""The spec's workflows end to end: `reconcile` (what `just up` runs) on the real engine.

Each test gets a private copy of the stack under its own project name and ports, and
removes it afterwards (volumes included).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.integration import dap
from tests.integration.plain_stack import (
    REPO,
    PlainStack,
    fingerprint,
    reconcile,
    start_reconcile,
    wait_for,
)

BASE = {"db", "api-gateway", "analyzer-nlp", "analyzer-llm"}
DEV_TOOLS = {"adminer", "mailhog", "devtools"}
MOCKS = {"analyzer-mock-nlp", "analyzer-mock-llm"}
PSQL = ("psql", "-h", "/tmp", "-U", "postgres", "-tAc")


def up(stack: PlainStack, app_env: str | None = None, *args: str) -> str:
    result = reconcile(stack, *args, app_env=app_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Converged" in result.stdout or "No changes" in result.stdout, result.stdout
    return result.stdout


def plan_exit(stack: PlainStack, app_env: str | None = None) -> int:
    return reconcile(stack, "--plan", app_env=app_env).returncode


def env_of_every_container(stack: PlainStack) -> dict[str, str]:
    result = {}
    for container in stack.containers():
        service = container["Config"]["Labels"]["com.docker.compose.service"]
        out = subprocess.run(
            ["docker", "exec", container["Id"], "env"], capture_output=True, text=True, check=True
        ).stdout
        result[service] = next(
            line.split("=", 1)[1] for line in out.splitlines() if line.startswith("APP_ENV=")
        )
    return result


def ids(stack: PlainStack) -> dict[str, str]:
    return {
        c["Config"]["Labels"]["com.docker.compose.service"]: c["Id"] for c in stack.containers()
    }


def test_default_start_is_prod_and_a_second_run_changes_nothing(stack: PlainStack) -> None:
    out = up(stack)
    assert "APP_ENV=prod (the default)" in out
    assert stack.running_services() == BASE
    assert stack.get("/health").json()["app_env"] == "prod"
    before = fingerprint(stack)
    second = reconcile(stack)
    assert second.returncode == 0
    assert "No changes. The stack matches APP_ENV=prod." in second.stdout
    assert fingerprint(stack) == before


def test_dev_brings_dev_tools_debug_ports_and_hot_reload(stack: PlainStack) -> None:
    up(stack, "dev")
    assert stack.running_services() == BASE | DEV_TOOLS
    initialize = dap.response(dap.attach_and_detach(stack.ports["DEBUG_PORT_1"]), "initialize")
    assert initialize["success"] is True
    source = stack.directory / "compose/services/api-gateway/src/main.py"
    source.write_text(
        source.read_text().replace('GREETING = "spot api-gateway"', 'GREETING = "hot reloaded"')
    )

    def reloaded() -> bool:
        try:
            return bool(stack.get("/").json()["message"] == "hot reloaded")
        except Exception:
            return False

    assert wait_for(reloaded, timeout=20)


def test_switching_dev_to_prod_removes_tools_and_recreates_the_rest(stack: PlainStack) -> None:
    up(stack, "dev")
    dev_ids = ids(stack)
    out = up(stack, "prod")
    for tool in sorted(DEV_TOOLS):
        assert f"{stack.name}-{tool}-1" in out and "not in the profiles of prod" in out
    assert stack.running_services() == BASE
    assert {s for s in ids(stack)} == BASE
    assert all(ids(stack)[s] != dev_ids[s] for s in BASE)
    assert env_of_every_container(stack) == {s: "prod" for s in BASE}
    assert plan_exit(stack, "prod") == 0


def test_every_container_names_the_environment_it_runs_in(stack: PlainStack) -> None:
    up(stack, "test")
    assert env_of_every_container(stack) == {s: "test" for s in BASE | DEV_TOOLS | MOCKS}
    logs = reconcile(stack, "logs", "analyzer-mock-nlp", "--tail", "20")
    assert logs.returncode == 0, logs.stderr
    assert "analyzer-mock-nlp started: APP_ENV=test LOG_LEVEL=WARNING" in logs.stdout


def test_editing_env_while_running_changes_nothing_until_up(stack: PlainStack) -> None:
    up(stack)
    before = fingerprint(stack)
    env_file = stack.directory / ".env"
    env_file.write_text(env_file.read_text() + "APP_ENV=dev\n")
    assert fingerprint(stack) == before  # nothing hot-swaps
    status = reconcile(stack, "status")
    assert "Running: prod; desired: dev." in status.stdout
    assert plan_exit(stack) == 2
    out = up(stack)
    assert f"APP_ENV=dev (from {env_file}:" in out
    assert stack.running_services() == BASE | DEV_TOOLS
    assert env_file.read_text().endswith("APP_ENV=dev\n")  # never written


def test_restart_recreates_everything_even_unchanged(stack: PlainStack) -> None:
    up(stack)
    before = ids(stack)
    out = reconcile(stack, "restart")
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("restart: stop first") == 4  # explicit stops, in the plan
    assert out.stdout.count("restart requested") == 4
    after = ids(stack)
    assert set(after) == BASE and all(after[s] != before[s] for s in BASE)
    assert plan_exit(stack) == 0


def test_stop_then_status_then_up_starts_the_same_containers(stack: PlainStack) -> None:
    up(stack)
    before = ids(stack)
    assert reconcile(stack, "stop").returncode == 0
    assert stack.running_services() == set()
    status = reconcile(stack, "status", "--format", "json")
    document = json.loads(status.stdout)
    assert {r["state"] for r in document["services"]} == {"exited"}
    assert {r["verdict"] for r in document["services"]} == {"would start"}
    up(stack)
    assert ids(stack) == before
    assert stack.running_services() == BASE


def test_db_data_survives_everything_but_down_volumes(stack: PlainStack) -> None:
    up(stack)
    stack.exec("db", *PSQL, "CREATE TABLE notes (body text); INSERT INTO notes VALUES ('kept')")

    def row() -> str:
        return stack.exec("db", *PSQL, "SELECT body FROM notes").strip()

    for step in (("dev",), ("test",), ("prod",)):
        up(stack, *step)
        assert row() == "kept", step
    assert reconcile(stack, "restart").returncode == 0
    assert row() == "kept"
    assert reconcile(stack, "stop").returncode == 0
    up(stack)
    assert row() == "kept"
    down = reconcile(stack, "down")
    assert down.returncode == 0 and "Kept volume(s)" in down.stdout
    up(stack)
    assert row() == "kept"

    refused = reconcile(stack, "down", "--volumes")
    assert refused.returncode == 1 and "pass --yes" in refused.stderr
    assert stack.running_services() == BASE  # nothing touched
    gone = reconcile(stack, "down", "--volumes", "--yes")
    assert gone.returncode == 0
    assert f"Removed volume(s): {stack.name}_db-data" in gone.stdout
    up(stack)
    missing = stack.compose("exec", "-T", "db", *PSQL, "SELECT body FROM notes", check=False)
    assert 'relation "notes" does not exist' in missing.stderr


def test_out_of_band_stop_and_removal_are_repaired_touching_nothing_else(stack: PlainStack) -> None:
    up(stack)
    before = {
        c["Config"]["Labels"]["com.docker.compose.service"]: (c["Id"], c["State"]["StartedAt"])
        for c in stack.containers()
    }
    subprocess.run(
        ["docker", "stop", f"{stack.name}-analyzer-nlp-1"], check=True, capture_output=True
    )
    subprocess.run(
        ["docker", "rm", "-f", f"{stack.name}-analyzer-llm-1"], check=True, capture_output=True
    )
    planned = json.loads(reconcile(stack, "--plan", "--format", "json").stdout)
    assert {(a["kind"], a["service"]) for a in planned["actions"]} == {
        ("start", "analyzer-nlp"),
        ("create", "analyzer-llm"),
    }
    up(stack)
    after = {
        c["Config"]["Labels"]["com.docker.compose.service"]: (c["Id"], c["State"]["StartedAt"])
        for c in stack.containers()
    }
    for untouched in ("db", "api-gateway"):
        assert after[untouched] == before[untouched]
    assert after["analyzer-nlp"][0] == before["analyzer-nlp"][0]  # started again, not recreated
    assert stack.running_services() == BASE


def test_prod_dev_test_prod_each_converges(stack: PlainStack) -> None:
    for app_env in ("prod", "dev", "test", "prod"):
        up(stack, app_env)
        assert plan_exit(stack, app_env) == 0, app_env
        assert stack.get("/health").json()["app_env"] == app_env


def test_just_recipes_take_an_inline_app_env(stack: PlainStack) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
    env["APP_ENV"] = "dev"
    args = ["--project-name", stack.name, "--project-directory", str(stack.directory)]
    just = Path(sys.executable).with_name("just")
    result = subprocess.run(
        [str(just), "plan", *args], capture_output=True, text=True, env=env, cwd=REPO, timeout=300
    )
    assert result.returncode == 2, result.stderr
    assert "APP_ENV=dev (from the command line)" in result.stdout


def test_integration_tests_refuse_to_run_outside_test_and_touch_nothing(tmp_path: Path) -> None:
    # "Touch nothing" means: never call the engine. A `docker` shim first on PATH records
    # every call, so the check holds on a daemon that other work changes meanwhile.
    calls = tmp_path / "docker-calls"
    shim = tmp_path / "bin" / "docker"
    shim.parent.mkdir()
    real = shutil.which("docker")
    assert real is not None
    shim.write_text(f'#!/bin/sh\necho "$*" >> {calls}\nexec {real} "$@"\n')
    shim.chmod(0o755)
    env = {**os.environ, "APP_ENV": "dev", "PATH": f"{shim.parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/integration", "-q"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
    )
    assert result.returncode != 0
    assert "Integration tests must run in test environment" in result.stdout + result.stderr
    assert not calls.exists(), calls.read_text()


def test_a_service_that_never_gets_healthy_fails_the_apply_with_its_evidence(
    stack: PlainStack,
) -> None:
    compose_file = stack.directory / "compose/compose.yaml"
    text = compose_file.read_text()
    broken = text.replace(
        """    command: ["python3", "/app/services/analyzer/worker.py", "nlp"]
    environment: *env
    healthcheck: *worker-health""",
        """    command: ["python3", "/app/services/analyzer/worker.py", "nlp"]
    environment: *env
    healthcheck:
      test: ["CMD-SHELL", "echo the model is not loaded; exit 1"]
      interval: 1s
      retries: 2""",
    )
    assert broken != text
    compose_file.write_text(broken)
    result = reconcile(stack, "--wait-timeout", "8")
    assert result.returncode == 1
    assert "apply failed: failed to start: analyzer-nlp (" in result.stderr  # at once: unhealthy
    assert "analyzer-nlp" in result.stderr and "unhealthy" in result.stderr
    assert "last health check: the model is not loaded" in result.stderr
    assert "analyzer-nlp started: APP_ENV=prod" in result.stderr  # its log
    assert "Traceback" not in result.stderr


def test_killing_reconcile_mid_apply_leaves_a_state_the_next_run_converges(
    stack: PlainStack,
) -> None:
    up(stack)
    running = start_reconcile(stack, app_env="dev")
    assert wait_for(
        lambda: "Applying:" in (running.stdout.readline() if running.stdout else ""),
        timeout=60,
        interval=0,
    )
    running.kill()  # SIGKILL, mid-apply: no cleanup of any kind runs
    running.wait()
    out = up(stack, "dev")
    assert "Converged" in out or "No changes" in out
    assert plan_exit(stack, "dev") == 0
    assert stack.running_services() == BASE | DEV_TOOLS


def test_a_second_apply_fails_naming_the_first_or_waits_for_it(stack: PlainStack) -> None:
    up(stack)
    first = start_reconcile(stack, app_env="dev")
    try:
        # The plan is printed while the lock is held, and the apply takes seconds.
        assert wait_for(
            lambda: (first.stdout.readline() if first.stdout else "").startswith("Plan:"),
            timeout=60,
            interval=0,
        )
        impatient = reconcile(stack, "--lock-timeout", "0", app_env="dev")
        assert impatient.returncode == 1
        assert (
            f"another reconcile is applying project {stack.name} (pid {first.pid}, started "
            in impatient.stderr
        )
        assert "--lock-timeout" in impatient.stderr
        patient = reconcile(stack, "--lock-timeout", "120", app_env="dev")
        assert patient.returncode == 0, patient.stderr
        assert "No changes. The stack matches APP_ENV=dev." in patient.stdout
    finally:
        first.wait(timeout=120)
    assert first.returncode == 0
