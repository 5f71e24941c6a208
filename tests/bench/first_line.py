"""What a person waits before anything appears: each command's time to its first line.

Run on a converged project (the plain one of `compare`): the wall time from starting
`reconcile COMMAND` to the first byte on its stdout or stderr, and to its exit, median
of a few runs. The issue's target is 0.15 s to the first line; this prints, never
asserts.
"""

from __future__ import annotations

import os
import selectors
import statistics
import subprocess
import time
from typing import Any

from tests.bench.tools import Ours, _environment

COMMANDS: tuple[tuple[str, ...], ...] = (
    ("status",),
    ("--plan",),
    (),  # reconcile: a no-op apply
    ("restart", "--plan"),
    ("stop", "--plan"),
    ("down", "--plan"),
    ("logs", "--tail", "1"),
)
TARGET_S = 0.15


def first_line(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Seconds to the first output byte (stdout or stderr), and to the exit."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert process.stdout is not None and process.stderr is not None
    first = None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        selector.register(process.stderr, selectors.EVENT_READ)
        while selector.get_map():
            for key, _ in selector.select():
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    selector.unregister(key.fileobj)
                elif first is None:
                    first = time.perf_counter() - start
    process.wait()
    end = time.perf_counter() - start
    return (end if first is None else first), end


def main(ours: Ours, runs: int, app_env: str = "prod") -> dict[str, Any]:
    """Print and return each command's time to first line and to exit (medians)."""
    env = _environment({"APP_ENV": app_env})
    print(f"time to the first line of output (median of {runs}; target < {TARGET_S:.2f} s)")
    found = {}
    for args in COMMANDS:
        samples = [first_line(ours.command(*args), env) for _ in range(runs)]
        label = "reconcile " + (" ".join(args) or "(no-op apply)")
        to_first = statistics.median(s[0] for s in samples)
        to_exit = statistics.median(s[1] for s in samples)
        verdict = "ok" if to_first < TARGET_S else "MISS"
        print(f"  {label:<28} first line {to_first:6.3f} s  exit {to_exit:6.3f} s  {verdict}")
        found[label] = {"first_line_s": round(to_first, 4), "exit_s": round(to_exit, 4)}
    return found
