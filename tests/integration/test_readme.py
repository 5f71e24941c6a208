"""The README's everyday and troubleshooting commands, run as written on the real engine.

The lines come from README.md itself (tests/unit/test_readme.py maps each to its
test), in README order, against a copy of the project under a `spotit-...` name with
free ports: a `just` line gets `--project-name NAME --project-directory DIR` appended
(the recipes pass their arguments on), `PROJECT` is the copy's name, and the other
lines run in the copy's directory. Never the default project.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from tests.integration.plain_stack import REPO, PlainStack, reconcile_environment
from tests.unit.test_readme import WORKFLOW, ran_by, shell_environment

# Lines whose documented outcome is another exit code: a plan with changes pending is
# 2; `grep` finds no APP_ENV line in the copy's .env (the README: "no line: prod").
EXIT_CODES = {"APP_ENV=dev just plan": {0, 2}, "grep APP_ENV .env": {0, 1}}
FOLLOWS = {"just dev-logs"}  # runs until Ctrl-C


def as_run(line: str, stack: PlainStack) -> tuple[str, Path]:
    """The line aimed at the copy, and where it runs."""
    words = line.split()
    if "just" in words[:2]:
        return f"{line} --project-name {stack.name} --project-directory {stack.directory}", REPO
    return line.replace("PROJECT", stack.name), stack.directory


def environment() -> dict[str, str]:
    env = shell_environment()
    return {**reconcile_environment(None), "PATH": env["PATH"]}


def follow(script: str, cwd: Path) -> str:
    """Start a following command, return what it printed in its first seconds, end it."""
    proc = subprocess.Popen(
        ["bash", "-c", script],
        cwd=cwd,
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    time.sleep(8)
    os.killpg(proc.pid, signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode != 0 or out, "the follower ended by itself"
    return out


def test_readme_workflows_run_on_a_copy_of_the_stack(stack: PlainStack) -> None:
    lines = ran_by(WORKFLOW)
    assert "just down --volumes --yes" in lines and "APP_ENV=dev just up" in lines
    outputs: list[tuple[str, str]] = []
    for line in lines:
        script, cwd = as_run(line, stack)
        if line in FOLLOWS:
            out = follow(script, cwd)
            assert "api-gateway" in out, out
            outputs.append((line, out))
            continue
        result = subprocess.run(
            ["bash", "-c", script],
            cwd=cwd,
            env=environment(),
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode in EXIT_CODES.get(line, {0}), (line, result.stdout, result.stderr)
        outputs.append((line, result.stdout))
    said = dict(outputs)  # the last output of each line
    ups = [out for line, out in outputs if line == "APP_ENV=dev just up"]
    assert "No changes" in ups[1], ups[1]  # the README: again, "No changes"
    assert said["docker compose -p PROJECT exec api-gateway env | grep APP_ENV"] == "APP_ENV=dev\n"
    assert "Converged: APP_ENV=prod" in said["just up"]  # after down: a fresh start
