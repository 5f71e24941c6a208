"""Content drift on the real engine (docker/compose#11900): editing a file a service uses
recreates exactly that service, saying "content of FILE changed", and a second run
changes nothing.

A small stack of four busybox services: `web` mounts a `configs:` file, `worker` a
`secrets:` file, `api` has a dependency list declared in the environment table's
`[content]`, `plain` uses none. Each kind of file is edited in turn. A saved plan goes
stale when a content file changes after it was saved. And `env_file:`: Compose's own
`up` recreates on an env_file edit, but its `config --hash` on the files ignores
env_file (docker/compose#14001); the adapter hashes the resolved model instead, so a
service with an env_file converges and an edit of it is a configuration change.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.plain_stack import PlainStack, action_words, fingerprint, reconcile

COMPOSE = """\
x-service: &service
  image: spot-busybox:local
  pull_policy: never
  init: true
  command: ["sleep", "infinity"]
  stop_grace_period: 1s
  environment:
    APP_ENV: ${APP_ENV:-prod}

services:
  web:
    <<: *service
    configs: [{source: app_conf, target: /etc/app.conf}]
  worker:
    <<: *service
    secrets: [token]
  api:
    <<: *service
  plain:
    <<: *service

configs:
  app_conf:
    file: ./app.conf

secrets:
  token:
    file: ./token.txt
"""

TABLE = """\
default = "prod"

[content]
api = ["../requirements.txt"]

[environments.prod]
description = "prod"
files = ["compose.yaml"]
"""

EDITS = (  # (file as the plan names it, the one service that uses it, where it is mounted)
    ("compose/app.conf", "web", "/etc/app.conf"),
    ("compose/token.txt", "worker", "/run/secrets/token"),
    ("requirements.txt", "api", None),
)


@pytest.fixture
def small(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PlainStack]:
    monkeypatch.setenv("RECONCILE_CACHE_DIR", str(tmp_path / "cache"))
    directory = tmp_path / "project"
    (directory / "compose").mkdir(parents=True)
    (directory / "compose/compose.yaml").write_text(COMPOSE)
    (directory / "compose/environments.toml").write_text(TABLE)
    (directory / "compose/app.conf").write_text("listen 80\n")
    (directory / "compose/token.txt").write_text("first-token\n")
    (directory / "requirements.txt").write_text("fastapi==0.110\n")
    stack = PlainStack(directory, "prod", f"spotit-drift-content-{uuid.uuid4().hex[:6]}")
    try:
        yield stack
    finally:
        stack.remove_everything()


def ids(stack: PlainStack) -> dict[str, str]:
    return {
        c["Config"]["Labels"]["com.docker.compose.service"]: c["Id"] for c in stack.containers()
    }


def inside(stack: PlainStack, service: str, path: str) -> str:
    return subprocess.run(
        ["docker", "exec", f"{stack.name}-{service}-1", "cat", path],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_each_kind_of_content_edit_recreates_exactly_its_service(small: PlainStack) -> None:
    """A missing one is refused first; a plan saved before an edit is stale after it."""
    config = small.directory / "compose/app.conf"
    config.rename(config.with_suffix(".away"))
    refused = reconcile(small, "--no-wait")
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1, refused.stderr
    assert "compose/app.conf, a file of service 'web', cannot be read" in refused.stderr
    assert small.containers() == []
    config.with_suffix(".away").rename(config)

    up = reconcile(small, "--no-wait")
    assert up.returncode == 0, up.stdout + up.stderr
    before = ids(small)
    assert sorted(before) == ["api", "plain", "web", "worker"]

    for file, user, mounted in EDITS:
        path = small.directory / file
        path.write_text(path.read_text() + "# edited\n")
        planned = reconcile(small, "--plan")
        assert planned.returncode == 2, planned.stdout + planned.stderr
        shown = planned.stdout.splitlines()
        recreates = [action_words(line) for line in shown if "~ recreate" in line]
        assert recreates == [
            ["~", "recreate", f"{small.name}-{user}-1", "content", "of", file, "changed"]
        ], planned.stdout
        assert "Plan: 0 to create, 1 to recreate, 0 to remove." in planned.stdout

        applied = reconcile(small, "--no-wait")
        assert applied.returncode == 0, applied.stdout + applied.stderr
        after = ids(small)
        assert {s for s in after if after[s] != before[s]} == {user}
        before = after
        if mounted:
            assert inside(small, user, mounted).endswith("# edited\n")
        again = reconcile(small, "--plan")
        assert again.returncode == 0 and "No changes" in again.stdout, again.stdout

    # A plan saved before a content edit is stale after it: refused, nothing touched.
    plan_file = small.directory / "plan.json"
    assert reconcile(small, "--plan", "--out", str(plan_file)).returncode == 0
    (small.directory / "compose/app.conf").write_text("listen 8080\n")
    untouched = fingerprint(small)
    refused = reconcile(small, "apply", str(plan_file))
    assert refused.returncode == 1
    assert "the saved plan is stale: content of compose/app.conf changed;" in refused.stderr
    assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr
    assert fingerprint(small) == untouched


def test_an_env_file_edit_recreates_its_service_and_converges(small: PlainStack) -> None:
    """Compose's `up` hashes what an env_file brings; so does the plan: a service with an
    env_file converges, and an edit of the file recreates that service alone."""
    compose = small.directory / "compose/compose.yaml"
    compose.write_text(
        compose.read_text().replace("  plain:\n", "  plain:\n    env_file: [plain.env]\n")
    )
    env_file = small.directory / "compose/plain.env"
    env_file.write_text("GREETING=hello\n")
    up = reconcile(small, "--no-wait")
    assert up.returncode == 0, up.stdout + up.stderr
    settled = reconcile(small, "--plan")
    assert settled.returncode == 0 and "No changes" in settled.stdout, settled.stdout
    before = ids(small)

    env_file.write_text("GREETING=bonjour\n")
    planned = reconcile(small, "--plan")
    assert planned.returncode == 2, planned.stdout + planned.stderr
    recreates = [action_words(line) for line in planned.stdout.splitlines() if "~ recreate" in line]
    assert recreates == [["~", "recreate", f"{small.name}-plain-1", "configuration", "changed"]]
    applied = reconcile(small, "--no-wait")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    after = ids(small)
    assert {s for s in after if after[s] != before[s]} == {"plain"}
    assert "GREETING=bonjour" in inside(small, "plain", "/proc/1/environ").replace("\0", "\n")
    again = reconcile(small, "--plan")
    assert again.returncode == 0 and "No changes" in again.stdout, again.stdout
