"""Automatic rollback on the real engine: a service that never becomes ready goes back.

One copy of the stack for the module (project `spotit-rollback-...`, its own state
directory), in prod. The edit: prod's files gain an override giving one service
APP_ENV=staging and a health check that always fails: `unhealthy` after its first
probe, which the health gate fails at once (as Compose's `up --wait`), well before
the --wait-timeout. The tests print
a timeline (run with -s): the failure, the rollback, the old container serving again.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.store.journal import project_directory
from reconciler.store.places import STATE_DIR_VARIABLE
from tests.integration.plain_stack import PlainStack, reconcile, start_reconcile
from tests.integration.test_reliability import PSQL, kill_tree

WAIT = "30"  # seconds of --wait-timeout: the gate fails the unhealthy service at once
HASH = "com.docker.compose.config-hash"
SERVICE_LABEL = "com.docker.compose.service"
BROKEN = """services:
  {service}:
    environment:
      APP_ENV: staging
    healthcheck:
      test: ["CMD", "false"]
      interval: 1s
      retries: 1
"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlainStack]:
    root = tmp_path_factory.mktemp("rollback")
    stack = PlainStack.create(root / "project", "prod", label="rollback")
    compose = stack.directory / "compose"
    (compose / "broken-api-gateway.yaml").write_text(BROKEN.format(service="api-gateway"))
    (compose / "broken-db.yaml").write_text(BROKEN.format(service="db"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(STATE_DIR_VARIABLE, str(root / "state"))
        try:
            yield stack
        finally:
            stack.remove_everything()


def container(stack: PlainStack, service: str) -> dict[str, Any]:
    (found,) = [c for c in stack.containers() if c["Config"]["Labels"][SERVICE_LABEL] == service]
    return found


def app_env(found: dict[str, Any]) -> str:
    values = [e.split("=", 1)[1] for e in found["Config"]["Env"] if e.startswith("APP_ENV=")]
    return str(values[0])


def stamp(started: float, text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')} +{time.monotonic() - started:5.1f} s] {text}")


def timed_run(stack: PlainStack, *args: str) -> tuple[int, list[str], float]:
    """`reconcile ARGS`, each output line printed with its time as it comes."""
    started = time.monotonic()
    stamp(started, f"$ reconcile {' '.join(args)}")
    process = start_reconcile(stack, *args)
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line.rstrip("\n"))
        stamp(started, line.rstrip("\n"))
    return process.wait(), lines, started


def up(stack: PlainStack) -> None:
    done = reconcile(stack)
    assert done.returncode == 0, done.stdout + done.stderr


@contextmanager
def broken(stack: PlainStack, service: str) -> Iterator[None]:
    """The edit: prod's files gain an override that gives `service` APP_ENV=staging and a
    health check that always fails (and the table drops the policy that would refuse a
    container of another APP_ENV before it is ever made). Undone on leaving."""
    table = stack.directory / "compose" / "environments.toml"
    original = table.read_text()
    edited = f'files = ["compose.yaml", "broken-{service}.yaml"]'
    policy = '[[policies]]\nname = "app-env-everywhere"\nrule = "app-env-matches"\n'
    assert policy in original
    without = original.replace(policy + 'environments = ["prod"]\n', "")
    table.write_text(without.replace('files = ["compose.yaml"]', edited, 1))
    try:
        yield
    finally:
        table.write_text(original)


def test_a_recreated_service_that_never_becomes_ready_is_rolled_back(stack: PlainStack) -> None:
    up(stack)
    before = container(stack, "api-gateway")
    assert app_env(before) == "prod" and httpx.get(stack.api + "/", timeout=5).status_code == 200

    with broken(stack, "api-gateway"):
        code, lines, started = timed_run(stack, "--wait-timeout", WAIT)
        assert code == 1, "\n".join(lines)
        wanted = "reconcile: rolled back: api-gateway (unhealthy)"
        assert lines[-1] == wanted, "\n".join(lines)
        assert [line for line in lines if line.startswith("reconcile:")] == [wanted]
        headline = f"Not ready: failed to start: api-gateway ({stack.name}-api-gateway-1: "
        assert f"{headline}running, unhealthy)" in lines, "\n".join(lines)
        assert any(re.search(r"recreate .*api-gateway-1 +rolled back", line) for line in lines)

        after = container(stack, "api-gateway")
        assert after["Id"] != before["Id"]  # put back by a recreate: the failed one is gone
        assert after["Config"]["Labels"][HASH] == before["Config"]["Labels"][HASH]
        assert (app_env(after), after["State"]["Health"]["Status"]) == ("prod", "healthy")
        served = httpx.get(stack.api + "/", timeout=5)
        stamp(started, f"GET / -> {served.status_code} from {after['Name'][1:]} (APP_ENV=prod)")
        assert served.status_code == 200

        status = reconcile(stack, "status")
        assert "Rolled back: api-gateway at " in status.stdout, status.stdout
        document = json.loads(reconcile(stack, "status", "--format", "json").stdout)
        assert [(r["service"], r["state"]) for r in document["rollbacks"]] == [
            ("api-gateway", "rolled back")
        ]

        # --no-rollback: the failed container stays, for debugging.
        kept = reconcile(stack, "--wait-timeout", WAIT, "--no-rollback")
        assert kept.returncode == 1
        assert "Not rolled back (--no-rollback): api-gateway left as it failed" in kept.stdout
        assert kept.stderr.startswith("reconcile: apply failed: failed to start: api-gateway ("), (
            kept.stderr
        )
        failed = container(stack, "api-gateway")
        assert failed["Config"]["Labels"][HASH] != before["Config"]["Labels"][HASH]
        assert (app_env(failed), failed["State"]["Health"]["Status"]) == ("staging", "unhealthy")

    up(stack)  # the edit undone, the next successful apply: no rollback is current any more
    assert "Roll" not in reconcile(stack, "status").stdout
    assert (
        container(stack, "api-gateway")["Config"]["Labels"][HASH]
        == (before["Config"]["Labels"][HASH])
    )


def psql(stack: PlainStack, sql: str) -> str:
    db = container(stack, "db")["Id"]
    return subprocess.run(
        ["docker", "exec", db, *PSQL, sql], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_a_sigkill_during_rollback_is_finished_by_the_next_run_keeping_the_data(
    stack: PlainStack,
) -> None:
    """Killed as its rollback begins; the next plain `reconcile` first finishes that
    rollback, then applies the (still broken) edit again, which fails and is rolled back:
    the db runs its pre-edit configuration with its rows, and without the edit a fresh
    plan has nothing to do."""
    up(stack)
    psql(stack, "CREATE TABLE IF NOT EXISTS kept (note text); INSERT INTO kept VALUES ('before')")
    before = container(stack, "db")["Config"]["Labels"][HASH]
    record = project_directory(stack.name) / "rollback.json"
    with broken(stack, "db"):
        started = time.monotonic()
        running = start_reconcile(stack, "--wait-timeout", WAIT)
        while running.poll() is None and "rolling back" not in _text(record):
            time.sleep(0.02)
        kill_tree(running.pid)
        running.wait()
        stamp(started, "SIGKILL: reconcile killed as its rollback of db began")
        assert "rolling back" in _text(record)
        interrupted = reconcile(stack, "status")
        assert "Rollback interrupted: db at " in interrupted.stdout, interrupted.stdout

        code, lines, _ = timed_run(stack, "--wait-timeout", WAIT)
        assert code == 1, "\n".join(lines)
        assert "A killed run left a rollback unfinished: rolling back db" in lines
        assert lines[-1] == "reconcile: rolled back: db (unhealthy)", "\n".join(lines)
        assert container(stack, "db")["Config"]["Labels"][HASH] == before
        assert psql(stack, "SELECT note FROM kept") == "before"

    assert reconcile(stack, "--plan").returncode == 0  # exactly the pre-edit configuration


def _text(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""
