"""The guard matrix on the real engine: the test's table marks this machine's engine as
production, and each guardrail is met once. Every refusal is one line, exit 1, and the
engine is exactly as it was; each override (--confirm-env, --yes, --waive) is used once
and shown. Also: the shipped policies pass the stack's prod and fail its dev's dev-only
ones, and the integration tests refuse to run on a production engine."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.planner.policies import violations
from state.docker.adapter import DockerEngine
from state.docker.endpoint import engine_endpoint
from state.model.desired import desire
from state.resolve.project import load_project
from tests.integration.engine_guard import production_engine_refusal
from tests.integration.plain_stack import REPO, PlainStack, unique_project_name

COMPOSE = """services:
  web:
    image: ${WEB_IMAGE:-spot-busybox:local}
    pull_policy: never
    init: true
    command: ["sleep", "3600"]
    environment:
      APP_ENV: ${APP_ENV}
  db:
    image: spot-busybox:local
    pull_policy: never
    init: true
    command: ["sleep", "3600"]
    environment:
      APP_ENV: ${APP_ENV}
      MODE: ${MODE:-a}
    volumes: [data:/data]
volumes:
  data:
"""
TABLE = """default = "prod"
[environments.prod]
description = "prod"
files = ["compose.yaml"]
[environments.dev]
description = "dev"
files = ["compose.yaml"]
[environments.lab]
description = "lab"
files = ["compose.yaml"]
engines = ["lab-host"]

[engines.this]
endpoint = "{endpoint}"
production = true
allow = ["prod", "dev", "lab"]

[engines.lab-host]
endpoint = "ssh://lab.example"

[[policies]]
name = "pinned-images"
rule = "no-latest-image"
environments = ["prod", "dev"]
"""


class Project:
    def __init__(self, directory: Path, name: str) -> None:
        self.directory, self.name = directory, name
        self.extra: dict[str, str] = {}

    def reconcile(self, app_env: str, *args: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k != "COMPOSE_PROJECT_NAME"}
        return subprocess.run(
            [sys.executable, "-m", "reconciler", *args, "--project-name", self.name],
            cwd=self.directory, capture_output=True, text=True,
            env={**env, "APP_ENV": app_env, **self.extra}, stdin=subprocess.DEVNULL,
        )  # fmt: skip

    def world(self) -> list[tuple[str, str, str]]:
        """(id, name, state) of every container: unchanged means nothing was touched."""
        ids = subprocess.run(
            ["docker", "ps", "-aq", "--no-trunc", "--filter",
             f"label=com.docker.compose.project={self.name}"],
            capture_output=True, text=True, check=True,
        ).stdout.split()  # fmt: skip
        if not ids:
            return []
        found = json.loads(subprocess.run(["docker", "inspect", *ids], capture_output=True).stdout)
        return sorted((c["Id"], c["Name"], c["State"]["Status"]) for c in found)


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    (tmp_path / "compose").mkdir()
    (tmp_path / "compose/compose.yaml").write_text(COMPOSE)
    (tmp_path / "compose/environments.toml").write_text(
        TABLE.replace("{endpoint}", engine_endpoint())
    )
    made = Project(tmp_path, unique_project_name("guards"))
    try:
        yield made
    finally:
        PlainStack(directory=tmp_path, app_env="prod", name=made.name).remove_everything()


def refused(project: Project, app_env: str, *args: str, says: str) -> None:
    before = project.world()
    done = project.reconcile(app_env, *args)
    shown = done.stdout + done.stderr
    assert done.returncode == 1, shown
    assert done.stderr.count("\n") == 1 and "Traceback" not in shown, shown
    assert says in done.stderr, shown
    assert project.world() == before, "a refused command touched the engine"
    print(f"$ APP_ENV={app_env} reconcile {' '.join(args)}\n{done.stderr}")


def allowed(project: Project, app_env: str, *args: str, code: int = 0) -> str:
    """Run an overridden command; echo its guard lines (the matrix's override rows)."""
    done = project.reconcile(app_env, *args)
    assert done.returncode == code, done.stdout + done.stderr
    guard_lines = [line for line in done.stdout.splitlines() if GUARD_WORDS.search(line)]
    print(f"$ APP_ENV={app_env} reconcile {' '.join(args)}  -> exit {code}")
    print("\n".join(guard_lines) + "\n")
    return done.stdout


GUARD_WORDS = re.compile(r"Guards|onfirm|waived|policy|Engine|APP_ENV=")


def test_the_guard_matrix_on_a_production_engine(project: Project) -> None:
    # An environment pinned elsewhere.
    refused(project, "lab", "--no-wait", says="environment lab runs only on engine lab-host")
    # Bring prod up: a first apply on an empty project stops nothing, recreates nothing.
    first = allowed(project, "prod", "--no-wait")
    assert "Guards: engine" in first and "production engine this" in first
    # Switching what runs from prod to dev: needs --confirm-env dev; recreating the
    # stateful db needs --yes too.
    planned = allowed(project, "dev", "--plan", code=2)
    assert "needs confirmation (--confirm-env dev)" in planned
    assert "needs confirmation (--yes)" in planned
    refused(project, "dev", "--no-wait", says="switches from prod to dev")
    refused(project, "dev", "--no-wait", "--confirm-env", "dev", says="the plan is destructive")
    switched = allowed(project, "dev", "--no-wait", "--confirm-env", "dev", "--yes")
    assert "Confirmed: switching to dev on this engine" in switched
    # Back to prod the same way; then a destructive plan alone: restart recreates the db.
    allowed(project, "prod", "--no-wait", "--confirm-env", "prod", "--yes")
    refused(project, "prod", "restart", "--no-wait", says="spotit-guards")
    refused(project, "prod", "down", says="that needs confirmation")
    # A policy violated (an image without a tag), then waived for one run, shown.
    subprocess.run(["docker", "tag", "spot-busybox:local", "spot-busybox:latest"], check=True)
    project.extra = {"WEB_IMAGE": "spot-busybox"}  # untagged: spot-busybox:latest
    refused(project, "prod", "--no-wait", says="blocked by policy pinned-images: web")
    waived = allowed(project, "prod", "--no-wait", "--waive", "pinned-images")
    assert "(waived for this run)" in waived
    status = allowed(project, "prod", "status")
    assert "the table's this (production: allows prod, dev, lab)" in status
    # dev on a production engine that allows prod alone: no confirmation lets it through.
    table = project.directory / "compose/environments.toml"
    only_prod = table.read_text().replace('allow = ["prod", "dev", "lab"]', 'allow = ["prod"]')
    table.write_text(only_prod)
    refused(project, "dev", "--no-wait", "--confirm-env", "dev", "--yes",
            says="a production engine for prod")  # fmt: skip


def test_the_shipped_policies_pass_prod_and_fail_devs_dev_only_ones() -> None:
    for app_env, expected in (
        ("prod", set()),
        ("dev", {"no-source-mounts", "no-dev-tools", "no-debug-ports"}),
    ):
        project = load_project(
            REPO, project_name="spotit-policies", process_env={"APP_ENV": app_env}
        )
        desired = desire(project, DockerEngine(project))
        assert project.table is not None
        shipped = project.table.policies
        for_all = [dataclasses.replace(p, environments=(app_env,)) for p in shipped]
        found = {v.policy for v in violations(for_all, desired)}
        assert found == expected, (app_env, violations(for_all, desired))


def test_the_tests_refuse_a_production_engine(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    table = TABLE.replace("{endpoint}", engine_endpoint())
    (tmp_path / "environments.toml").write_text(table)
    refusal = production_engine_refusal(tmp_path)
    assert refusal and "must not run against a production engine" in refusal
    assert production_engine_refusal(REPO / "compose") is None  # the shipped table pins none


BAD = """services:
  analyzer-llm:
    image: spot-app
    privileged: true
    ports: ["0.0.0.0:18099:8080", "127.0.0.1:18091:8091"]
    volumes: ["./services:/srv/src"]
    environment:
      APP_ENV: staging
"""


def test_each_shipped_policy_is_violated_once_on_compose_s_own_model(tmp_path: Path) -> None:
    """A copy of the stack whose prod breaks every shipped rule (Compose resolves it)."""
    import shutil

    shutil.copytree(REPO / "compose", tmp_path / "compose", ignore=lambda d, n: ["images"])
    (tmp_path / "compose/compose.bad.yaml").write_text(BAD)
    table = tmp_path / "compose/environments.toml"
    text = table.read_text().replace(
        'files = ["compose.yaml"]\nprofiles = []',
        'files = ["compose.yaml", "compose.bad.yaml"]\nprofiles = ["dev"]',
        1,
    )
    table.write_text(text)
    subprocess.run(["docker", "tag", "spot-app:local", "spot-app:latest"], check=True)
    try:
        project = load_project(tmp_path, project_name="spotit-bad", process_env={"APP_ENV": "prod"})
        assert project.table is not None
        found = violations(project.table.policies, desire(project, DockerEngine(project)))
    finally:
        subprocess.run(["docker", "rmi", "spot-app:latest"], capture_output=True)
    assert {v.policy for v in found} == {p.name for p in project.table.policies}
    for violation in found:
        print(violation)


SHIPPED_POLICIES = (REPO / "compose/environments.toml").read_text().split("[[policies]]", 1)[1]
ONE_BREACH = {  # one service breaking exactly one shipped policy (the rest of it is clean)
    "pinned-images": "image: spot-busybox",
    "loopback-ports": 'image: spot-busybox:local\n    ports: ["0.0.0.0:18097:80"]',
    "no-source-mounts": 'image: spot-busybox:local\n    volumes: ["./:/srv"]',
    "unprivileged": "image: spot-busybox:local\n    cap_add: [NET_ADMIN]",
    "no-dev-tools": "image: spot-busybox:local\n    profiles: [dev]",
    "no-debug-ports": 'image: spot-busybox:local\n    ports: ["127.0.0.1:18098:8091"]',
    "app-env-everywhere": "image: spot-busybox:local\n    environment: {APP_ENV: dev}",
}


@pytest.mark.parametrize("policy", sorted(ONE_BREACH))
def test_each_shipped_policy_refuses_an_apply_that_breaks_it(tmp_path: Path, policy: str) -> None:
    """The shipped rules, each broken once by a one-service project: the apply is refused
    in one line naming the rule and the way past it, and nothing is created."""
    (tmp_path / "compose").mkdir()
    (tmp_path / "compose/compose.yaml").write_text(
        "services:\n  tool:\n    "
        + ONE_BREACH[policy]
        + '\n    pull_policy: never\n    command: ["sleep", "3600"]\n'
        + (
            ""
            if policy == "app-env-everywhere"
            else "    environment:\n      APP_ENV: ${APP_ENV}\n"
        )
    )
    profiles = '["dev"]' if policy == "no-dev-tools" else "[]"
    (tmp_path / "compose/environments.toml").write_text(
        f'default = "prod"\n[environments.prod]\ndescription = "prod"\n'
        f'files = ["compose.yaml"]\nprofiles = {profiles}\n\n[[policies]]{SHIPPED_POLICIES}'
    )
    subprocess.run(["docker", "tag", "spot-busybox:local", "spot-busybox:latest"], check=True)
    made = Project(tmp_path, unique_project_name("policy"))
    try:
        refused(made, "prod", "--no-wait", says=f"blocked by policy {policy}: tool")
    finally:
        PlainStack(directory=tmp_path, app_env="prod", name=made.name).remove_everything()
