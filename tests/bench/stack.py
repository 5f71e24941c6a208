"""The real stack's own targets: stop times, and the reconciler's overhead on it.

Every container stops in under 1 s, the db in under 3 s, and `docker compose stop`
of the whole test stack takes under 3 s; planning a converged stack and a no-op
apply each take well under 2 s, and a whole environment switch well under a minute.
"""

from __future__ import annotations

import subprocess
import tempfile
from functools import partial
from pathlib import Path
from typing import Any

from tests.bench.stats import timed
from tests.integration.plain_stack import PlainStack, reconcile

STOP_TARGET_S = {"db": 3.0}
DEFAULT_STOP_TARGET_S = 1.0
WHOLE_STACK_STOP_TARGET_S = 3.0


def main() -> tuple[dict[str, Any], bool]:
    """Measure, print one line per measurement; return the results and whether one missed."""
    results: dict[str, Any] = {}

    def record(what: str, seconds: float, target: float) -> None:
        ok = seconds < target
        print(f"{'ok  ' if ok else 'MISS'} {what:<46} {seconds:6.2f} s   (target < {target:.0f} s)")
        results[what] = {"seconds": round(seconds, 3), "target_s": target, "ok": ok}

    def run_ok(*args: str, app_env: str) -> None:
        result = reconcile(stack, *args, app_env=app_env)
        if result.returncode != 0:
            raise SystemExit(f"reconcile {' '.join(args)} failed:\n{result.stdout}{result.stderr}")

    with tempfile.TemporaryDirectory() as root:
        stack = PlainStack.create(Path(root), "prod", label="bench-apply")
        try:
            record("reconcile: first up in prod", timed(lambda: run_ok(app_env="prod")), 60.0)
            record(
                "reconcile --plan on a converged stack",
                timed(lambda: run_ok("--plan", app_env="prod")),
                2.0,
            )
            record("reconcile with nothing to do", timed(lambda: run_ok(app_env="prod")), 2.0)
            record(
                "reconcile prod -> dev (4 recreate, 3 create)",
                timed(lambda: run_ok(app_env="dev")),
                60.0,
            )
            record("reconcile status", timed(lambda: run_ok("status", app_env="dev")), 2.0)
        finally:
            stack.remove_everything()

    with tempfile.TemporaryDirectory() as root:
        stack = PlainStack.create(Path(root), "test", label="bench")
        try:
            record("up --wait of the test stack", timed(stack.up), 60.0)
            record(
                "compose stop of the whole test stack",
                timed(lambda: stack.compose("stop")),
                WHOLE_STACK_STOP_TARGET_S,
            )
            stack.up()
            for container in sorted(stack.containers(), key=lambda c: c["Name"]):
                service = container["Config"]["Labels"]["com.docker.compose.service"]
                stop = ["docker", "stop", container["Id"]]
                seconds = timed(partial(subprocess.run, stop, check=True, capture_output=True))
                record(
                    f"docker stop {service}",
                    seconds,
                    STOP_TARGET_S.get(service, DEFAULT_STOP_TARGET_S),
                )
        finally:
            stack.remove_everything()
    missed = [what for what, r in results.items() if not r["ok"]]
    print(f"{len(missed)} target(s) missed" if missed else "all stack targets met")
    return results, bool(missed)
