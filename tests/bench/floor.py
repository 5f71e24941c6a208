"""Where `reconcile status` spends its time before it asks the engine anything.

`docker compose ps` is one Go process; `reconcile status` is a Python interpreter that
imports its CLI (click and the plain records it builds; pydantic only on a cache miss)
and then reads the engine over its socket. This section times each layer alone, best of
several runs, so the status row of the comparison can be read against what no change
to our code can remove: the interpreter, the libraries the user chose, and one docker
client call.
Then every command's own import cost (each imports only what it uses) and its time
to exit on a directory holding no project.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
from functools import partial
from pathlib import Path
from typing import Any

from tests.bench.stats import timed

RUNS = 9
COMMAND_RUNS = 5  # per command: 11 commands, two processes each
LAYERS: tuple[tuple[str, list[str]], ...] = (
    ("python interpreter", [sys.executable, "-c", "pass"]),
    ("+ import click", [sys.executable, "-c", "import click"]),
    (
        "+ the records status builds",
        [
            sys.executable,
            "-c",
            "import click, state.model.observed, state.model.desired, state.docker.inspect, "
            "state.resolve.project, reconciler.planner.actions",
        ],
    ),
    ("+ import reconciler.cli.main", [sys.executable, "-c", "import reconciler.cli.main"]),
    ("one docker client call", ["docker", "version", "--format", "{{.Server.Version}}"]),
    # Not on status's path (the records are dataclasses; pydantic validates only what a
    # cache miss reads): what a pydantic import would add, for reference.
    ("(not paid) + import pydantic", [sys.executable, "-c", "import click, pydantic"]),
)


def best(command: list[str]) -> float:
    return min(
        timed(lambda: subprocess.run(command, capture_output=True, check=True)) for _ in range(RUNS)
    )


# Every command, on a directory holding no project: each gets as far as resolving it
# (the name-only ones on to the engine, finding nothing), after its own imports.
COMMANDS: tuple[tuple[str, list[str]], ...] = (
    ("status", ["status"]),
    ("--plan", ["--plan"]),
    ("apply (reconcile)", []),
    ("apply FILE", ["apply", "no-such-plan.json"]),
    ("restart --plan", ["restart", "--plan"]),
    ("stop --plan", ["stop", "--plan"]),
    ("down --plan", ["down", "--plan"]),
    ("logs", ["logs"]),
    ("doctor", ["doctor"]),
    ("init", ["init"]),
    ("watch --plan", ["watch", "--plan"]),
)
TOP_LEVEL = re.compile(r"import time:\s+\d+ \|\s+(\d+) \| (\S+)")  # one space: top level


def import_seconds(stderr: str) -> float:
    """The imports of one process (`python -X importtime`): the top-level ones' sum."""
    return sum(int(m[1]) for m in TOP_LEVEL.finditer(stderr)) / 1e6


def per_command(directory: Path) -> dict[str, dict[str, float]]:
    """Each command's import cost, and its wall time to its first line and exit (here the
    line that says there is no project, or the empty plan), median of COMMAND_RUNS."""
    found = {}
    env = {**os.environ, "APP_ENV": "prod"}
    for label, args in COMMANDS:
        line = [sys.executable, "-m", "reconciler", *args, "--project-directory", str(directory)]
        imports, walls = [], []
        for _ in range(COMMAND_RUNS):
            done = subprocess.run(
                [sys.executable, "-X", "importtime", *line[1:]],
                capture_output=True,
                text=True,
                env=env,
                timeout=60,
            )
            imports.append(import_seconds(done.stderr))
            run = partial(subprocess.run, line, capture_output=True, env=env)
            walls.append(timed(run))
        found[label] = {
            "imports_s": round(statistics.median(imports), 4),
            "to_exit_s": round(statistics.median(walls), 4),
        }
    return found


def main() -> dict[str, Any]:
    """Time each layer (best of RUNS), then each command's imports; print and return them."""
    print(f"status floor: each layer alone, wall seconds, best of {RUNS}")
    found: dict[str, Any] = {}
    for label, command in LAYERS:
        found[label] = round(best(command), 4)
        print(f"  {label:<32} {found[label]:.3f} s")
    print(f"import cost per command (python -X importtime, median of {COMMAND_RUNS}), wall time")
    print("to exit on a directory holding no project (interpreter, imports, resolve):")
    with tempfile.TemporaryDirectory(prefix="spotbench-floor-") as empty:
        commands = per_command(Path(empty))
    for label, cost in commands.items():
        imports, to_exit = cost["imports_s"], cost["to_exit_s"]
        print(f"  {label:<20} imports {imports:.3f} s   to exit {to_exit:.3f} s")
    found["per_command"] = commands
    return found
