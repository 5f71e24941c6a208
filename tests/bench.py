"""`just bench`: measure the performance targets on the real engine.

Targets: every container stops in under 1 s, the db in under 3 s, and `docker
compose stop` of the whole test stack takes under 3 s (issue #2); the reconciler's
own overhead stays small: planning a converged stack and a no-op apply each take
well under 2 s, and a whole environment switch well under a minute. Prints one line
per measurement and exits 1 when a target is missed. Timing lives here, never in
tests.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from tests.integration.plain_stack import PlainStack, reconcile, require_engine

STOP_TARGET_S = {"db": 3.0}
DEFAULT_STOP_TARGET_S = 1.0
WHOLE_STACK_STOP_TARGET_S = 3.0


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main() -> int:
    require_engine()
    missed: list[str] = []

    def report(what: str, seconds: float, target: float) -> None:
        ok = seconds < target
        print(f"{'ok  ' if ok else 'MISS'} {what:<46} {seconds:6.2f} s   (target < {target:.0f} s)")
        if not ok:
            missed.append(what)

    def run_ok(*args: str, app_env: str, expect: int = 0) -> None:
        result = reconcile(stack, *args, app_env=app_env)
        if result.returncode != expect:
            raise SystemExit(f"reconcile {' '.join(args)} failed:\n{result.stdout}{result.stderr}")

    with tempfile.TemporaryDirectory() as root:
        stack = PlainStack.create(Path(root), "prod", label="bench-apply")
        try:
            report("reconcile: first up in prod", timed(lambda: run_ok(app_env="prod")), 60.0)
            report(
                "reconcile --plan on a converged stack",
                timed(lambda: run_ok("--plan", app_env="prod")),
                2.0,
            )
            report("reconcile with nothing to do", timed(lambda: run_ok(app_env="prod")), 2.0)
            report(
                "reconcile prod -> dev (4 recreate, 3 create)",
                timed(lambda: run_ok(app_env="dev")),
                60.0,
            )
            report("reconcile status", timed(lambda: run_ok("status", app_env="dev")), 2.0)
        finally:
            stack.remove_everything()

    with tempfile.TemporaryDirectory() as root:
        stack = PlainStack.create(Path(root), "test", label="bench")
        try:
            report("up --wait of the test stack", timed(stack.up), 60.0)
            report(
                "compose stop of the whole test stack",
                timed(lambda: stack.compose("stop")),
                WHOLE_STACK_STOP_TARGET_S,
            )
            stack.up()
            for container in sorted(stack.containers(), key=lambda c: c["Name"]):
                service = container["Config"]["Labels"]["com.docker.compose.service"]
                stop = ["docker", "stop", container["Id"]]
                seconds = timed(partial(subprocess.run, stop, check=True, capture_output=True))
                report(
                    f"docker stop {service}",
                    seconds,
                    STOP_TARGET_S.get(service, DEFAULT_STOP_TARGET_S),
                )
        finally:
            stack.remove_everything()
    print(f"{len(missed)} target(s) missed" if missed else "all targets met")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
