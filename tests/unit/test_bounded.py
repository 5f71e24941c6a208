"""run_bounded: a command past its bound is ended with everything it started."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from state.process.bounded import run_bounded


def test_a_command_within_its_bound_returns_its_output() -> None:
    done = run_bounded([sys.executable, "-c", "import sys; print('out'); sys.exit(3)"], 30)
    assert (done.returncode, done.stdout) == (3, "out\n")


def test_past_its_bound_the_command_and_its_children_are_ended(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    # A child that outlives its parent's death, as the compose plugin under `docker` would.
    script = f"sleep 60 & echo $! > {pid_file}; wait"
    started = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        run_bounded(["bash", "-c", script], 0.5)
    assert time.monotonic() - started < 5
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 3
    while running(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not running(child), "the command's child outlived the bound"


def running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's zombie waits for whoever adopted it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
