"""Measure `reconcile watch` on the real engine (not a test: it prints, asserts nothing).

1. Repair time: a copy of the stack in prod under its own project name, watched;
   `docker rm -f` of a service's container, then the seconds until a new container of
   it runs and until the watch says it converged (healthy again). `--trials` times
   (default 5), spaced beyond the watch's 10 s "did it hold" window so no trial meets
   the backoff; the median and the spread.
2. Attempts: a one-service project whose container dies 2 s after each start, watched
   with the default backoff for `--seconds` (default 60): the engine's own start events
   counted, against the schedule's bound; then the same with next to no backoff
   (`--backoff 0.1 --backoff-max 0.1`), the storm it prevents.

    APP_ENV=test python -m tests.bench.watch [--service api-gateway] [--trials 5] [--seconds 60]
"""

from __future__ import annotations

import argparse
import re
import signal
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from reconciler.watch.loop import Timing
from tests.integration.plain_stack import PlainStack, unique_project_name, wait_for
from tests.integration.test_watch import (
    STORM_COMPOSE,
    STORM_TABLE,
    EngineLog,
    Watching,
    allowed_attempts,
    running_id,
)


def repair_times(service: str, trials: int) -> None:
    with tempfile.TemporaryDirectory() as root:
        stack = PlainStack.create(Path(root), "prod", label="watch-bench")
        watching = Watching(stack)
        try:
            at = watching.idle(after=0, timeout=300)
            running: list[float] = []
            converged: list[float] = []
            for trial in range(trials):
                at = one_repair(stack, watching, service, at, running, converged)
                print(
                    f"trial {trial + 1}: running after {running[-1]:.2f} s, "
                    f"converged (healthy) after {converged[-1]:.2f} s"
                )
                if trial == 0:
                    print("--- the watch's output for this trial ---")
                    print("\n".join(watching.lines[first_header(watching, at) : at + 1]))
                    print("---")
                time.sleep(Timing.stable + 1)  # beyond the "did it hold" window
            print(
                f"docker rm -f {service}: new container running after median "
                f"{statistics.median(running):.2f} s (spread {max(running) - min(running):.2f} s), "
                f"converged after median {statistics.median(converged):.2f} s "
                f"(spread {max(converged) - min(converged):.2f} s), {trials} trials"
            )
            watching.stop(signal.SIGINT)
        finally:
            watching.kill()
            stack.remove_everything()


def one_repair(
    stack: PlainStack,
    watching: Watching,
    service: str,
    at: int,
    running: list[float],
    converged: list[float],
) -> int:
    """`docker rm -f` the service's container; note when a new one runs and when the
    watch converged; return the index of the re-check line after that (idle again)."""
    old = running_id(stack, service)
    start = time.monotonic()
    subprocess.run(["docker", "rm", "-f", str(old)], check=True, capture_output=True)
    wait_for(lambda: running_id(stack, service) not in (None, old), timeout=120, interval=0.05)
    running.append(time.monotonic() - start)
    at = watching.wait_for_line(r"^Converged: ", after=at, timeout=120)
    converged.append(time.monotonic() - start)
    return watching.idle(after=at - 1)


def first_header(watching: Watching, before: int) -> int:
    """The header of the pass that repaired (the last "container ... was removed")."""
    for index in range(before, -1, -1):
        if re.search(r"\] pass \d+: container .* was removed", watching.lines[index]):
            return index
    return max(0, before - 20)


def attempts_per_minute(seconds: float, *args: str) -> None:
    with tempfile.TemporaryDirectory() as root:
        directory = Path(root)
        (directory / "compose").mkdir()
        (directory / "compose/environments.toml").write_text(STORM_TABLE)
        (directory / "compose/compose.yaml").write_text(STORM_COMPOSE)
        stack = PlainStack(directory, "prod", unique_project_name("watch-bench-storm"))
        log = EngineLog(stack.name)
        time.sleep(1)
        since = time.time()
        watching = Watching(stack, *args)
        try:
            time.sleep(seconds)
            spent = time.time() - since
            starts, deaths = log.count("start"), log.count("die")
            base, cap = (float(a) for a in args[1::2]) if args else (None, None)
            timing = Timing(
                backoff_base=base or Timing.backoff_base, backoff_cap=cap or Timing.backoff_cap
            )
            bound = allowed_attempts(spent, timing.backoff_base, timing.backoff_cap)
            print(
                f"a service that dies 2 s after each start, "
                f"{'backoff ' + ' '.join(args) if args else 'default backoff'} "
                f"({timing.backoff_base:g} s doubling, cap {timing.backoff_cap:g} s): "
                f"{starts} attempts (starts), {deaths} deaths in {spent:.0f} s; "
                f"the schedule allows at most {bound}"
            )
            backoffs = re.findall(r"Backing off: .*", watching.text)
            print("\n".join(backoffs))
            watching.stop(signal.SIGTERM)
        finally:
            watching.kill()
            log.close()
            stack.remove_everything()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--service", default="api-gateway")
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--only", choices=["repair", "attempts"], default=None)
    args = parser.parse_args()
    if args.only in (None, "repair"):
        repair_times(args.service, args.trials)
    if args.only in (None, "attempts"):
        attempts_per_minute(args.seconds)
        # for comparison: next to no backoff (0.1 s), what the backoff prevents
        attempts_per_minute(args.seconds, "--backoff", "0.1", "--backoff-max", "0.1")


if __name__ == "__main__":
    main()
