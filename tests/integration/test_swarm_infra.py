"""The local multi-node swarm (`just swarm-up`) is usable: the ground the Swarm backend
will be tested on.

Runs when a swarm answers on the manager's socket, or when RECONCILE_SWARM=1 asks for
one (then a missing swarm is a failure, not a skip). A stack of a 3-replica busybox
service, pulled by every node from the swarm's registry, must land one task per node;
with `endpoint_mode: dnsrr` (this kernel has no IPVS, so no virtual IPs) the service's
name resolves to the three tasks' addresses, which answer across the overlay network.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

MANAGER = os.environ.get("SWARM_MANAGER_HOST", "unix:///run/spot-swarm/manager.sock")
REGISTRY = f"127.0.0.1:{os.environ.get('SWARM_REGISTRY_PORT', '5077')}"
WANTED = os.environ.get("RECONCILE_SWARM") == "1"


def manager(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", "-H", MANAGER, *args], capture_output=True, text=True, timeout=timeout
    )


def swarm_answers() -> bool:
    try:
        info = manager("info", "--format", "{{.Swarm.ControlAvailable}}", timeout=10)
    except subprocess.TimeoutExpired:
        return False
    return info.returncode == 0 and info.stdout.strip() == "true"


pytestmark = pytest.mark.skipif(
    not WANTED and not swarm_answers(),
    reason=f"no local swarm answers at {MANAGER}: run `just swarm-up` "
    "(RECONCILE_SWARM=1 makes a missing swarm a failure)",
)


def until(what: str, check: Any, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout:.0f}s")
        time.sleep(0.3)


def stack_file(path: Path) -> Path:
    path.write_text(
        json.dumps(  # YAML is a superset of JSON
            {
                "version": "3.8",
                "services": {
                    "probe": {
                        "image": f"{REGISTRY}/spot-busybox:local",
                        "command": ["sleep", "3600"],
                        "init": True,
                        "deploy": {
                            "replicas": 3,
                            "endpoint_mode": "dnsrr",
                            "placement": {"max_replicas_per_node": 1},
                        },
                    }
                },
            }
        )
    )
    return path


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[str]:
    if not swarm_answers():
        pytest.fail(f"RECONCILE_SWARM=1 but no swarm answers at {MANAGER}: run `just swarm-up`")
    name = f"spotit-swarm-{uuid.uuid4().hex[:6]}"
    try:
        yield name
    finally:
        manager("stack", "rm", name)
        until(
            f"stack {name} removed",
            lambda: (
                not manager(
                    "network", "ls", "-q", "--filter", f"label=com.docker.stack.namespace={name}"
                ).stdout.strip()
                and not manager(
                    "service", "ls", "-q", "--filter", f"label=com.docker.stack.namespace={name}"
                ).stdout.strip()
            ),
        )


def running_tasks(service: str) -> list[dict[str, Any]]:
    listed = manager(
        "service", "ps", service, "--filter", "desired-state=running", "--format", "{{json .}}"
    )
    tasks = [json.loads(line) for line in listed.stdout.splitlines() if line.strip()]
    return [task for task in tasks if task["CurrentState"].startswith("Running")]


def test_three_replicas_land_one_per_node_and_reach_each_other(stack: str, tmp_path: Path) -> None:
    deployed = manager("stack", "deploy", "-c", str(stack_file(tmp_path / "stack.yaml")), stack)
    assert deployed.returncode == 0, deployed.stderr

    service = f"{stack}_probe"
    tasks = until(
        f"3 running tasks of {service}",
        lambda: len(running_tasks(service)) == 3 and running_tasks(service),
    )
    nodes = manager("node", "ls", "--format", "{{.Hostname}}").stdout.split()
    assert len(nodes) == 3, f"the swarm should have a manager and two workers: {nodes}"
    assert sorted(task["Node"] for task in tasks) == sorted(nodes)

    # The task on the manager asks the swarm's DNS for the service: with dnsrr, the
    # answer is every task's address on the overlay network, one per node.
    local = manager("ps", "-q", "--filter", f"label=com.docker.swarm.service.name={service}")
    container = local.stdout.split()[0]

    def addresses() -> set[str]:
        answer = manager("exec", container, "nslookup", "probe").stdout
        after_name = answer.split("Name:", 1)[-1] if "Name:" in answer else ""
        return {line.split()[-1] for line in after_name.splitlines() if line.startswith("Address")}

    found = until("3 addresses for the service name", lambda: len(addresses()) == 3 and addresses())
    assert len(found) == 3

    # And the overlay carries traffic between the nodes: every task answers.
    for address in found:
        ping = manager("exec", container, "ping", "-c", "1", "-W", "2", address)
        assert ping.returncode == 0, f"no answer from {address}: {ping.stdout}{ping.stderr}"
