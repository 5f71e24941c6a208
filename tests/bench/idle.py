"""Idle cost: the real stack's CPU use in each environment while nothing happens.

Brings the SPOT stack up (prod, then dev, then test: each adds services) under its
own project name, lets it settle, and reads, over a window, how much CPU each
container's cgroup used (its processes and its healthcheck probes, which Docker
execs inside the container) and how much its containerd shim used (the runc
processes that start each probe are reaped by the shim). dockerd's share is left
out: it serves every project on the machine.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.integration.plain_stack import PlainStack

ENVIRONMENTS = ("prod", "dev", "test")
SETTLE_S = 5.0
TICKS = os.sysconf("SC_CLK_TCK")


def cgroup_cpu_seconds(pid: int) -> float:
    """CPU seconds used so far by the cgroup of process `pid` (cgroup v1 or v2)."""
    lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if "cpuacct" in controllers.split(","):
            for mount in ("cpuacct", "cpu,cpuacct"):
                usage = Path(f"/sys/fs/cgroup/{mount}{path}/cpuacct.usage")
                if usage.exists():
                    return int(usage.read_text()) / 1e9
    for line in lines:
        if line.startswith("0::"):
            stat = Path(f"/sys/fs/cgroup{line[3:]}/cpu.stat").read_text()
            usec = dict(row.split() for row in stat.splitlines())["usage_usec"]
            return int(usec) / 1e6
    raise RuntimeError(f"no CPU accounting found for pid {pid}")


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of `pid` and of its children it has reaped."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / TICKS


def shim_pids(container_ids: set[str]) -> list[int]:
    """The containerd shims of these containers (found by the `-id ID` in their command)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"-id" in args and args[args.index(b"-id") + 1].decode() in container_ids:
            pids.append(int(entry.name))
    return pids


def sample(stack: PlainStack) -> tuple[dict[str, float], float]:
    """CPU seconds so far per service (container cgroups) and of all the shims."""
    per_service: dict[str, float] = {}
    ids = set()
    for container in stack.containers():
        if not container["State"]["Running"]:
            continue
        service = container["Config"]["Labels"]["com.docker.compose.service"]
        ids.add(container["Id"])
        per_service[service] = cgroup_cpu_seconds(container["State"]["Pid"])
    return per_service, sum(process_cpu_seconds(pid) for pid in shim_pids(ids))


def measure(stack: PlainStack, window: float) -> dict[str, Any]:
    """Percent of one core used over `window` seconds, per service and in total."""
    before, shims_before = sample(stack)
    started = time.monotonic()
    time.sleep(window)
    after, shims_after = sample(stack)
    elapsed = time.monotonic() - started
    per_service = {
        s: round(100 * (after[s] - before[s]) / elapsed, 2) for s in sorted(after) if s in before
    }
    containers = round(sum(per_service.values()), 2)
    shims = round(100 * (shims_after - shims_before) / elapsed, 2)
    return {
        "window_s": round(elapsed, 1),
        "services_pct": per_service,
        "containers_pct": containers,
        "shims_pct": shims,
        "total_pct": round(containers + shims, 2),
    }


def main(window: float) -> dict[str, Any]:
    """Measure each environment in turn; print and return the percentages."""
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as root:
        stack = PlainStack.create(Path(root), "prod", label="bench-idle")
        try:
            for env in ENVIRONMENTS:
                stack.app_env = env
                stack.up()
                time.sleep(SETTLE_S)
                results[env] = measure(stack, window)
                r = results[env]
                top = sorted(r["services_pct"].items(), key=lambda kv: -kv[1])[:3]
                print(
                    f"idle CPU {env:<5} {r['total_pct']:6.2f} % of a core "
                    f"(containers {r['containers_pct']:.2f}, shims {r['shims_pct']:.2f}; "
                    f"top: {', '.join(f'{s} {p:.2f}' for s, p in top)}) over {r['window_s']} s",
                    flush=True,
                )
        finally:
            stack.remove_everything()
    return results
