"""Where `reconcile status` spends its time before it asks the engine anything.

`docker compose ps` is one Go process; `reconcile status` is a Python interpreter that
imports its CLI (click, pydantic and the models it builds) and then reads the engine
with the docker client. This section times each layer alone, best of several runs, so
the status row of the comparison can be read against what no change to our code can
remove: the interpreter, the libraries the user chose, and one docker client call.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from tests.bench.stats import timed

RUNS = 9
LAYERS: tuple[tuple[str, list[str]], ...] = (
    ("python interpreter", [sys.executable, "-c", "pass"]),
    ("+ import click, pydantic", [sys.executable, "-c", "import click, pydantic"]),
    (
        "+ one trivial pydantic model",
        [sys.executable, "-c", "import click, pydantic\nclass M(pydantic.BaseModel): x: int"],
    ),
    (
        "+ the models status builds",
        [
            sys.executable,
            "-c",
            "import click, state.model.observed, state.model.desired, state.docker.inspect, "
            "state.resolve.project, reconciler.planner.actions",
        ],
    ),
    ("+ import reconciler.cli.main", [sys.executable, "-c", "import reconciler.cli.main"]),
    ("one docker client call", ["docker", "version", "--format", "{{.Server.Version}}"]),
)


def best(command: list[str]) -> float:
    return min(
        timed(lambda: subprocess.run(command, capture_output=True, check=True)) for _ in range(RUNS)
    )


def main() -> dict[str, Any]:
    """Time each layer (best of RUNS); print and return them."""
    print(f"status floor: each layer alone, wall seconds, best of {RUNS}")
    found = {}
    for label, command in LAYERS:
        found[label] = round(best(command), 4)
        print(f"  {label:<32} {found[label]:.3f} s")
    return found
