"""The Swarm backend end to end, on the local 3-node swarm (`just swarm-up`), through
the real `reconcile` command.

One copy of the stack whose prod, dev and test run on the swarm (`backend = "swarm"`),
with analyzer-nlp at 3 replicas. The tests run in order on the same stack, as a user
would: prod deploy spread over the nodes; a second apply changes nothing; prod -> dev
with the reasons shown, the db's data surviving; back to prod pruning the dev-profile
services; a failed update rolled back by Swarm and reported as failed; a drained
worker, then `reconcile` converging on the other nodes; stop keeping the services;
down keeping the volume. Runs with RECONCILE_SWARM=1 (`just test-swarm`), which then
requires a swarm: it takes minutes, so `just test` does not run it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.integration.plain_stack import REPO, copy_project
from tests.integration.test_swarm_infra import manager, swarm_answers

WANTED = os.environ.get("RECONCILE_SWARM") == "1"
pytestmark = pytest.mark.skipif(
    not WANTED, reason="a few minutes on the local swarm: run `just test-swarm` (RECONCILE_SWARM=1)"
)
SCALE_FILE = "services:\n  analyzer-nlp:\n    deploy:\n      replicas: 3\n"


@dataclass
class SwarmStack:
    directory: Path
    name: str

    def reconcile(
        self, app_env: str, *args: str, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
        done = subprocess.run(
            [sys.executable, "-m", "reconciler", *args, "--project-name", self.name],
            cwd=self.directory,
            env={**env, "APP_ENV": app_env},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        print(f"$ APP_ENV={app_env} reconcile {' '.join(args)}  (exit {done.returncode})")
        print(done.stdout + done.stderr)
        return done

    def services(self) -> dict[str, dict[str, Any]]:
        ids = manager(
            "service", "ls", "-q", "--filter", f"label=com.docker.stack.namespace={self.name}"
        ).stdout.split()
        if not ids:
            return {}
        found = json.loads(manager("service", "inspect", *ids).stdout)
        return {s["Spec"]["Name"].removeprefix(f"{self.name}_"): s for s in found}

    def tasks(self) -> list[dict[str, str]]:
        """Running tasks of the stack: name, node."""
        out = manager(
            "stack", "ps", self.name, "--filter", "desired-state=running", "--format", "{{json .}}"
        ).stdout
        rows = [json.loads(line) for line in out.splitlines() if line.strip()]
        return [r for r in rows if r["CurrentState"].startswith("Running")]

    def nodes_of(self, service: str) -> list[str]:
        return sorted(
            t["Node"] for t in self.tasks() if t["Name"].startswith(f"{self.name}_{service}.")
        )

    def psql(self, sql: str) -> str:
        container = manager(
            "ps", "-q", "--filter", f"label=com.docker.swarm.service.name={self.name}_db"
        ).stdout.split()
        assert container, "no db container on the manager"
        done = manager("exec", container[0], "psql", "-h", "/tmp", "-U", "postgres", "-tAc", sql)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()


@pytest.fixture(scope="module")
def swarm_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SwarmStack]:
    if not swarm_answers():
        pytest.fail("RECONCILE_SWARM=1 but no swarm answers: run `just swarm-up`")
    directory = copy_project(tmp_path_factory.mktemp("swarm"), {"API_PORT": 18080})
    table = directory / "compose" / "environments.toml"
    text = table.read_text()
    for env in ("prod", "dev", "test"):
        text = text.replace(f"[environments.{env}]\n", f'[environments.{env}]\nbackend = "swarm"\n')
    text = text.replace('"compose.yaml"]', '"compose.yaml", "compose.swarm.yaml"]')
    text = text.replace('"compose.dev.yaml"]', '"compose.dev.yaml", "compose.swarm.yaml"]')
    table.write_text(text)
    (directory / "compose" / "compose.swarm.yaml").write_text(SCALE_FILE)
    stack = SwarmStack(directory, f"spotit-swarm2-{uuid.uuid4().hex[:6]}")
    try:
        yield stack
    finally:
        for node in ("worker1", "worker2"):
            manager("node", "update", "--availability", "active", f"spot-swarm-{node}")
        manager("stack", "rm", stack.name)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            left = manager(
                "network", "ls", "-q", "--filter", f"label=com.docker.stack.namespace={stack.name}"
            ).stdout.strip()
            if not left and not stack.services():
                break
            time.sleep(0.5)
        volume = f"{stack.name}_db-data"  # in use until the db's container has stopped
        while manager("volume", "rm", volume).returncode != 0 and time.monotonic() < deadline + 30:
            if volume not in manager("volume", "ls", "--format", "{{.Name}}").stdout.split():
                break
            time.sleep(0.5)


def test_prod_deploys_with_replicas_spread_over_the_nodes(swarm_stack: SwarmStack) -> None:
    planned = swarm_stack.reconcile("prod", "--plan")
    assert planned.returncode == 2 and "Plan: 6 to create" in planned.stdout
    applied = swarm_stack.reconcile("prod")
    assert applied.returncode == 0, applied.stderr
    assert "Converged: APP_ENV=prod" in applied.stdout
    nodes = manager("node", "ls", "--format", "{{.Hostname}}").stdout.split()
    assert swarm_stack.nodes_of("analyzer-nlp") == sorted(nodes)  # one task per node
    assert swarm_stack.nodes_of("db") == ["spot-swarm-manager"]  # its volume is there
    print(manager("node", "ls").stdout)
    print(manager("stack", "ps", swarm_stack.name, "--filter", "desired-state=running").stdout)
    for name, found in swarm_stack.services().items():
        env = found["Spec"]["TaskTemplate"]["ContainerSpec"]["Env"]
        assert "APP_ENV=prod" in env, f"{name}: {env}"
    swarm_stack.psql("CREATE TABLE kept (note text); INSERT INTO kept VALUES ('from prod')")


def test_a_second_apply_changes_nothing(swarm_stack: SwarmStack) -> None:
    planned = swarm_stack.reconcile("prod", "--plan", "--format", "json")
    assert planned.returncode == 0
    shown = json.loads(planned.stdout)
    assert shown["converged"] is True and shown["actions"] == []
    again = swarm_stack.reconcile("prod", "--backend", "swarm")
    assert again.returncode == 0 and "No changes." in again.stdout
    # --backend overrides the table: the same stack on local Compose has nothing yet.
    assert swarm_stack.reconcile("prod", "--plan", "--backend", "swarm").returncode == 0
    local = swarm_stack.reconcile("prod", "--plan", "--backend", "compose")
    assert local.returncode == 2 and "Plan: 6 to create" in local.stdout


def test_prod_to_dev_shows_why_and_keeps_the_db_data(swarm_stack: SwarmStack) -> None:
    planned = swarm_stack.reconcile("dev", "--plan")
    assert planned.returncode == 2
    nlp = [line for line in planned.stdout.splitlines() if "_analyzer-nlp." in line]
    assert len(nlp) == 3 and all("APP_ENV prod -> dev; image changed" in line for line in nlp)
    assert (
        "create    adminer" in planned.stdout
        and "Plan: 3 to create, 6 to recreate" in planned.stdout
    )
    applied = swarm_stack.reconcile("dev")
    assert applied.returncode == 0, applied.stderr
    services = swarm_stack.services()
    assert {"adminer", "mailhog", "devtools"} <= set(services)
    for name, found in services.items():
        assert "APP_ENV=dev" in found["Spec"]["TaskTemplate"]["ContainerSpec"]["Env"], name
    assert swarm_stack.psql("SELECT note FROM kept") == "from prod"


def test_back_to_prod_prunes_the_services_of_inactive_profiles(swarm_stack: SwarmStack) -> None:
    planned = swarm_stack.reconcile("prod", "--plan")
    assert planned.returncode == 2
    for tool in ("adminer", "mailhog", "devtools"):
        assert f"{swarm_stack.name}_{tool}.1" in planned.stdout
    assert planned.stdout.count("not in the profiles of prod") == 3
    applied = swarm_stack.reconcile("prod")
    assert applied.returncode == 0, applied.stderr
    assert set(swarm_stack.services()) == {"db", "api-gateway", "analyzer-nlp", "analyzer-llm"}


def test_a_failed_update_is_rolled_back_by_swarm_and_reported_as_failed(
    swarm_stack: SwarmStack,
) -> None:
    override = swarm_stack.directory / "compose" / "compose.swarm.yaml"
    override.write_text(SCALE_FILE + '  analyzer-llm:\n    command: ["sh", "-c", "exit 3"]\n')
    try:
        failed = swarm_stack.reconcile("prod")
        assert failed.returncode == 1
        assert "failed and Swarm rolled it back" in failed.stderr
        assert "non-zero exit (3)" in failed.stderr
        still = swarm_stack.reconcile("prod", "--plan")
        assert still.returncode == 2 and "configuration changed" in still.stdout
    finally:
        override.write_text(SCALE_FILE)
    assert swarm_stack.reconcile("prod", "--plan").returncode == 0  # the rollback restored it


def test_a_drained_worker_then_reconcile_converges_on_the_other_nodes(
    swarm_stack: SwarmStack,
) -> None:
    drained = "spot-swarm-worker1"
    assert drained in swarm_stack.nodes_of("analyzer-nlp")
    started = time.monotonic()
    assert manager("node", "update", "--availability", "drain", drained).returncode == 0
    try:
        applied = swarm_stack.reconcile("prod")
        assert applied.returncode == 0, applied.stderr
        seconds = time.monotonic() - started
        print(f"converged {seconds:.1f} s after draining {drained}")
        assert drained not in {t["Node"] for t in swarm_stack.tasks()}
        assert len(swarm_stack.nodes_of("analyzer-nlp")) == 3
        assert swarm_stack.reconcile("prod", "--plan").returncode == 0
    finally:
        manager("node", "update", "--availability", "active", drained)


def node_status(hostname: str) -> str:
    listed = manager("node", "ls", "--format", "{{.Hostname}} {{.Status}}").stdout
    return dict(line.split(" ", 1) for line in listed.splitlines() if " " in line)[hostname]


def test_a_worker_whose_engine_dies_then_reconcile_converges_without_it(
    swarm_stack: SwarmStack,
) -> None:
    """Not a drain: the worker's engine is killed (its process). Once the manager marks
    the node Down, the plan says what is missing (its tasks, "not running: node X is
    Down", or, once the manager dropped them, their slots); `reconcile` converges on the
    other nodes, the db's data survives; the worker comes back, and a second run changes
    nothing (Swarm does not move tasks back by itself)."""
    dead = "spot-swarm-worker2"
    assert dead in swarm_stack.nodes_of("analyzer-nlp")
    pid = int(Path("/run/spot-swarm/worker2/dockerd.pid").read_text())
    started = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    try:
        deadline = time.monotonic() + 90
        while node_status(dead) != "Down" and time.monotonic() < deadline:
            time.sleep(1)
        print(f"node {dead} marked Down {time.monotonic() - started:.1f} s after the kill")
        planned = swarm_stack.reconcile("prod", "--plan")
        if planned.returncode == 2:  # what is missing: its tasks, or their slots once gone
            shown = planned.stdout
            assert f"node {dead} is Down" in shown or "no container" in shown, shown
        applied = swarm_stack.reconcile("prod")
        assert applied.returncode == 0, applied.stderr
        print(f"converged {time.monotonic() - started:.1f} s after killing {dead}'s engine")
        assert dead not in {t["Node"] for t in swarm_stack.tasks()}
        assert len(swarm_stack.nodes_of("analyzer-nlp")) == 3
        assert swarm_stack.psql("SELECT note FROM kept") == "from prod"
    finally:
        subprocess.run(["bash", "compose/swarm/up.sh"], cwd=REPO, capture_output=True)
        deadline = time.monotonic() + 90
        while node_status(dead) != "Ready" and time.monotonic() < deadline:
            time.sleep(1)
    assert node_status(dead) == "Ready"
    again = swarm_stack.reconcile("prod")
    assert again.returncode == 0 and "No changes." in again.stdout, again.stdout


AGENT = """  agent:
    image: spot-busybox:local
    init: true
    command: ["sh", "-c", "echo AGENT_TOKEN=$$AGENT_TOKEN; exec sleep 3600"]
    environment:
      AGENT_TOKEN: hunter2hunter2
    deploy:
      mode: global
"""


def test_a_global_service_is_planned_as_global_and_its_logs_are_masked(
    swarm_stack: SwarmStack,
) -> None:
    override = swarm_stack.directory / "compose" / "compose.swarm.yaml"
    override.write_text(SCALE_FILE + AGENT)
    try:
        applied = swarm_stack.reconcile("prod")
        assert applied.returncode == 0, applied.stderr
        assert len(swarm_stack.nodes_of("agent")) == 3  # one task per node
        again = swarm_stack.reconcile("prod")
        assert again.returncode == 0 and "No changes." in again.stdout, again.stdout
        logs = swarm_stack.reconcile("prod", "logs", "agent")
        assert "AGENT_TOKEN=****" in logs.stdout and "hunter2" not in logs.stdout + logs.stderr
    finally:
        override.write_text(SCALE_FILE)
    assert swarm_stack.reconcile("prod").returncode == 0  # the agent removed again


def test_stop_stops_starting_tasks_and_a_stopped_service_scales_down_in_place(
    swarm_stack: SwarmStack,
) -> None:
    """`stop` right after a deploy (tasks still starting) scales every service to 0; a
    stopped 3-replica service whose file now says 2 keeps existing, with 2 to start."""
    restarted = swarm_stack.reconcile("prod", "restart", "--no-wait")
    assert restarted.returncode == 0, restarted.stderr
    stopped = swarm_stack.reconcile("prod", "stop")
    assert stopped.returncode == 0, stopped.stderr
    services = swarm_stack.services()
    assert {s["Spec"]["Mode"]["Replicated"]["Replicas"] for s in services.values()} == {0}
    override = swarm_stack.directory / "compose" / "compose.swarm.yaml"
    override.write_text(SCALE_FILE.replace("replicas: 3", "replicas: 2"))
    try:
        applied = swarm_stack.reconcile("prod")
        assert applied.returncode == 0, applied.stderr
        assert "analyzer-nlp" in swarm_stack.services()
        assert len(swarm_stack.nodes_of("analyzer-nlp")) == 2
    finally:
        override.write_text(SCALE_FILE)
    assert swarm_stack.reconcile("prod").returncode == 0
    assert len(swarm_stack.nodes_of("analyzer-nlp")) == 3


def test_stop_keeps_the_services_down_keeps_the_volume_unless_asked(
    swarm_stack: SwarmStack,
) -> None:
    stopped = swarm_stack.reconcile("prod", "stop")
    assert stopped.returncode == 0, stopped.stderr
    services = swarm_stack.services()
    assert len(services) == 4
    assert {s["Spec"]["Mode"]["Replicated"]["Replicas"] for s in services.values()} == {0}
    planned = swarm_stack.reconcile("prod", "--plan")
    assert planned.returncode == 2 and "stopped out of band" in planned.stdout
    down = swarm_stack.reconcile("prod", "down")
    assert down.returncode == 0, down.stderr
    assert swarm_stack.services() == {}
    volumes = manager("volume", "ls", "--format", "{{.Name}}").stdout.split()
    assert f"{swarm_stack.name}_db-data" in volumes
    destroyed = swarm_stack.reconcile("prod", "down", "--volumes", "--yes")
    assert destroyed.returncode == 0, destroyed.stderr
    volumes = manager("volume", "ls", "--format", "{{.Name}}").stdout.split()
    assert f"{swarm_stack.name}_db-data" not in volumes
